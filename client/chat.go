package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
)

// ChatMessage is one message of a chat completion: Role is "system",
// "user", "assistant" or "tool".
type ChatMessage struct {
	Role    string
	Content Content
	// ToolCalls are an assistant's calls.
	ToolCalls []ToolCall
	// ToolCallID and Name say which call a "tool" message answers.
	ToolCallID string
	Name       string
	// Prefix makes an assistant message a prefix the model continues.
	Prefix bool
}

// ToolCall is a function call made by the model.
type ToolCall struct {
	ID       string           `json:"id,omitempty"`
	Type     string           `json:"type,omitempty"`
	Function ToolCallFunction `json:"function"`
	Index    int              `json:"index"`
}

// ToolCallFunction names the called function and its JSON arguments.
type ToolCallFunction struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// UnmarshalJSON accepts arguments as a JSON string or a JSON object.
func (f *ToolCallFunction) UnmarshalJSON(data []byte) error {
	var w struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	f.Name, f.Arguments = w.Name, argumentsText(w.Arguments)
	return nil
}

// MarshalJSON writes the keys of the message's role, as the official SDKs
// do.
func (m ChatMessage) MarshalJSON() ([]byte, error) {
	switch m.Role {
	case "assistant":
		return json.Marshal(struct {
			Role      string     `json:"role"`
			Content   Content    `json:"content"`
			Prefix    bool       `json:"prefix"`
			ToolCalls []ToolCall `json:"tool_calls,omitempty"`
		}{m.Role, m.Content, m.Prefix, m.ToolCalls})
	case "tool":
		return json.Marshal(struct {
			Role       string  `json:"role"`
			Content    Content `json:"content"`
			ToolCallID string  `json:"tool_call_id,omitempty"`
			Name       string  `json:"name,omitempty"`
		}{m.Role, m.Content, m.ToolCallID, m.Name})
	}
	return json.Marshal(struct {
		Role    string  `json:"role"`
		Content Content `json:"content"`
	}{m.Role, m.Content})
}

