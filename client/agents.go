package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/url"
	"strconv"
	"time"
)

// Tool is one tool of an agent or a model conversation: a client-side
// function, or a built-in connector ("web_search", "web_search_premium",
// "code_interpreter", "image_generation", "document_library",
// "connector"). Type says which fields are meaningful.
type Tool struct {
	Type              string             `json:"type"`
	Function          *FunctionSpec      `json:"function,omitempty"`
	LibraryIDs        []string           `json:"library_ids,omitempty"`
	ConnectorID       string             `json:"connector_id,omitempty"`
	Authorization     json.RawMessage    `json:"authorization,omitempty"`
	ToolConfiguration *ToolConfiguration `json:"tool_configuration,omitempty"`
}

// FunctionSpec describes a client-side function to the model.
type FunctionSpec struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Parameters is the JSON schema of the arguments.
	Parameters json.RawMessage `json:"parameters"`
	Strict     *bool           `json:"strict,omitempty"`
}

// ToolConfiguration narrows a tool's names and lists those that need the
// user's confirmation before they run.
type ToolConfiguration struct {
	Include              []string `json:"include,omitempty"`
	Exclude              []string `json:"exclude,omitempty"`
	RequiresConfirmation []string `json:"requires_confirmation,omitempty"`
}

// FunctionTool returns a function tool; parameters is a JSON schema.
func FunctionTool(name, description string, parameters json.RawMessage) Tool {
	return Tool{Type: "function", Function: &FunctionSpec{Name: name, Description: description, Parameters: parameters}}
}

// BuiltinTool returns a built-in connector tool, e.g. BuiltinTool("web_search").
func BuiltinTool(name string) Tool { return Tool{Type: name} }

// DocumentLibraryTool returns a document_library tool over libraries.
func DocumentLibraryTool(libraryIDs ...string) Tool {
	return Tool{Type: "document_library", LibraryIDs: libraryIDs}
}

// CompletionArgs are sampling settings. Nil fields are not sent.
type CompletionArgs struct {
	Stop             json.RawMessage `json:"stop,omitempty"`
	PresencePenalty  *float64        `json:"presence_penalty,omitempty"`
	FrequencyPenalty *float64        `json:"frequency_penalty,omitempty"`
	Temperature      *float64        `json:"temperature,omitempty"`
	TopP             *float64        `json:"top_p,omitempty"`
	MaxTokens        *int            `json:"max_tokens,omitempty"`
	RandomSeed       *int            `json:"random_seed,omitempty"`
	Prediction       json.RawMessage `json:"prediction,omitempty"`
	ResponseFormat   json.RawMessage `json:"response_format,omitempty"`
	ToolChoice       string          `json:"tool_choice,omitempty"`
	ReasoningEffort  string          `json:"reasoning_effort,omitempty"`
}

// Ptr returns a pointer to v, for optional fields.
func Ptr[T any](v T) *T { return &v }

