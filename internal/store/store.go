// Package store defines Tramontane's persistence boundary: the records it
// keeps and the Store interface that the SQLite and PostgreSQL backends
// (package sqlstore) implement. Every record belongs to a workspace, and every
// lookup is scoped by workspace, so another workspace's record is simply not
// found.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrNotFound is returned when a record does not exist in the workspace.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when a write violates a uniqueness rule.
var ErrConflict = errors.New("store: conflict")

// Workspace groups keys and resources. Resources never cross workspaces.
type Workspace struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// APIKey is a named, revocable credential. Only its hash is stored.
type APIKey struct {
	ID          string
	WorkspaceID string
	Name        string
	Prefix      string // first characters of the key, for display
	Hash        string // hex SHA-256 of the full key
	CreatedAt   time.Time
	RevokedAt   *time.Time
	LastUsedAt  *time.Time
	// Limits; zero means "no limit" (or the tier's limit when Tier is set).
	RPS  float64
	TPM  int64
	Tier string
}

// Agent is an agent's identity plus the version currently active.
type Agent struct {
	ID            string
	WorkspaceID   string
	ActiveVersion int
	Versions      []int
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// Version is the configuration of the version this record represents.
	Version AgentVersion
}

// AgentVersion is one immutable configuration of an agent.
type AgentVersion struct {
	Version int
	Name    string
	Model   string
	Source  string
	// Config is the JSON of the version's configurable fields
	// (instructions, tools, completion_args, guardrails, description,
	// handoffs, metadata, version_message, deployment_chat).
	Config    json.RawMessage
	Metadata  json.RawMessage // copy of Config.metadata, for filtering; may be nil
	CreatedAt time.Time
}

// AgentAlias points a name at one version of an agent.
type AgentAlias struct {
	AgentID   string
	Alias     string
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AgentFilter selects agents in List. Zero values mean "any".
type AgentFilter struct {
	Name           string
	Search         string // substring of name, or exact id
	ID             string
	Sources        []string
	DeploymentChat *bool
	Metadata       map[string]json.RawMessage // all must be equal
}

// Page is a 0-based offset page.
type Page struct {
	Offset int
	Limit  int
}

// File is a stored blob's metadata (Files API).
type File struct {
	ID          string
	WorkspaceID string
	Filename    string
	Bytes       int64
	Purpose     string
	SampleType  string
	Source      string
	MimeType    string
	NumLines    *int64
	Signature   string // hex SHA-256 of the content
	Visibility  string
	CreatedAt   time.Time
	ExpiresAt   *time.Time
	StorageKey  string
}

// FileFilter selects files in ListFiles.
type FileFilter struct {
	Purpose     string
	Search      string
	SampleTypes []string
	Sources     []string
	MimeTypes   []string
}

// Store is the persistence interface. Implementations must be safe for
// concurrent use.
type Store interface {
	// Ping reports whether the database is reachable.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error

	EnsureWorkspace(ctx context.Context, name string) (*Workspace, error)
	GetWorkspace(ctx context.Context, id string) (*Workspace, error)

	CreateKey(ctx context.Context, k *APIKey) error
	// KeyByHash returns the key (revoked or not) whose hash matches.
	KeyByHash(ctx context.Context, hash string) (*APIKey, error)
	ListKeys(ctx context.Context, workspaceID string) ([]APIKey, error)
	// RevokeKey marks the key revoked; id may be the key id or its prefix.
	RevokeKey(ctx context.Context, id string, at time.Time) error
	TouchKey(ctx context.Context, id string, at time.Time) error

	// CreateAgent inserts a new agent with its version 0 active.
	CreateAgent(ctx context.Context, a *Agent) error
	// GetAgent returns the agent at version; version < 0 means the active one.
	GetAgent(ctx context.Context, workspaceID, id string, version int) (*Agent, error)
	// AddAgentVersion appends a version (its number must be max+1) and makes it active.
	AddAgentVersion(ctx context.Context, workspaceID, id string, v *AgentVersion) error
	// SetActiveVersion switches the active version.
	SetActiveVersion(ctx context.Context, workspaceID, id string, version int, at time.Time) error
	ListAgents(ctx context.Context, workspaceID string, f AgentFilter, p Page) ([]Agent, error)
	// ListAgentVersions returns every version, newest first.
	ListAgentVersions(ctx context.Context, workspaceID, id string, p Page) ([]Agent, error)
	DeleteAgent(ctx context.Context, workspaceID, id string) error

	UpsertAlias(ctx context.Context, workspaceID string, al *AgentAlias) error
	GetAlias(ctx context.Context, workspaceID, agentID, alias string) (*AgentAlias, error)
	ListAliases(ctx context.Context, workspaceID, agentID string) ([]AgentAlias, error)
	DeleteAlias(ctx context.Context, workspaceID, agentID, alias string) error

	CreateFile(ctx context.Context, f *File) error
	GetFile(ctx context.Context, workspaceID, id string) (*File, error)
	// GetFileAnyWorkspace is used by signed URLs, which carry no workspace.
	GetFileAnyWorkspace(ctx context.Context, id string) (*File, error)
	ListFiles(ctx context.Context, workspaceID string, f FileFilter, p Page) ([]File, int, error)
	DeleteFile(ctx context.Context, workspaceID, id string) error

	// Secret returns the named server secret, storing gen() first if there
	// is none yet, so that every instance sharing the database agrees on it.
	Secret(ctx context.Context, name string, gen func() string) (string, error)

	ConversationStore
	LibraryStore
}