// UnmarshalJSON reads any role's message (a null content is empty).
func (m *ChatMessage) UnmarshalJSON(data []byte) error {
	var w struct {
		Role       string     `json:"role"`
		Content    Content    `json:"content"`
		ToolCalls  []ToolCall `json:"tool_calls"`
		ToolCallID string     `json:"tool_call_id"`
		Name       string     `json:"name"`
		Prefix     bool       `json:"prefix"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*m = ChatMessage{Role: w.Role, Content: w.Content, ToolCalls: w.ToolCalls, ToolCallID: w.ToolCallID, Name: w.Name, Prefix: w.Prefix}
	return nil
}

// ChatRequest is a chat completion request. Nil fields are not sent.
type ChatRequest struct {
	Model            string          `json:"model"`
	Messages         []ChatMessage   `json:"messages"`
	Temperature      *float64        `json:"temperature,omitempty"`
	TopP             *float64        `json:"top_p,omitempty"`
	MaxTokens        *int            `json:"max_tokens,omitempty"`
	Stop             []string        `json:"stop,omitempty"`
	RandomSeed       *int            `json:"random_seed,omitempty"`
	ResponseFormat   json.RawMessage `json:"response_format,omitempty"`
	Tools            []Tool          `json:"tools,omitempty"`
	ToolChoice       string          `json:"tool_choice,omitempty"`
	PresencePenalty  *float64        `json:"presence_penalty,omitempty"`
	FrequencyPenalty *float64        `json:"frequency_penalty,omitempty"`
	N                *int            `json:"n,omitempty"`
	Metadata         map[string]any  `json:"metadata,omitempty"`
}

// ChatResponse is a chat completion.
type ChatResponse struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Model   string       `json:"model"`
	Created int64        `json:"created"`
	Choices []ChatChoice `json:"choices"`
	Usage   Usage        `json:"usage"`
}

// ChatChoice is one completion of a ChatResponse.
type ChatChoice struct {
	Index        int         `json:"index"`
	Message      ChatMessage `json:"message"`
	FinishReason string      `json:"finish_reason"`
}

// Text returns the first choice's text, or "".
func (r *ChatResponse) Text() string {
	if len(r.Choices) == 0 {
		return ""
	}
	return r.Choices[0].Message.Content.String()
}

// ChatChunk is one event of a streamed chat completion.
type ChatChunk struct {
	ID      string            `json:"id"`
	Object  string            `json:"object"`
	Model   string            `json:"model"`
	Created int64             `json:"created"`
	Choices []ChatChunkChoice `json:"choices"`
	// Usage is set on the last chunk, when the server reports it.
	Usage *Usage `json:"usage,omitempty"`
}

// ChatChunkChoice is the delta of one choice.
type ChatChunkChoice struct {
	Index int         `json:"index"`
	Delta ChatMessage `json:"delta"`
	// FinishReason is set on the choice's last chunk.
	FinishReason string `json:"finish_reason"`
}

// ChatService is the chat completions API (POST /v1/chat/completions and
// POST /v1/agents/completions): stateless, nothing is stored.
type ChatService struct{ c *Client }

type chatBody struct {
	ChatRequest
	Stream bool `json:"stream"`
}

// Complete returns a chat completion.
func (s *ChatService) Complete(ctx context.Context, req ChatRequest) (*ChatResponse, error) {
	var r ChatResponse
	if err := s.c.do(ctx, request{method: "POST", path: "/v1/chat/completions", body: chatBody{req, false}}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Stream streams a chat completion chunk by chunk, until the server's
// "data: [DONE]".
func (s *ChatService) Stream(ctx context.Context, req ChatRequest) iter.Seq2[*ChatChunk, error] {
	return s.stream(ctx, "/v1/chat/completions", chatBody{req, true})
}

func (s *ChatService) stream(ctx context.Context, path string, body any) iter.Seq2[*ChatChunk, error] {
	return func(yield func(*ChatChunk, error) bool) {
		resp, err := s.c.send(ctx, request{method: "POST", path: path, body: body, accept: "text/event-stream"})
		if err != nil {
			yield(nil, err)
			return
		}
		defer resp.Body.Close()
		for f, err := range sseFrames(resp.Body) {
			if err != nil {
				if ctx.Err() != nil {
					err = ctx.Err()
				}
				yield(nil, err)
				return
			}
			if string(f.data) == "[DONE]" {
				return
			}
			var ch ChatChunk
			if err := json.Unmarshal(f.data, &ch); err != nil {
				yield(nil, fmt.Errorf("client: bad chat chunk: %w", err))
				return
			}
			if !yield(&ch, nil) {
				return
			}
		}
		err = ctx.Err()
		if err == nil {
			err = fmt.Errorf("client: the chat stream ended before [DONE]: %w", io.ErrUnexpectedEOF)
		}
		yield(nil, err)
	}
}

// AgentChatRequest is a chat completion by an agent
// (POST /v1/agents/completions): the agent's model, instructions and
// tools answer the messages.
type AgentChatRequest struct {
	AgentID        string          `json:"agent_id"`
	Messages       []ChatMessage   `json:"messages"`
	MaxTokens      *int            `json:"max_tokens,omitempty"`
	Stop           []string        `json:"stop,omitempty"`
	RandomSeed     *int            `json:"random_seed,omitempty"`
	ResponseFormat json.RawMessage `json:"response_format,omitempty"`
	Tools          []Tool          `json:"tools,omitempty"`
	ToolChoice     string          `json:"tool_choice,omitempty"`
}

type agentChatBody struct {
	AgentChatRequest
	Stream bool `json:"stream"`
}

// CompleteAgent returns an agent's chat completion.
func (s *ChatService) CompleteAgent(ctx context.Context, req AgentChatRequest) (*ChatResponse, error) {
	var r ChatResponse
	if err := s.c.do(ctx, request{method: "POST", path: "/v1/agents/completions", body: agentChatBody{req, false}}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// StreamAgent streams an agent's chat completion.
func (s *ChatService) StreamAgent(ctx context.Context, req AgentChatRequest) iter.Seq2[*ChatChunk, error] {
	return s.stream(ctx, "/v1/agents/completions", agentChatBody{req, true})
}

// FIMRequest asks a code model to write what goes between Prompt and
// Suffix (POST /v1/fim/completions).
type FIMRequest struct {
	Model       string   `json:"model"`
	Prompt      string   `json:"prompt"`
	Suffix      string   `json:"suffix,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
	TopP        *float64 `json:"top_p,omitempty"`
	MaxTokens   *int     `json:"max_tokens,omitempty"`
	MinTokens   *int     `json:"min_tokens,omitempty"`
	Stop        []string `json:"stop,omitempty"`
	RandomSeed  *int     `json:"random_seed,omitempty"`
}

type fimBody struct {
	FIMRequest
	Stream bool `json:"stream"`
}

// FIM returns a fill-in-the-middle completion; the text is Text().
func (s *ChatService) FIM(ctx context.Context, req FIMRequest) (*ChatResponse, error) {
	var r ChatResponse
	if err := s.c.do(ctx, request{method: "POST", path: "/v1/fim/completions", body: fimBody{req, false}}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// StreamFIM streams a fill-in-the-middle completion.
func (s *ChatService) StreamFIM(ctx context.Context, req FIMRequest) iter.Seq2[*ChatChunk, error] {
	return s.stream(ctx, "/v1/fim/completions", fimBody{req, true})
}
