package store

import (
	"context"
	"time"
)

// Connector is a registered MCP server (Connectors API). Secrets (its
// headers) are stored sealed: Headers is ciphertext, never clear text.
type Connector struct {
	ID           string
	WorkspaceID  string
	Name         string // unique per workspace
	Title        *string
	Description  string
	Server       string // the MCP endpoint URL
	IconURL      *string
	SystemPrompt *string
	Visibility   string
	// Transport is "" or "streamable" (Streamable HTTP) or "sse" (legacy SSE).
	Transport string
	// Headers is the sealed JSON object of headers sent to the server.
	Headers   []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ConnectorCredential is a named credential of a connector in a workspace.
// Secret is sealed (ciphertext of a JSON object).
type ConnectorCredential struct {
	ConnectorID string
	WorkspaceID string
	Name        string
	Title       *string
	AuthType    string // "bearer" or "none" (headers only)
	IsDefault   bool
	Secret      []byte
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ConnectorStore persists connectors and their credentials. Every lookup is
// scoped by workspace.
type ConnectorStore interface {
	// CreateConnector inserts c; a name already used in the workspace is
	// ErrConflict.
	CreateConnector(ctx context.Context, c *Connector) error
	// GetConnector finds a connector by id or, failing that, by name.
	GetConnector(ctx context.Context, workspaceID, idOrName string) (*Connector, error)
	// ListConnectors lists connectors by id order, starting after the id
	// afterID ("" for the first page), at most limit of them.
	ListConnectors(ctx context.Context, workspaceID, afterID string, limit int) ([]Connector, error)
	// UpdateConnector rewrites every mutable field of c (by id).
	UpdateConnector(ctx context.Context, c *Connector) error
	// DeleteConnector removes the connector and its credentials.
	DeleteConnector(ctx context.Context, workspaceID, id string) error

	// PutCredential inserts cr, or with replace updates the existing one
	// of that name. Without replace an existing name is ErrConflict; with
	// replace a missing one is ErrNotFound.
	PutCredential(ctx context.Context, cr *ConnectorCredential, replace bool) error
	ListCredentials(ctx context.Context, workspaceID, connectorID string) ([]ConnectorCredential, error)
	DeleteCredential(ctx context.Context, workspaceID, connectorID, name string) error
}
