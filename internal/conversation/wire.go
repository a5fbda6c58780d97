package conversation

import (
	"encoding/json"
	"time"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/store"
)

// StartRequest is the body of POST /v1/conversations.
type StartRequest struct {
	Inputs           json.RawMessage       `json:"inputs"`
	Stream           bool                  `json:"stream"`
	Store            *bool                 `json:"store"`
	HandoffExecution *string               `json:"handoff_execution"`
	AgentID          *string               `json:"agent_id"`
	AgentVersion     json.RawMessage       `json:"agent_version"`
	Model            *string               `json:"model"`
	Instructions     *string               `json:"instructions"`
	Tools            []agent.Tool          `json:"tools"`
	CompletionArgs   *agent.CompletionArgs `json:"completion_args"`
	Guardrails       json.RawMessage       `json:"guardrails"`
	Name             *string               `json:"name"`
	Description      *string               `json:"description"`
	Metadata         json.RawMessage       `json:"metadata"`
}

// Confirmation approves or denies a pending tool call.
type Confirmation struct {
	ToolCallID   string `json:"tool_call_id"`
	Confirmation string `json:"confirmation"`
}

// AppendRequest is the body of POST /v1/conversations/{id}.
type AppendRequest struct {
	Inputs            json.RawMessage       `json:"inputs"`
	Stream            bool                  `json:"stream"`
	Store             *bool                 `json:"store"`
	HandoffExecution  *string               `json:"handoff_execution"`
	CompletionArgs    *agent.CompletionArgs `json:"completion_args"`
	ToolConfirmations []Confirmation        `json:"tool_confirmations"`
}

// RestartRequest is the body of POST /v1/conversations/{id}/restart.
type RestartRequest struct {
	FromEntryID      *string               `json:"from_entry_id"`
	Inputs           json.RawMessage       `json:"inputs"`
	Stream           bool                  `json:"stream"`
	Store            *bool                 `json:"store"`
	HandoffExecution *string               `json:"handoff_execution"`
	CompletionArgs   *agent.CompletionArgs `json:"completion_args"`
	Guardrails       json.RawMessage       `json:"guardrails"`
	Metadata         json.RawMessage       `json:"metadata"`
	AgentVersion     json.RawMessage       `json:"agent_version"`
}

// Usage is ConversationUsageInfo.
type Usage struct {
	PromptTokens     int            `json:"prompt_tokens"`
	CompletionTokens int            `json:"completion_tokens"`
	TotalTokens      int            `json:"total_tokens"`
	ConnectorTokens  *int           `json:"connector_tokens"`
	Connectors       map[string]int `json:"connectors"`
}

// Response is a ConversationResponse.
type Response struct {
	Object         string  `json:"object"`
	ConversationID string  `json:"conversation_id"`
	Outputs        []Entry `json:"outputs"`
	Usage          Usage   `json:"usage"`
	// Guardrails reports the guardrail checks that ran on the inputs.
	Guardrails any `json:"guardrails,omitempty"`
}

// ModelConfig is what a model conversation stores as its configuration.
type ModelConfig struct {
	Instructions   *string               `json:"instructions,omitempty"`
	Tools          []agent.Tool          `json:"tools,omitempty"`
	CompletionArgs *agent.CompletionArgs `json:"completion_args,omitempty"`
	Guardrails     json.RawMessage       `json:"guardrails,omitempty"`
}

// Conversation is the wire shape of an AgentConversation or a
// ModelConversation (selected by which of AgentID and Model is set).
type Conversation struct {
	Object      string
	ID          string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Name        *string
	Description *string
	Metadata    json.RawMessage

	AgentID      string
	AgentVersion *int

	Model  string
	Config ModelConfig
}

// MarshalJSON emits the agent or the model variant.
func (c Conversation) MarshalJSON() ([]byte, error) {
	type common struct {
		Object      string          `json:"object"`
		ID          string          `json:"id"`
		CreatedAt   time.Time       `json:"created_at"`
		UpdatedAt   time.Time       `json:"updated_at"`
		Name        *string         `json:"name"`
		Description *string         `json:"description"`
		Metadata    json.RawMessage `json:"metadata"`
	}
	meta := c.Metadata
	if len(meta) == 0 {
		meta = json.RawMessage("null")
	}
	base := common{"conversation", c.ID, c.CreatedAt, c.UpdatedAt, c.Name, c.Description, meta}
	if c.AgentID != "" {
		return json.Marshal(struct {
			common
			AgentID      string `json:"agent_id"`
			AgentVersion *int   `json:"agent_version"`
		}{base, c.AgentID, c.AgentVersion})
	}
	tools := agent.MaskTools(c.Config.Tools)
	if tools == nil {
		tools = []agent.Tool{}
	}
	args := agent.CompletionArgs{}
	if c.Config.CompletionArgs != nil {
		args = *c.Config.CompletionArgs
	}
	guard := c.Config.Guardrails
	if len(guard) == 0 {
		guard = json.RawMessage("null")
	}
	return json.Marshal(struct {
		common
		Model          string               `json:"model"`
		Instructions   *string              `json:"instructions"`
		Tools          []agent.Tool         `json:"tools"`
		CompletionArgs agent.CompletionArgs `json:"completion_args"`
		Guardrails     json.RawMessage      `json:"guardrails"`
	}{base, c.Model, c.Config.Instructions, tools, args, guard})
}

// History is ConversationHistory.
type History struct {
	Object         string  `json:"object"`
	ConversationID string  `json:"conversation_id"`
	Entries        []Entry `json:"entries"`
}

// Messages is ConversationMessages.
type Messages struct {
	Object         string  `json:"object"`
	ConversationID string  `json:"conversation_id"`
	Messages       []Entry `json:"messages"`
}

// FromStore converts a stored conversation to its wire shape.
func FromStore(c *store.Conversation) (Conversation, error) {
	w := Conversation{Object: "conversation", ID: c.ID, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		Name: c.Name, Description: c.Description, Metadata: c.Metadata, AgentID: c.AgentID, AgentVersion: c.AgentVersion, Model: c.Model}
	if c.AgentID == "" && len(c.Config) > 0 {
		if err := json.Unmarshal(c.Config, &w.Config); err != nil {
			return w, err
		}
	}
	return w, nil
}

// EntriesFromStore decodes stored entries.
func EntriesFromStore(rows []store.Entry) ([]Entry, error) {
	out := make([]Entry, 0, len(rows))
	for _, r := range rows {
		e, err := Decode(r.Body)
		if err != nil {
			return nil, err
		}
		e.CreatedAt = r.CreatedAt
		out = append(out, *e)
	}
	return out, nil
}
