package client

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"net/url"
	"strconv"
	"time"
)

// Inputs is what a run adds to a conversation: one user message, or a list
// of entries (messages, function results). Build it with UserMessage or
// InputEntries.
type Inputs struct {
	text    string
	entries []Entry
	set     bool
}

// UserMessage is the input of one user message.
func UserMessage(text string) Inputs { return Inputs{text: text, set: true} }

// InputEntries is a list of input entries.
func InputEntries(entries ...Entry) Inputs { return Inputs{entries: entries, set: true} }

// IsZero reports whether no inputs were given.
func (in Inputs) IsZero() bool { return !in.set }

// MarshalJSON writes a string or a list of entries.
func (in Inputs) MarshalJSON() ([]byte, error) {
	if in.entries == nil {
		return json.Marshal(in.text)
	}
	return json.Marshal(in.entries)
}

// UnmarshalJSON reads a string or a list of entries.
func (in *Inputs) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	*in = Inputs{set: true}
	if len(data) > 0 && data[0] == '"' {
		return json.Unmarshal(data, &in.text)
	}
	var es Entries
	if err := json.Unmarshal(data, &es); err != nil {
		return err
	}
	in.entries = es
	return nil
}

// AgentVersion names an agent version: a number ("3") or an alias
// ("prod"). A number is sent as a JSON number.
type AgentVersion string

// MarshalJSON sends a number for a numeric version, else a string.
func (v AgentVersion) MarshalJSON() ([]byte, error) {
	if n, err := strconv.Atoi(string(v)); err == nil {
		return json.Marshal(n)
	}
	return json.Marshal(string(v))
}

