// Package agent holds agent configurations: their wire shapes, validation,
// versions and aliases.
package agent

import (
	"encoding/json"
	"time"
)

// Tool is one entry of an agent's (or a model conversation's) tools, a
// union keyed by Type.
type Tool struct {
	Type              string             `json:"type"`
	Function          *Function          `json:"function,omitempty"`
	LibraryIDs        []string           `json:"library_ids,omitempty"`
	ConnectorID       string             `json:"connector_id,omitempty"`
	Authorization     json.RawMessage    `json:"authorization,omitempty"`
	ToolConfiguration *ToolConfiguration `json:"tool_configuration,omitempty"`
}

// MarshalJSON always emits library_ids for document_library tools (the SDKs
// require the key).
func (t Tool) MarshalJSON() ([]byte, error) {
	type plain Tool
	if t.Type == "document_library" {
		return json.Marshal(struct {
			plain
			LibraryIDs []string `json:"library_ids"`
		}{plain(t), nonNil(t.LibraryIDs)})
	}
	return json.Marshal(plain(t))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Function is a client-side function tool definition.
type Function struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      *bool           `json:"strict,omitempty"`
}

// ToolConfiguration narrows a tool's exposed names and asks for
// confirmation before some run.
type ToolConfiguration struct {
	Include              []string `json:"include,omitempty"`
	Exclude              []string `json:"exclude,omitempty"`
	RequiresConfirmation []string `json:"requires_confirmation,omitempty"`
}

// CompletionArgs are the sampling settings passed to the model.
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
	ReasoningEffort  *string         `json:"reasoning_effort,omitempty"`
}

// Config is the versioned, configurable part of an agent, as stored.
type Config struct {
	Instructions   *string         `json:"instructions,omitempty"`
	Tools          []Tool          `json:"tools,omitempty"`
	CompletionArgs *CompletionArgs `json:"completion_args,omitempty"`
	Guardrails     json.RawMessage `json:"guardrails,omitempty"`
	Description    *string         `json:"description,omitempty"`
	Handoffs       []string        `json:"handoffs,omitempty"`
	Metadata       json.RawMessage `json:"metadata,omitempty"`
	VersionMessage *string         `json:"version_message,omitempty"`
	DeploymentChat bool            `json:"deployment_chat,omitempty"`
}

// Agent is the wire shape of an agent at one version.
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
	Instructions   *string         `json:"instructions"`
	Tools          []Tool          `json:"tools"`
	CompletionArgs CompletionArgs  `json:"completion_args"`
	Guardrails     json.RawMessage `json:"guardrails"`
	Description    *string         `json:"description"`
	Handoffs       []string        `json:"handoffs"`
	Metadata       json.RawMessage `json:"metadata"`
	VersionMessage *string         `json:"version_message"`
}

// Alias is the wire shape of a version alias.
type Alias struct {
	Alias     string    `json:"alias"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CreateRequest is the body of POST /v1/agents.
type CreateRequest struct {
	Model          *string         `json:"model"`
	Name           *string         `json:"name"`
	Instructions   *string         `json:"instructions"`
	Tools          []Tool          `json:"tools"`
	CompletionArgs *CompletionArgs `json:"completion_args"`
	Guardrails     json.RawMessage `json:"guardrails"`
	Description    *string         `json:"description"`
	Handoffs       []string        `json:"handoffs"`
	Metadata       json.RawMessage `json:"metadata"`
	VersionMessage *string         `json:"version_message"`
}

// UpdateRequest is the body of PATCH /v1/agents/{id}. Absent (or null)
// keys keep the current value.
type UpdateRequest struct {
	Model          *string         `json:"model"`
	Name           *string         `json:"name"`
	Instructions   *string         `json:"instructions"`
	Tools          *[]Tool         `json:"tools"`
	CompletionArgs *CompletionArgs `json:"completion_args"`
	Guardrails     json.RawMessage `json:"guardrails"`
	Description    *string         `json:"description"`
	Handoffs       *[]string       `json:"handoffs"`
	Metadata       json.RawMessage `json:"metadata"`
	VersionMessage *string         `json:"version_message"`
	DeploymentChat *bool           `json:"deployment_chat"`
}
