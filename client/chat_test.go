package client_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/client"
	"github.com/tramontane/tramontane/internal/model/fakeupstream"
	"github.com/tramontane/tramontane/internal/model/scripted"
)

// Tramontane does not serve /v1/chat/completions yet, so the chat client
// is tested against the fake OpenAI-compatible upstream, whose responses
// have the same shape as Mistral's (its request bodies are checked against
// the Python SDK's by TestGoldenPythonSDKBodies).
func TestChatAgainstFakeUpstream(t *testing.T) {
	script, err := scripted.Parse([]byte(upstreamScript))
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(fakeupstream.New(fakeupstream.Options{Script: script}))
	defer up.Close()
	c := client.New(client.WithBaseURL(up.URL), client.WithAPIKey("k"))
	ctx := context.Background()
	msgs := []client.ChatMessage{{Role: "system", Content: client.Text("Be concise.")}, {Role: "user", Content: client.Text("hello chat")}}
	r, err := c.Chat.Complete(ctx, client.ChatRequest{Model: model, Messages: msgs})
	if err != nil || r.Text() != "upstream says: hello chat" || r.Choices[0].FinishReason != "stop" || r.Usage.TotalTokens == 0 {
		t.Fatalf("complete = %+v, %v", r, err)
	}
	var text strings.Builder
	var finish string
	for ch, err := range c.Chat.Stream(ctx, client.ChatRequest{Model: model, Messages: msgs}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, choice := range ch.Choices {
			text.WriteString(choice.Delta.Content.String())
			if choice.FinishReason != "" {
				finish = choice.FinishReason
			}
		}
	}
	if text.String() != "upstream says: hello chat" || finish != "stop" {
		t.Fatalf("stream: %q, finish %q", text.String(), finish)
	}
	// A tool call comes back as ToolCalls with JSON arguments.
	r, err = c.Chat.Complete(ctx, client.ChatRequest{Model: model, Messages: []client.ChatMessage{{Role: "user", Content: client.Text("cite please")}},
		Tools: []client.Tool{client.FunctionTool("web_search", "", []byte(`{"type":"object"}`))}})
	if err != nil || len(r.Choices) != 1 || len(r.Choices[0].Message.ToolCalls) != 1 {
		t.Fatalf("tool call = %+v, %v", r, err)
	}
	if tc := r.Choices[0].Message.ToolCalls[0]; tc.Function.Name != "web_search" || tc.Function.Arguments != `{"query":"tramontane wind"}` || tc.ID == "" {
		t.Fatalf("tool call = %+v", tc)
	}
}