// UnmarshalJSON accepts a number or a string.
func (v *AgentVersion) UnmarshalJSON(data []byte) error {
	var n json.Number
	if err := json.Unmarshal(data, &n); err == nil {
		*v = AgentVersion(n.String())
		return nil
	}
	var s string
	if string(data) == "null" {
		*v = ""
		return nil
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	*v = AgentVersion(s)
	return nil
}

// ConversationRequest starts a conversation with an agent (AgentID) or a
// model (Model, with optional Instructions and Tools).
type ConversationRequest struct {
	Inputs           Inputs          `json:"inputs"`
	Store            *bool           `json:"store,omitempty"`
	HandoffExecution string          `json:"handoff_execution,omitempty"`
	AgentID          string          `json:"agent_id,omitempty"`
	AgentVersion     AgentVersion    `json:"agent_version,omitempty"`
	Model            string          `json:"model,omitempty"`
	Instructions     string          `json:"instructions,omitempty"`
	Tools            []Tool          `json:"tools,omitempty"`
	CompletionArgs   *CompletionArgs `json:"completion_args,omitempty"`
	Guardrails       json.RawMessage `json:"guardrails,omitempty"`
	Name             string          `json:"name,omitempty"`
	Description      string          `json:"description,omitempty"`
	Metadata         map[string]any  `json:"metadata,omitempty"`
}

// ToolConfirmation allows or denies a call awaiting confirmation.
type ToolConfirmation struct {
	ToolCallID string `json:"tool_call_id"`
	// Confirmation is "allow" or "deny".
	Confirmation string `json:"confirmation"`
}

// AppendRequest continues a conversation. Store defaults to true and
// HandoffExecution to "server".
type AppendRequest struct {
	Inputs            Inputs             `json:"inputs,omitzero"`
	Store             *bool              `json:"store,omitempty"`
	HandoffExecution  string             `json:"handoff_execution,omitempty"`
	CompletionArgs    *CompletionArgs    `json:"completion_args,omitempty"`
	ToolConfirmations []ToolConfirmation `json:"tool_confirmations,omitempty"`
}

// RestartRequest branches a conversation after one of its entries into a
// new conversation.
type RestartRequest struct {
	FromEntryID      string          `json:"from_entry_id"`
	Inputs           Inputs          `json:"inputs,omitzero"`
	Store            *bool           `json:"store,omitempty"`
	HandoffExecution string          `json:"handoff_execution,omitempty"`
	CompletionArgs   *CompletionArgs `json:"completion_args,omitempty"`
	Guardrails       json.RawMessage `json:"guardrails,omitempty"`
	Metadata         map[string]any  `json:"metadata,omitempty"`
	AgentVersion     AgentVersion    `json:"agent_version,omitempty"`
}

// Usage counts a run's tokens and connector calls.
type Usage struct {
	PromptTokens     int            `json:"prompt_tokens"`
	CompletionTokens int            `json:"completion_tokens"`
	TotalTokens      int            `json:"total_tokens"`
	ConnectorTokens  int            `json:"connector_tokens,omitempty"`
	Connectors       map[string]int `json:"connectors,omitempty"`
}

// add sums u2 into u.
func (u *Usage) add(u2 Usage) {
	u.PromptTokens += u2.PromptTokens
	u.CompletionTokens += u2.CompletionTokens
	u.TotalTokens += u2.TotalTokens
	u.ConnectorTokens += u2.ConnectorTokens
	for k, n := range u2.Connectors {
		if u.Connectors == nil {
			u.Connectors = map[string]int{}
		}
		u.Connectors[k] += n
	}
}

// ConversationResponse is the result of a run: the entries it produced.
type ConversationResponse struct {
	Object         string  `json:"object"`
	ConversationID string  `json:"conversation_id"`
	Outputs        Entries `json:"outputs"`
	Usage          Usage   `json:"usage"`
}

// Text returns the text of the last message output, or "".
func (r *ConversationResponse) Text() string {
	for i := len(r.Outputs) - 1; i >= 0; i-- {
		if m, ok := r.Outputs[i].(*MessageOutputEntry); ok {
			return m.Content.String()
		}
	}
	return ""
}

// FunctionCalls returns the function.call entries of the outputs.
func (r *ConversationResponse) FunctionCalls() []*FunctionCallEntry {
	var out []*FunctionCallEntry
	for _, e := range r.Outputs {
		if fc, ok := e.(*FunctionCallEntry); ok {
			out = append(out, fc)
		}
	}
	return out
}

// Conversation describes a conversation with an agent (AgentID set) or
// with a model (Model set).
type Conversation struct {
	Object         string          `json:"object"`
	ID             string          `json:"id"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	Name           string          `json:"name,omitempty"`
	Description    string          `json:"description,omitempty"`
	Metadata       map[string]any  `json:"metadata,omitempty"`
	AgentID        string          `json:"agent_id,omitempty"`
	AgentVersion   AgentVersion    `json:"agent_version,omitempty"`
	Model          string          `json:"model,omitempty"`
	Instructions   string          `json:"instructions,omitempty"`
	Tools          []Tool          `json:"tools,omitempty"`
	CompletionArgs *CompletionArgs `json:"completion_args,omitempty"`
}

// History is every entry of a conversation, in order.
type History struct {
	Object         string  `json:"object"`
	ConversationID string  `json:"conversation_id"`
	Entries        Entries `json:"entries"`
}

// Messages is the input and output messages of a conversation.
type Messages struct {
	Object         string  `json:"object"`
	ConversationID string  `json:"conversation_id"`
	Messages       Entries `json:"messages"`
}

// ConversationListOptions page and filter Conversations.List.
type ConversationListOptions struct {
	// Page is 0-based; PageSize defaults to 100.
	Page, PageSize int
	// Metadata keeps conversations whose metadata has all these key/values.
	Metadata map[string]any
}

// ConversationsService is the conversations API.
type ConversationsService struct{ c *Client }

// startBody adds the "stream" key the API expects on every run.
type startBody struct {
	ConversationRequest
	Stream bool `json:"stream"`
}

type appendBody struct {
	Inputs            Inputs             `json:"inputs,omitzero"`
	Stream            bool               `json:"stream"`
	Store             bool               `json:"store"`
	HandoffExecution  string             `json:"handoff_execution"`
	CompletionArgs    *CompletionArgs    `json:"completion_args,omitempty"`
	ToolConfirmations []ToolConfirmation `json:"tool_confirmations,omitempty"`
}

func newAppendBody(req AppendRequest, stream bool) appendBody {
	b := appendBody{Inputs: req.Inputs, Stream: stream, Store: true, HandoffExecution: "server",
		CompletionArgs: req.CompletionArgs, ToolConfirmations: req.ToolConfirmations}
	if req.Store != nil {
		b.Store = *req.Store
	}
	if req.HandoffExecution != "" {
		b.HandoffExecution = req.HandoffExecution
	}
	return b
}

type restartBody struct {
	FromEntryID      string          `json:"from_entry_id"`
	Inputs           Inputs          `json:"inputs,omitzero"`
	Stream           bool            `json:"stream"`
	Store            bool            `json:"store"`
	HandoffExecution string          `json:"handoff_execution"`
	CompletionArgs   *CompletionArgs `json:"completion_args,omitempty"`
	Guardrails       json.RawMessage `json:"guardrails,omitempty"`
	Metadata         map[string]any  `json:"metadata,omitempty"`
	AgentVersion     AgentVersion    `json:"agent_version,omitempty"`
}

func newRestartBody(req RestartRequest, stream bool) restartBody {
	b := restartBody{FromEntryID: req.FromEntryID, Inputs: req.Inputs, Stream: stream, Store: true, HandoffExecution: "server",
		CompletionArgs: req.CompletionArgs, Guardrails: req.Guardrails, Metadata: req.Metadata, AgentVersion: req.AgentVersion}
	if req.Store != nil {
		b.Store = *req.Store
	}
	if req.HandoffExecution != "" {
		b.HandoffExecution = req.HandoffExecution
	}
	return b
}

func (s *ConversationsService) run(ctx context.Context, path string, body any) (*ConversationResponse, error) {
	var r ConversationResponse
	if err := s.c.do(ctx, request{method: "POST", path: path, body: body}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Start starts a conversation and runs it until the model answers or the
// client must act (function calls, confirmations).
func (s *ConversationsService) Start(ctx context.Context, req ConversationRequest) (*ConversationResponse, error) {
	return s.run(ctx, "/v1/conversations", startBody{req, false})
}

// StartStream is Start with the run's events streamed as they happen.
func (s *ConversationsService) StartStream(ctx context.Context, req ConversationRequest) iter.Seq2[Event, error] {
	return s.c.stream(ctx, "/v1/conversations", startBody{req, true})
}

// Append adds inputs (or tool confirmations) to a conversation and runs it.
func (s *ConversationsService) Append(ctx context.Context, conversationID string, req AppendRequest) (*ConversationResponse, error) {
	return s.run(ctx, pathf("/v1/conversations/%s", conversationID), newAppendBody(req, false))
}

// AppendStream is Append with the run's events streamed.
func (s *ConversationsService) AppendStream(ctx context.Context, conversationID string, req AppendRequest) iter.Seq2[Event, error] {
	return s.c.stream(ctx, pathf("/v1/conversations/%s", conversationID), newAppendBody(req, true))
}

// Restart copies a conversation up to and including req.FromEntryID into a
// new conversation, adds the inputs and runs it. The response carries the
// new conversation's id.
func (s *ConversationsService) Restart(ctx context.Context, conversationID string, req RestartRequest) (*ConversationResponse, error) {
	return s.run(ctx, pathf("/v1/conversations/%s/restart", conversationID), newRestartBody(req, false))
}

// RestartStream is Restart with the run's events streamed.
func (s *ConversationsService) RestartStream(ctx context.Context, conversationID string, req RestartRequest) iter.Seq2[Event, error] {
	return s.c.stream(ctx, pathf("/v1/conversations/%s/restart", conversationID), newRestartBody(req, true))
}

// Get returns a conversation's description.
func (s *ConversationsService) Get(ctx context.Context, conversationID string) (*Conversation, error) {
	var c Conversation
	return &c, s.c.do(ctx, request{method: "GET", path: pathf("/v1/conversations/%s", conversationID)}, &c)
}

// List returns one page of conversations, newest first.
func (s *ConversationsService) List(ctx context.Context, opts *ConversationListOptions) ([]Conversation, error) {
	if opts == nil {
		opts = &ConversationListOptions{}
	}
	size := opts.PageSize
	if size <= 0 {
		size = 100
	}
	q := url.Values{"page": {strconv.Itoa(opts.Page)}, "page_size": {strconv.Itoa(size)}}
	if len(opts.Metadata) > 0 {
		b, _ := json.Marshal(opts.Metadata)
		q.Set("metadata", string(b))
	}
	var out []Conversation
	return out, s.c.do(ctx, request{method: "GET", path: "/v1/conversations", query: q}, &out)
}

// History returns every entry of a conversation.
func (s *ConversationsService) History(ctx context.Context, conversationID string) (*History, error) {
	var h History
	return &h, s.c.do(ctx, request{method: "GET", path: pathf("/v1/conversations/%s/history", conversationID)}, &h)
}

// Messages returns a conversation's messages.
func (s *ConversationsService) Messages(ctx context.Context, conversationID string) (*Messages, error) {
	var m Messages
	return &m, s.c.do(ctx, request{method: "GET", path: pathf("/v1/conversations/%s/messages", conversationID)}, &m)
}

// Delete deletes a conversation.
func (s *ConversationsService) Delete(ctx context.Context, conversationID string) error {
	return s.c.do(ctx, request{method: "DELETE", path: pathf("/v1/conversations/%s", conversationID)}, nil)
}
