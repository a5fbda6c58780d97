package client

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Connector is a registered MCP server whose tools agents and conversations
// can use (a "connector" tool naming its ID). Header values and credential
// secrets never appear in it.
type Connector struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Title       string    `json:"title,omitempty"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	ModifiedAt  time.Time `json:"modified_at"`
	// Server is the URL of the MCP endpoint.
	Server       string `json:"server,omitempty"`
	IconURL      string `json:"icon_url,omitempty"`
	OwnerID      string `json:"owner_id,omitempty"`
	OwnerType    string `json:"owner_type"`
	Visibility   string `json:"visibility"`
	SystemPrompt string `json:"system_prompt,omitempty"`
	// ConnectionCredentials are the connector's named credentials (without
	// their secrets).
	ConnectionCredentials []ConnectorCredential `json:"connection_credentials,omitempty"`
	Active                *bool                 `json:"active,omitempty"`
	PrivateToolExecution  bool                  `json:"private_tool_execution"`
	SupportsMCP           bool                  `json:"supports_mcp"`
	Protocol              string                `json:"protocol"`
}

// ConnectorCredential is a credential's name and kind, never its secret.
type ConnectorCredential struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
	// AuthenticationType is "none" or "bearer".
	AuthenticationType string `json:"authentication_type"`
	Scope              string `json:"scope"`
	IsDefault          bool   `json:"is_default"`
}

// ConnectorCreateRequest is the body of Connectors.Create. Name,
// Description and Server are required; Protocol defaults to "mcp".
type ConnectorCreateRequest struct {
	Protocol    string `json:"protocol"`
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description"`
	IconURL     string `json:"icon_url,omitempty"`
	// Server is the URL of the MCP endpoint.
	Server string `json:"server"`
	// Headers are sent with every request to the server (kept secret).
	Headers map[string]string `json:"headers,omitempty"`
	// Visibility is "private" (the default) or "shared_workspace".
	Visibility   string `json:"visibility,omitempty"`
	SystemPrompt string `json:"system_prompt,omitempty"`
	// Transport is a Tramontane extension: "streamable" (the default) or
	// "sse" for servers that speak the older SSE transport.
	Transport string `json:"transport,omitempty"`
}

// ConnectorUpdateRequest is the body of Connectors.Update: nil fields keep
// their value. Non-nil Headers replace every header (an empty, non-nil map
// removes them all).
type ConnectorUpdateRequest struct {
	Protocol     string            `json:"protocol,omitempty"`
	Name         *string           `json:"name,omitempty"`
	Title        *string           `json:"title,omitempty"`
	Description  *string           `json:"description,omitempty"`
	IconURL      *string           `json:"icon_url,omitempty"`
	Server       *string           `json:"server,omitempty"`
	SystemPrompt *string           `json:"system_prompt,omitempty"`
	Headers      map[string]string `json:"headers,omitzero"`
	Transport    *string           `json:"transport,omitempty"`
}

// ConnectorListOptions page Connectors.List: Cursor is the NextCursor of
// the previous page ("" for the first); PageSize defaults to 100.
type ConnectorListOptions struct {
	Cursor   string
	PageSize int
}

// ConnectorPage is one page of connectors.
type ConnectorPage struct {
	Items []Connector `json:"items"`
	// Pagination.NextCursor is nil on the last page.
	Pagination struct {
		NextCursor *string `json:"next_cursor"`
		PageSize   int     `json:"page_size"`
	} `json:"pagination"`
}

// MCPTool is one tool of a connector's MCP server, as the server
// describes it (the Python SDK's MCPTool).
type MCPTool struct {
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	// InputSchema is the JSON schema of the tool's arguments.
	InputSchema  json.RawMessage `json:"inputSchema,omitempty"`
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
	Annotations  json.RawMessage `json:"annotations,omitempty"`
}

// ConnectorToolsOptions narrow Connectors.ListTools. Page counts from 1;
// PageSize defaults to 100. Refresh asks the MCP server again instead of
// using the server's cached list. CredentialsName picks a named credential
// (else the default one).
type ConnectorToolsOptions struct {
	Page, PageSize  int
	Refresh         bool
	CredentialsName string
}

