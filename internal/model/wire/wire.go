// Package wire holds the JSON shapes of OpenAI-compatible and Mistral chat
// completions, embeddings and image endpoints, and the conversions between
// them and package model. Both the HTTP clients (openai, mistral) and the
// fake upstream server use it, so the two sides agree by construction.
package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Dialect selects the request flavour.
type Dialect int

const (
	// OpenAI is the OpenAI-compatible flavour (vLLM, Ollama, llama.cpp,
	// LocalAI): tool_choice "any" becomes "required", random_seed becomes
	// seed, prefix is dropped, and streaming asks for usage with
	// stream_options.
	OpenAI Dialect = iota
	// Mistral is Mistral's flavour: tool_choice "any" and random_seed pass
	// through, prefix is kept, no stream_options (Mistral rejects unknown
	// fields and reports usage anyway).
	Mistral
)

// ChatRequest is the body of POST /v1/chat/completions.
type ChatRequest struct {
	Model             string          `json:"model"`
	Messages          []Message       `json:"messages"`
	Tools             []Tool          `json:"tools,omitempty"`
	ToolChoice        json.RawMessage `json:"tool_choice,omitempty"`
	Temperature       *float64        `json:"temperature,omitempty"`
	TopP              *float64        `json:"top_p,omitempty"`
	PresencePenalty   *float64        `json:"presence_penalty,omitempty"`
	FrequencyPenalty  *float64        `json:"frequency_penalty,omitempty"`
	MaxTokens         *int            `json:"max_tokens,omitempty"`
	Seed              *int            `json:"seed,omitempty"`
	RandomSeed        *int            `json:"random_seed,omitempty"`
	Stop              StringList      `json:"stop,omitempty"`
	ResponseFormat    json.RawMessage `json:"response_format,omitempty"`
	ParallelToolCalls *bool           `json:"parallel_tool_calls,omitempty"`
	Stream            bool            `json:"stream"`
	StreamOptions     *StreamOptions  `json:"stream_options,omitempty"`
}

// StreamOptions asks an OpenAI-compatible server for a final usage chunk.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// StringList decodes from a string or a list of strings.
type StringList []string

