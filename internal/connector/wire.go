package connector

import (
	"encoding/json"
	"time"
)

// Wire is the SDKs' MCPConnector: a connector as the API returns it. Header
// values and credentials never appear in it.
type Wire struct {
	ID                    string           `json:"id"`
	Name                  string           `json:"name"`
	Title                 *string          `json:"title"`
	Description           string           `json:"description"`
	CreatedAt             time.Time        `json:"created_at"`
	ModifiedAt            time.Time        `json:"modified_at"`
	Server                *string          `json:"server"`
	IconURL               *string          `json:"icon_url"`
	OwnerID               *string          `json:"owner_id"`
	OwnerType             string           `json:"owner_type"`
	Visibility            string           `json:"visibility"`
	SystemPrompt          *string          `json:"system_prompt"`
	ConnectionCredentials []CredentialWire `json:"connection_credentials,omitempty"`
	Active                *bool            `json:"active"`
	PrivateToolExecution  bool             `json:"private_tool_execution"`
	SupportsMCP           bool             `json:"supports_mcp"` // required by mistralai 3.x
	Mistral               bool             `json:"mistral"`
	Protocol              string           `json:"protocol"`
}

// CredentialWire is the SDKs' AuthenticationConfiguration: a credential's
// name and kind, never its secret.
type CredentialWire struct {
	Name               string  `json:"name"`
	Title              *string `json:"title"`
	AuthenticationType string  `json:"authentication_type"`
	Scope              string  `json:"scope"`
	IsDefault          bool    `json:"is_default"`
}

// Page is the SDKs' PaginatedConnectors.
type Page struct {
	Items      []Wire     `json:"items"`
	Pagination Pagination `json:"pagination"`
}

// Pagination is a cursor page's position.
type Pagination struct {
	NextCursor *string `json:"next_cursor"`
	PageSize   int     `json:"page_size"`
}

// CreateRequest is the body of POST /v1/connectors (CreateConnectorRequest).
type CreateRequest struct {
	Protocol                *string           `json:"protocol"`
	Name                    *string           `json:"name"`
	Title                   *string           `json:"title"`
	Description             *string           `json:"description"`
	IconURL                 *string           `json:"icon_url"`
	Server                  *string           `json:"server"`
	Headers                 map[string]any    `json:"headers"`
	Visibility              *string           `json:"visibility"`
	SystemPrompt            *string           `json:"system_prompt"`
	AuthMethods             []json.RawMessage `json:"auth_methods"`
	GlobalHeaders           json.RawMessage   `json:"global_headers"`
	AuthData                json.RawMessage   `json:"auth_data"`
	OAuth2ServerMetadata    json.RawMessage   `json:"oauth2_server_metadata"`
	OAuth2ServerMetadataURL json.RawMessage   `json:"oauth2_server_metadata_url"`
	// Transport is a Tramontane extension: "streamable" (default) or "sse".
	Transport *string `json:"transport"`
}

// UpdateRequest is the body of PATCH /v1/connectors/{id}
// (ConnectorMCPPublicUpdate). Absent or null keys keep their value.
type UpdateRequest struct {
	Protocol     *string           `json:"protocol"`
	Name         *string           `json:"name"`
	Title        *string           `json:"title"`
	Description  *string           `json:"description"`
	IconURL      *string           `json:"icon_url"`
	Server       *string           `json:"server"`
	SystemPrompt *string           `json:"system_prompt"`
	Headers      map[string]any    `json:"headers"`
	AuthMethods  []json.RawMessage `json:"auth_methods"`
	Transport    *string           `json:"transport"`
}

// CredentialsRequest is CredentialsCreateOrUpdate.
type CredentialsRequest struct {
	Name        *string `json:"name"`
	Title       *string `json:"title"`
	IsDefault   *bool   `json:"is_default"`
	Credentials *struct {
		Headers     map[string]string `json:"headers"`
		BearerToken *string           `json:"bearer_token"`
		OAuth       json.RawMessage   `json:"oauth"`
	} `json:"credentials"`
}

// CredentialsResponse is the SDKs' CredentialsResponse.
type CredentialsResponse struct {
	Credentials []CredentialWire `json:"credentials"`
}

// CallResponse is the SDKs' ConnectorToolCallResponse: the MCP result's
// content blocks as the server sent them (text, image, audio, resource_link,
// resource), plus isError and structuredContent when present.
type CallResponse struct {
	Content           []json.RawMessage `json:"content"`
	IsError           bool              `json:"isError,omitempty"`
	StructuredContent any               `json:"structuredContent,omitempty"`
	Metadata          map[string]any    `json:"metadata,omitempty"`
}