// Agent is an agent at one version.
type Agent struct {
	Object         string          `json:"object"`
	ID             string          `json:"id"`
	Model          string          `json:"model"`
	Name           string          `json:"name"`
	Version        int             `json:"version"`
	Versions       []int           `json:"versions"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	DeploymentChat bool            `json:"deployment_chat"`
	Source         string          `json:"source"`
	Instructions   string          `json:"instructions,omitempty"`
	Tools          []Tool          `json:"tools"`
	CompletionArgs *CompletionArgs `json:"completion_args,omitempty"`
	Guardrails     json.RawMessage `json:"guardrails,omitempty"`
	Description    string          `json:"description,omitempty"`
	Handoffs       []string        `json:"handoffs,omitempty"`
	Metadata       map[string]any  `json:"metadata,omitempty"`
	VersionMessage string          `json:"version_message,omitempty"`
}

// AgentCreateRequest is the body of Agents.Create. Model and Name are
// required.
type AgentCreateRequest struct {
	Model          string          `json:"model" yaml:"model"`
	Name           string          `json:"name" yaml:"name"`
	Instructions   string          `json:"instructions,omitempty" yaml:"instructions"`
	Tools          []Tool          `json:"tools,omitempty" yaml:"tools"`
	CompletionArgs *CompletionArgs `json:"completion_args,omitempty" yaml:"completion_args"`
	Guardrails     json.RawMessage `json:"guardrails,omitempty" yaml:"-"`
	Description    string          `json:"description,omitempty" yaml:"description"`
	Handoffs       []string        `json:"handoffs,omitempty" yaml:"handoffs"`
	Metadata       map[string]any  `json:"metadata,omitempty" yaml:"metadata"`
	VersionMessage string          `json:"version_message,omitempty" yaml:"version_message"`
}

// AgentUpdateRequest is the body of Agents.Update: nil fields keep their
// value (Ptr([]Tool{}) removes every tool). Every update creates a new
// version, which becomes active.
type AgentUpdateRequest struct {
	Model          *string         `json:"model,omitempty"`
	Name           *string         `json:"name,omitempty"`
	Instructions   *string         `json:"instructions,omitempty"`
	Tools          *[]Tool         `json:"tools,omitempty"`
	CompletionArgs *CompletionArgs `json:"completion_args,omitempty"`
	Guardrails     json.RawMessage `json:"guardrails,omitempty"`
	Description    *string         `json:"description,omitempty"`
	Handoffs       *[]string       `json:"handoffs,omitempty"`
	DeploymentChat *bool           `json:"deployment_chat,omitempty"`
	Metadata       map[string]any  `json:"metadata,omitempty"`
	VersionMessage *string         `json:"version_message,omitempty"`
}

// AgentAlias points a name at one version of an agent.
type AgentAlias struct {
	Alias     string    `json:"alias"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// AgentListOptions filter and page Agents.List and Agents.All.
type AgentListOptions struct {
	// Page is 0-based (List only); PageSize defaults to 20.
	Page, PageSize int
	// Name keeps agents with exactly this name; Search matches names and ids.
	Name, Search string
	// Metadata keeps agents whose metadata has all these key/values.
	Metadata map[string]any
}

func (o *AgentListOptions) query(paged bool) url.Values {
	q := url.Values{}
	if o == nil {
		o = &AgentListOptions{}
	}
	if paged {
		q.Set("page", strconv.Itoa(o.Page))
	}
	size := o.PageSize
	if size <= 0 {
		size = 20
	}
	q.Set("page_size", strconv.Itoa(size))
	if o.Name != "" {
		q.Set("name", o.Name)
	}
	if o.Search != "" {
		q.Set("search", o.Search)
	}
	if len(o.Metadata) > 0 {
		b, _ := json.Marshal(o.Metadata)
		q.Set("metadata", string(b))
	}
	return q
}

// AgentsService is the agents API.
type AgentsService struct{ c *Client }

// Create creates an agent at version 0.
func (s *AgentsService) Create(ctx context.Context, req AgentCreateRequest) (*Agent, error) {
	var a Agent
	return &a, s.c.do(ctx, request{method: "POST", path: "/v1/agents", body: req}, &a)
}

// List returns one page of agents (newest first).
func (s *AgentsService) List(ctx context.Context, opts *AgentListOptions) ([]Agent, error) {
	var out []Agent
	return out, s.c.do(ctx, request{method: "GET", path: "/v1/agents", query: opts.query(true)}, &out)
}

// All iterates over every agent, fetching pages by cursor
// (GET /v1/agents/pages) as the loop goes. Page is ignored.
func (s *AgentsService) All(ctx context.Context, opts *AgentListOptions) iter.Seq2[Agent, error] {
	return func(yield func(Agent, error) bool) {
		q := opts.query(false)
		size, _ := strconv.Atoi(q.Get("page_size"))
		for {
			var page struct {
				Data          []Agent `json:"data"`
				NextPageToken *string `json:"next_page_token"`
			}
			if err := s.c.do(ctx, request{method: "GET", path: "/v1/agents/pages", query: q}, &page); err != nil {
				yield(Agent{}, err)
				return
			}
			for _, a := range page.Data {
				if !yield(a, nil) {
					return
				}
			}
			if page.NextPageToken == nil || *page.NextPageToken == "" || len(page.Data) == 0 || len(page.Data) < size {
				return
			}
			q.Set("page_token", *page.NextPageToken)
		}
	}
}

// Get returns an agent at its active version.
func (s *AgentsService) Get(ctx context.Context, agentID string) (*Agent, error) {
	return s.GetAt(ctx, agentID, "")
}

// GetAt returns an agent at a version number or alias ("" for the active
// version).
func (s *AgentsService) GetAt(ctx context.Context, agentID, versionOrAlias string) (*Agent, error) {
	var q url.Values
	if versionOrAlias != "" {
		q = url.Values{"agent_version": {versionOrAlias}}
	}
	var a Agent
	return &a, s.c.do(ctx, request{method: "GET", path: pathf("/v1/agents/%s", agentID), query: q}, &a)
}

// Update applies a partial update, creating a new active version.
func (s *AgentsService) Update(ctx context.Context, agentID string, req AgentUpdateRequest) (*Agent, error) {
	var a Agent
	return &a, s.c.do(ctx, request{method: "PATCH", path: pathf("/v1/agents/%s", agentID), body: req}, &a)
}

// Delete deletes an agent and all its versions.
func (s *AgentsService) Delete(ctx context.Context, agentID string) error {
	return s.c.do(ctx, request{method: "DELETE", path: pathf("/v1/agents/%s", agentID)}, nil)
}

// SetActiveVersion makes an existing version the active one.
func (s *AgentsService) SetActiveVersion(ctx context.Context, agentID string, version int) (*Agent, error) {
	var a Agent
	q := url.Values{"version": {strconv.Itoa(version)}}
	return &a, s.c.do(ctx, request{method: "PATCH", path: pathf("/v1/agents/%s/version", agentID), query: q}, &a)
}

// ListVersions returns one page (0-based) of an agent's versions.
func (s *AgentsService) ListVersions(ctx context.Context, agentID string, page, pageSize int) ([]Agent, error) {
	if pageSize <= 0 {
		pageSize = 20
	}
	q := url.Values{"page": {strconv.Itoa(page)}, "page_size": {strconv.Itoa(pageSize)}}
	var out []Agent
	return out, s.c.do(ctx, request{method: "GET", path: pathf("/v1/agents/%s/versions", agentID), query: q}, &out)
}

// GetVersion returns one version of an agent.
func (s *AgentsService) GetVersion(ctx context.Context, agentID string, version int) (*Agent, error) {
	var a Agent
	return &a, s.c.do(ctx, request{method: "GET", path: pathf("/v1/agents/%s/versions/%s", agentID, strconv.Itoa(version))}, &a)
}

// SetAlias creates an alias, or points an existing one at version.
func (s *AgentsService) SetAlias(ctx context.Context, agentID, alias string, version int) (*AgentAlias, error) {
	var a AgentAlias
	q := url.Values{"alias": {alias}, "version": {strconv.Itoa(version)}}
	return &a, s.c.do(ctx, request{method: "PUT", path: pathf("/v1/agents/%s/aliases", agentID), query: q}, &a)
}

// ListAliases returns an agent's aliases.
func (s *AgentsService) ListAliases(ctx context.Context, agentID string) ([]AgentAlias, error) {
	var out []AgentAlias
	return out, s.c.do(ctx, request{method: "GET", path: pathf("/v1/agents/%s/aliases", agentID)}, &out)
}

// DeleteAlias removes an alias.
func (s *AgentsService) DeleteAlias(ctx context.Context, agentID, alias string) error {
	q := url.Values{"alias": {alias}}
	return s.c.do(ctx, request{method: "DELETE", path: pathf("/v1/agents/%s/aliases", agentID), query: q}, nil)
}