// UnmarshalJSON accepts "x", ["x","y"] and null.
func (s *StringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = StringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// Message is one chat message.
type Message struct {
	Role       string     `json:"role,omitempty"`
	Content    *Content   `json:"content,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
	Name       string     `json:"name,omitempty"`
	Prefix     bool       `json:"prefix,omitempty"`
	// ReasoningContent is sent by some servers (vLLM, Ollama) for
	// reasoning models; it is read and ignored.
	ReasoningContent string `json:"reasoning_content,omitempty"`
}

// Content is a message's content: a string, or a list of typed parts.
// It decodes both; it encodes as a string unless it has parts.
type Content struct {
	Text  string
	Parts []ContentPart
}

// ContentPart is one element of a content list.
type ContentPart struct {
	Type     string          `json:"type"`
	Text     string          `json:"text,omitempty"`
	ImageURL *ImageURL       `json:"image_url,omitempty"`
	Thinking json.RawMessage `json:"thinking,omitempty"`
}

// ImageURL is the image_url part payload. It decodes from a bare string
// (Mistral) or {"url": ...} (OpenAI) and encodes as the latter.
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// UnmarshalJSON accepts "https://..." and {"url": "https://..."}.
func (u *ImageURL) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &u.URL)
	}
	type plain ImageURL
	return json.Unmarshal(b, (*plain)(u))
}

// MarshalJSON writes a string, or a list when there are parts.
func (c Content) MarshalJSON() ([]byte, error) {
	if len(c.Parts) == 0 {
		return json.Marshal(c.Text)
	}
	parts := c.Parts
	if c.Text != "" {
		parts = append([]ContentPart{{Type: "text", Text: c.Text}}, parts...)
	}
	return json.Marshal(parts)
}

// UnmarshalJSON accepts a string, a list of parts, or null.
func (c *Content) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*c = Content{}
		return nil
	case b[0] == '"':
		return json.Unmarshal(b, &c.Text)
	case b[0] == '[':
		return json.Unmarshal(b, &c.Parts)
	default:
		return fmt.Errorf("content must be a string or a list, not %.20s", b)
	}
}

// PlainText returns the text of the content: Text plus the text parts
// (thinking parts excluded).
func (c *Content) PlainText() string {
	if c == nil {
		return ""
	}
	if len(c.Parts) == 0 {
		return c.Text
	}
	var b strings.Builder
	b.WriteString(c.Text)
	for _, p := range c.Parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// Tool is a function tool offered to the model.
type Tool struct {
	Type     string   `json:"type"`
	Function Function `json:"function"`
}

// Function is a tool's function definition.
type Function struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// ToolCall is a call in an assistant message, or a fragment of one in a
// stream delta (where Index tells fragments apart).
type ToolCall struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function FunctionCall `json:"function"`
}

// FunctionCall is the function part of a tool call.
type FunctionCall struct {
	Name      string    `json:"name,omitempty"`
	Arguments Arguments `json:"arguments"`
}

// Arguments is the JSON text of call arguments. It decodes from a JSON
// string (the usual form) or from an object (some servers), and encodes
// as a string.
type Arguments string

// UnmarshalJSON accepts a string or any other JSON value (kept as text).
func (a *Arguments) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = Arguments(s)
		return nil
	}
	if string(b) == "null" {
		*a = ""
		return nil
	}
	*a = Arguments(b)
	return nil
}

// ChatResponse is a non-streaming response, or one streamed chunk.
type ChatResponse struct {
	ID      string          `json:"id,omitempty"`
	Object  string          `json:"object,omitempty"`
	Created int64           `json:"created,omitempty"`
	Model   string          `json:"model,omitempty"`
	Choices []Choice        `json:"choices"`
	Usage   *Usage          `json:"usage,omitempty"`
	Error   json.RawMessage `json:"error,omitempty"`
}

// Choice is one choice of a response (Message) or chunk (Delta).
type Choice struct {
	Index        int      `json:"index"`
	Message      *Message `json:"message,omitempty"`
	Delta        *Message `json:"delta,omitempty"`
	FinishReason *string  `json:"finish_reason"`
}

// Usage is the token count of a response.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// EmbeddingsRequest is the body of POST /v1/embeddings.
type EmbeddingsRequest struct {
	Model string     `json:"model"`
	Input StringList `json:"input"`
}

// EmbeddingsResponse is the answer of POST /v1/embeddings.
type EmbeddingsResponse struct {
	ID     string      `json:"id,omitempty"`
	Object string      `json:"object"`
	Model  string      `json:"model"`
	Data   []Embedding `json:"data"`
	Usage  *Usage      `json:"usage,omitempty"`
}

// Embedding is one vector of an embeddings response.
type Embedding struct {
	Object    string    `json:"object"`
	Embedding []float32 `json:"embedding"`
	Index     int       `json:"index"`
}

// ImagesRequest is the body of POST /v1/images/generations.
type ImagesRequest struct {
	Model          string `json:"model,omitempty"`
	Prompt         string `json:"prompt"`
	N              int    `json:"n,omitempty"`
	Size           string `json:"size,omitempty"`
	ResponseFormat string `json:"response_format,omitempty"`
}

// ImagesResponse is the answer of POST /v1/images/generations.
type ImagesResponse struct {
	Created int64   `json:"created"`
	Data    []Image `json:"data"`
}

// Image is one generated image.
type Image struct {
	B64JSON       string `json:"b64_json,omitempty"`
	URL           string `json:"url,omitempty"`
	RevisedPrompt string `json:"revised_prompt,omitempty"`
}

// ErrorMessage extracts a human-readable message from an upstream error
// body: {"error":{"message":..}}, {"error":".."}, {"message":..} (vLLM,
// Mistral), {"detail":[{"msg":..}]} or {"detail":".."} (FastAPI), else
// the body text itself.
func ErrorMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message json.RawMessage `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &v) != nil {
		return strings.TrimSpace(string(body))
	}
	if s := textOf(v.Error); s != "" {
		return s
	}
	if s := textOf(v.Message); s != "" {
		return s
	}
	if s := textOf(v.Detail); s != "" {
		return s
	}
	return strings.TrimSpace(string(body))
}

// textOf finds a message in a string, {"message"|"msg": ...} or a list.
func textOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Message json.RawMessage `json:"message"`
		Msg     string          `json:"msg"`
		Loc     []any           `json:"loc"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		if m := textOf(obj.Message); m != "" {
			return m
		}
		if obj.Msg != "" {
			if len(obj.Loc) > 0 {
				return fmt.Sprintf("%s (at %v)", obj.Msg, obj.Loc)
			}
			return obj.Msg
		}
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		var msgs []string
		for _, item := range list {
			if m := textOf(item); m != "" {
				msgs = append(msgs, m)
			}
		}
		return strings.Join(msgs, "; ")
	}
	return ""
}
