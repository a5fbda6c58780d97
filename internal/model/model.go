// Package model is Tramontane's provider-agnostic view of a language model.
//
// The conversation engine builds a [Request] (messages, tools, sampling
// arguments), asks a [Router] which [Provider] serves the public model name,
// and reads the answer as a [Stream] of [Chunk] deltas. [Collect] folds a
// stream into a complete [Response] for callers that do not stream.
//
// Adapters for concrete upstreams live in subpackages: openai (any
// OpenAI-compatible /v1/chat/completions server), mistral (Mistral's API) and
// scripted (a deterministic offline model driven by a script file, for tests
// and CI). Package providers wires a [Config] to those adapters.
package model

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"strings"
)

// Message roles.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// Finish reasons reported in [Chunk.FinishReason] and [Response.FinishReason].
const (
	FinishStop      = "stop"
	FinishLength    = "length"
	FinishToolCalls = "tool_calls"
	FinishError     = "error"
)

// Tool choices for [Request.ToolChoice]. Any other non-empty value is taken
// as the name of the one function the model must call.
const (
	ToolChoiceAuto     = "auto"
	ToolChoiceNone     = "none"
	ToolChoiceAny      = "any"
	ToolChoiceRequired = "required"
)

// Part is one chunk of a multimodal message.
type Part struct {
	// Type is "text" or "image_url".
	Type string `json:"type"`
	// Text is set for "text" parts.
	Text string `json:"text,omitempty"`
	// ImageURL is set for "image_url" parts: an http(s) URL or a data: URL.
	ImageURL string `json:"image_url,omitempty"`
}

// Message is one message of the model input or output.
type Message struct {
	// Role is "system", "user", "assistant" or "tool".
	Role string `json:"role"`
	// Content is the text of the message.
	Content string `json:"content,omitempty"`
	// Parts, when not empty, makes the message multimodal. On the wire a
	// non-empty Content is sent as a first text part followed by Parts.
	Parts []Part `json:"parts,omitempty"`
	// ToolCalls are the calls an assistant message makes.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID is the call a "tool" message answers.
	ToolCallID string `json:"tool_call_id,omitempty"`
	// Name is the tool's name on a "tool" message.
	Name string `json:"name,omitempty"`
	// Prefix marks a final assistant message whose content the model must
	// continue (Mistral's prefix mode). OpenAI-compatible backends receive
	// it as an ordinary assistant message.
	Prefix bool `json:"prefix,omitempty"`
}

// Text returns the message's text: Content followed by its text parts.
func (m *Message) Text() string {
	if len(m.Parts) == 0 {
		return m.Content
	}
	var b strings.Builder
	b.WriteString(m.Content)
	for _, p := range m.Parts {
		if p.Type == "text" {
			if b.Len() > 0 && p.Text != "" {
				b.WriteString("\n")
			}
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// ToolCall is one function call made by the model.
type ToolCall struct {
	// ID identifies the call; the "tool" message answering it repeats it.
	ID string `json:"id"`
	// Name is the function's name.
	Name string `json:"name"`
	// Arguments is the JSON text of the arguments object.
	Arguments string `json:"arguments"`
}

// ToolDef is a function offered to the model.
type ToolDef struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Parameters is the JSON schema of the arguments; nil means no arguments.
	Parameters json.RawMessage `json:"parameters,omitempty"`
	Strict     *bool           `json:"strict,omitempty"`
}

// Request is one call to a model. Nil pointers and empty values are not sent.
type Request struct {
	// Model is the UPSTREAM model name, as returned by [Router.Resolve].
	Model    string
	Messages []Message
	Tools    []ToolDef
	// ToolChoice is "auto", "none", "any", "required", "" (not sent) or the
	// name of one function to force. Adapters translate "any"/"required"
	// to their dialect.
	ToolChoice        string
	Temperature       *float64
	TopP              *float64
	PresencePenalty   *float64
	FrequencyPenalty  *float64
	MaxTokens         *int
	RandomSeed        *int
	Stop              []string
	ResponseFormat    json.RawMessage // raw JSON object, passed through
	ParallelToolCalls *bool
	// CacheKey, when set, names a sequence of requests whose messages
	// grow by appending (a conversation). A provider may keep the encoded
	// messages of the last request with that key and reuse those that are
	// unchanged; the request sent is the same either way. With a key,
	// the provider may keep Messages after the call: the caller must not
	// modify those messages in place afterwards (appending is fine).
	CacheKey string
}

// Usage counts tokens for one call.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Add returns u plus v.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		PromptTokens:     u.PromptTokens + v.PromptTokens,
		CompletionTokens: u.CompletionTokens + v.CompletionTokens,
		TotalTokens:      u.TotalTokens + v.TotalTokens,
	}
}

// ToolCallDelta is a fragment of a tool call in a stream. Fragments with the
// same Index belong to the same call; ID and Name usually arrive in the first
// fragment and Arguments is split across fragments.
type ToolCallDelta struct {
	Index     int
	ID        string
	Name      string
	Arguments string
}

// Chunk is one streamed delta. Any field may be empty. FinishReason arrives
// once, near the end; Usage may arrive in a later chunk of its own, so read
// until io.EOF.
type Chunk struct {
	Content      string
	ToolCalls    []ToolCallDelta
	FinishReason string
	Usage        *Usage
}

// Response is a complete model answer.
type Response struct {
	// Message is the assistant message (Role "assistant").
	Message      Message
	FinishReason string
	Usage        Usage
}

// Stream yields the chunks of one answer. Next returns io.EOF after the
// last chunk; any other error ends the stream (it is an *apierr.Error for
// upstream failures). Close releases the connection and must always be
// called; it is safe to call more than once.
type Stream interface {
	Next() (Chunk, error)
	Close() error
}

// Provider is a model upstream. Chat starts one call; request-phase
// failures (connection, HTTP status) are returned by Chat as
// *apierr.Error, later failures by Stream.Next. Implementations are safe
// for concurrent use.
type Provider interface {
	Chat(ctx context.Context, req *Request) (Stream, error)
	// Name identifies the provider in logs and errors: its configured name,
	// or "scripted" for the scripted model.
	Name() string
}

// Embedder is implemented by providers that serve an embeddings endpoint.
// The result has one vector per input, in input order.
type Embedder interface {
	Embed(ctx context.Context, model string, inputs []string) ([][]float32, Usage, error)
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// NewToolCallID returns a random 9-character alphanumeric id, the shape
// Mistral uses for tool calls (e.g. "NqCFiwvSV").
func NewToolCallID() string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b[:])
}

// IsMistralToolCallID reports whether id matches ^[a-zA-Z0-9]{9}$.
func IsMistralToolCallID(id string) bool {
	if len(id) != 9 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// CountTokens is a deterministic token estimate: the number of
// whitespace-separated words. The scripted model uses it for usage.
func CountTokens(s string) int {
	return len(strings.Fields(s))
}