// ConnectorContent is one content block of a tool result: Type is "text"
// (Text), "image" or "audio" (base64 Data, MimeType), "resource_link" (URI,
// Name) or "resource" (Resource). Raw is the block as the server sent it.
type ConnectorContent struct {
	Type     string          `json:"type"`
	Text     string          `json:"text,omitempty"`
	Data     string          `json:"data,omitempty"`
	MimeType string          `json:"mimeType,omitempty"`
	URI      string          `json:"uri,omitempty"`
	Name     string          `json:"name,omitempty"`
	Resource json.RawMessage `json:"resource,omitempty"`
	Raw      json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a block and keeps it whole in Raw.
func (c *ConnectorContent) UnmarshalJSON(b []byte) error {
	type plain ConnectorContent
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*c = ConnectorContent(p)
	c.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// ConnectorToolResult is what a direct tool call returned. IsError is set
// when the tool reported a failure (its content says why).
type ConnectorToolResult struct {
	Content           []ConnectorContent `json:"content"`
	IsError           bool               `json:"isError,omitempty"`
	StructuredContent json.RawMessage    `json:"structuredContent,omitempty"`
	Metadata          map[string]any     `json:"metadata,omitempty"`
}

// Text joins the result's text blocks with newlines.
func (r *ConnectorToolResult) Text() string {
	var parts []string
	for _, c := range r.Content {
		if c.Type == "text" {
			parts = append(parts, c.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// ConnectorCredentialsRequest creates or updates a named credential.
// The first credential of a connector becomes its default one.
type ConnectorCredentialsRequest struct {
	Name      string `json:"name"`
	Title     string `json:"title,omitempty"`
	IsDefault *bool  `json:"is_default,omitempty"`
	// BearerToken is sent as "Authorization: Bearer …" to the server.
	BearerToken string `json:"-"`
	// Headers are sent with every request to the server.
	Headers map[string]string `json:"-"`
}

// MarshalJSON puts BearerToken and Headers under "credentials", as the API
// expects.
func (r ConnectorCredentialsRequest) MarshalJSON() ([]byte, error) {
	type plain ConnectorCredentialsRequest
	type secret struct {
		Headers     map[string]string `json:"headers,omitempty"`
		BearerToken string            `json:"bearer_token,omitempty"`
	}
	var sec *secret
	if len(r.Headers) > 0 || r.BearerToken != "" {
		sec = &secret{r.Headers, r.BearerToken}
	}
	return json.Marshal(struct {
		plain
		Credentials *secret `json:"credentials,omitempty"`
	}{plain(r), sec})
}

// credentialsScope is the only credentials scope Tramontane keeps (there
// are no per-user credentials); Mistral's API also knows "user" and
// "organization".
const credentialsScope = "workspace"

// ConnectorsService is the connectors API: MCP servers registered in a
// workspace, their tools and credentials.
type ConnectorsService struct{ c *Client }

// Create registers a connector.
func (s *ConnectorsService) Create(ctx context.Context, req ConnectorCreateRequest) (*Connector, error) {
	if req.Protocol == "" {
		req.Protocol = "mcp"
	}
	var c Connector
	return &c, s.c.do(ctx, request{method: "POST", path: "/v1/connectors", body: req}, &c)
}

// Get returns a connector by ID or name.
func (s *ConnectorsService) Get(ctx context.Context, idOrName string) (*Connector, error) {
	var c Connector
	q := url.Values{"fetch_user_data": {"false"}} // as the Python SDK sends it
	return &c, s.c.do(ctx, request{method: "GET", path: pathf("/v1/connectors/%s", idOrName), query: q}, &c)
}

// List returns one page of the connectors the caller can use (the first
// page also holds those the server's operator defined).
func (s *ConnectorsService) List(ctx context.Context, opts *ConnectorListOptions) (*ConnectorPage, error) {
	if opts == nil {
		opts = &ConnectorListOptions{}
	}
	size := opts.PageSize
	if size <= 0 {
		size = 100
	}
	q := url.Values{"page_size": {strconv.Itoa(size)}}
	if opts.Cursor != "" {
		q.Set("cursor", opts.Cursor)
	}
	var p ConnectorPage
	return &p, s.c.do(ctx, request{method: "GET", path: "/v1/connectors", query: q}, &p)
}

// All iterates over every connector, fetching pages of pageSize (0: the
// server's default) as the loop goes.
func (s *ConnectorsService) All(ctx context.Context, pageSize int) iter.Seq2[Connector, error] {
	return func(yield func(Connector, error) bool) {
		opts := &ConnectorListOptions{PageSize: pageSize}
		for {
			p, err := s.List(ctx, opts)
			if err != nil {
				yield(Connector{}, err)
				return
			}
			for _, c := range p.Items {
				if !yield(c, nil) {
					return
				}
			}
			next := p.Pagination.NextCursor
			if next == nil || *next == "" || *next == opts.Cursor {
				return
			}
			opts.Cursor = *next
		}
	}
}

// Update changes a connector (by ID or name).
func (s *ConnectorsService) Update(ctx context.Context, idOrName string, req ConnectorUpdateRequest) (*Connector, error) {
	if req.Protocol == "" {
		req.Protocol = "mcp"
	}
	var c Connector
	return &c, s.c.do(ctx, request{method: "PATCH", path: pathf("/v1/connectors/%s", idOrName), body: req}, &c)
}

// Delete removes a connector and its credentials.
func (s *ConnectorsService) Delete(ctx context.Context, idOrName string) error {
	return s.c.do(ctx, request{method: "DELETE", path: pathf("/v1/connectors/%s", idOrName)}, nil)
}

// ListTools returns the tools of a connector's MCP server (one page).
func (s *ConnectorsService) ListTools(ctx context.Context, idOrName string, opts *ConnectorToolsOptions) ([]MCPTool, error) {
	if opts == nil {
		opts = &ConnectorToolsOptions{}
	}
	size := opts.PageSize
	if size <= 0 {
		size = 100
	}
	// The Python SDK always sends page_size, refresh and pretty.
	q := url.Values{"page_size": {strconv.Itoa(size)}, "refresh": {strconv.FormatBool(opts.Refresh)}, "pretty": {"false"}}
	if opts.Page > 0 {
		q.Set("page", strconv.Itoa(opts.Page))
	}
	if opts.CredentialsName != "" {
		q.Set("credentials_name", opts.CredentialsName)
	}
	var out []MCPTool
	return out, s.c.do(ctx, request{method: "GET", path: pathf("/v1/connectors/%s/tools", idOrName), query: q}, &out)
}

// CallTool calls one tool of a connector directly, outside any
// conversation. args is encoded as a JSON object (nil: no arguments);
// credentialsName picks a named credential ("" for the default one).
func (s *ConnectorsService) CallTool(ctx context.Context, idOrName, tool string, args any, credentialsName string) (*ConnectorToolResult, error) {
	raw := json.RawMessage("{}")
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return nil, fmt.Errorf("client: encoding the arguments of %s: %w", tool, err)
		}
		raw = b
	}
	var q url.Values
	if credentialsName != "" {
		q = url.Values{"credentials_name": {credentialsName}}
	}
	body := struct {
		Arguments json.RawMessage `json:"arguments"`
	}{raw}
	var res ConnectorToolResult
	path := pathf("/v1/connectors/%s/tools/%s/call", idOrName, tool)
	return &res, s.c.do(ctx, request{method: "POST", path: path, query: q, body: body}, &res)
}

// CreateCredentials adds a named credential to a connector.
func (s *ConnectorsService) CreateCredentials(ctx context.Context, idOrName string, req ConnectorCredentialsRequest) error {
	return s.c.do(ctx, request{method: "POST", path: pathf("/v1/connectors/%s/%s/credentials", idOrName, credentialsScope), body: req}, nil)
}

// UpdateCredentials replaces the secret of a named credential.
func (s *ConnectorsService) UpdateCredentials(ctx context.Context, idOrName string, req ConnectorCredentialsRequest) error {
	return s.c.do(ctx, request{method: "PATCH", path: pathf("/v1/connectors/%s/%s/credentials", idOrName, credentialsScope), body: req}, nil)
}

// ListCredentials lists a connector's credentials, without their secrets.
func (s *ConnectorsService) ListCredentials(ctx context.Context, idOrName string) ([]ConnectorCredential, error) {
	var out struct {
		Credentials []ConnectorCredential `json:"credentials"`
	}
	q := url.Values{"fetch_default": {"false"}} // as the Python SDK sends it
	err := s.c.do(ctx, request{method: "GET", path: pathf("/v1/connectors/%s/%s/credentials", idOrName, credentialsScope), query: q}, &out)
	return out.Credentials, err
}

// DeleteCredentials removes a named credential.
func (s *ConnectorsService) DeleteCredentials(ctx context.Context, idOrName, name string) error {
	return s.c.do(ctx, request{method: "DELETE", path: pathf("/v1/connectors/%s/%s/credentials/%s", idOrName, credentialsScope, name)}, nil)
}
