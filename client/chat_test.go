package client_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/client"
)

// chatText joins a streamed completion's text and returns its finish
// reason and usage.
func chatText(t *testing.T, seq func(func(*client.ChatChunk, error) bool)) (string, string, *client.Usage) {
	t.Helper()
	var text strings.Builder
	var finish string
	var usage *client.Usage
	for ch, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		for _, choice := range ch.Choices {
			text.WriteString(choice.Delta.Content.String())
			if choice.FinishReason != "" {
				finish = choice.FinishReason
			}
		}
		if ch.Usage != nil {
			usage = ch.Usage
		}
	}
	return text.String(), finish, usage
}

func TestChatCompletions(t *testing.T) {
	s := newServer(t)
	c := s.client()
	ctx := context.Background()
	msgs := []client.ChatMessage{{Role: "system", Content: client.Text("Be concise.")}, {Role: "user", Content: client.Text("hello chat")}}
	r, err := c.Chat.Complete(ctx, client.ChatRequest{Model: model, Messages: msgs})
	if err != nil || r.Text() != "You said: hello chat" || r.Choices[0].FinishReason != "stop" || r.Usage.TotalTokens == 0 || r.Model != model {
		t.Fatalf("complete = %+v, %v", r, err)
	}
	text, finish, usage := chatText(t, c.Chat.Stream(ctx, client.ChatRequest{Model: model, Messages: msgs}))
	if text != "You said: hello chat" || finish != "stop" || usage == nil || usage.TotalTokens == 0 {
		t.Fatalf("stream: %q, finish %q, usage %v", text, finish, usage)
	}

	// A tool call, then its result in a tool message.
	weather := client.FunctionTool("get_weather", "", json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`))
	msgs = []client.ChatMessage{{Role: "user", Content: client.Text("weather?")}}
	r, err = c.Chat.Complete(ctx, client.ChatRequest{Model: model, Messages: msgs, Tools: []client.Tool{weather}})
	if err != nil || len(r.Choices) != 1 || len(r.Choices[0].Message.ToolCalls) != 1 || r.Choices[0].FinishReason != "tool_calls" {
		t.Fatalf("tool call = %+v, %v", r, err)
	}
	tc := r.Choices[0].Message.ToolCalls[0]
	if tc.Function.Name != "get_weather" || tc.Function.Arguments != `{"city":"Paris"}` || tc.ID != "call_w" {
		t.Fatalf("tool call = %+v", tc)
	}
	msgs = append(msgs, r.Choices[0].Message, client.ChatMessage{Role: "tool", ToolCallID: tc.ID, Name: tc.Function.Name, Content: client.Text("12C")})
	r, err = c.Chat.Complete(ctx, client.ChatRequest{Model: model, Messages: msgs, Tools: []client.Tool{weather}})
	if err != nil || r.Text() != "Weather: 12C" {
		t.Fatalf("after the tool result = %+v, %v", r, err)
	}

	// An agent's completion uses the agent's model; nothing is stored.
	a, err := c.Agents.Create(ctx, client.AgentCreateRequest{Model: model, Name: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	agentReq := client.AgentChatRequest{AgentID: a.ID, Messages: []client.ChatMessage{{Role: "user", Content: client.Text("hi agent")}}}
	if r, err = c.Chat.CompleteAgent(ctx, agentReq); err != nil || r.Text() != "You said: hi agent" {
		t.Fatalf("agent completion = %+v, %v", r, err)
	}
	if text, finish, _ = chatText(t, c.Chat.StreamAgent(ctx, agentReq)); text != "You said: hi agent" || finish != "stop" {
		t.Fatalf("agent stream: %q %q", text, finish)
	}
	if list, _ := c.Conversations.List(ctx, nil); len(list) != 0 {
		t.Fatalf("completions stored %d conversations", len(list))
	}
	if _, err := c.Chat.Complete(ctx, client.ChatRequest{Model: "nope", Messages: msgs}); client.StatusOf(err) == 0 {
		t.Fatalf("unknown model: %v", err)
	}
}
