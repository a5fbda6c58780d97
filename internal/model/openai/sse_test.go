package openai

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/model"
)

// rawServer answers every request with body and content type ct.
func rawServer(t *testing.T, ct, body string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ct)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{Name: "raw", BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func collect(t *testing.T, c *Client, req *model.Request) (model.Response, error) {
	t.Helper()
	s, err := c.Chat(context.Background(), req)
	if err != nil {
		return model.Response{}, err
	}
	return model.Collect(s)
}

func TestSSETolerance(t *testing.T) {
	// Comments, event lines, CRLF, no space after "data:", no index on
	// tool calls, usage in its own chunk, and no [DONE] after finish.
	body := ": keep-alive\r\n\r\n" +
		"event: message\r\ndata:{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"}}]}\r\n\r\n" +
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"x1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\"\"}}]}}]}\n\n" +
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\":1}\"}}]}}]}\n\n" +
		"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n" +
		"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}\n\n"
	r, err := collect(t, rawServer(t, "text/event-stream", body), userReq("x"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Message.Content != "Hi" || len(r.Message.ToolCalls) != 1 || r.Message.ToolCalls[0].Arguments != `{"a":1}` ||
		r.Usage.TotalTokens != 3 || r.FinishReason != "tool_calls" {
		t.Errorf("response = %+v", r)
	}
}

func TestSSEEndsEarly(t *testing.T) {
	body := "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"
	_, err := collect(t, rawServer(t, "text/event-stream", body), userReq("x"))
	if !apierr.Is(err, apierr.Upstream) {
		t.Errorf("a stream without finish must fail: %v", err)
	}
}

func TestSSEErrorEvent(t *testing.T) {
	body := "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n" +
		"data: {\"error\":{\"message\":\"CUDA out of memory\"}}\n\n"
	_, err := collect(t, rawServer(t, "text/event-stream", body), userReq("x"))
	if !apierr.Is(err, apierr.Upstream) || !strings.Contains(err.Error(), "CUDA out of memory") {
		t.Errorf("err = %v", err)
	}
}

func TestJSONAnswerToStreamingRequest(t *testing.T) {
	body := `{"id":"1","choices":[{"index":0,"message":{"role":"assistant","content":"whole"},"finish_reason":"stop"}]}`
	r, err := collect(t, rawServer(t, "application/json", body), userReq("x"))
	if err != nil || r.Message.Content != "whole" {
		t.Errorf("got %+v %v", r, err)
	}
}

func TestToolCallsAsTextMarksBroken(t *testing.T) {
	// The backend says tool_calls but streams the call as text.
	body := "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"<tool_call>{...}</tool_call>\"}}]}\n\n" +
		"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n"
	c := rawServer(t, "text/event-stream", body)
	if _, err := collect(t, c, userReq("x", "f")); err != nil {
		t.Fatal(err)
	}
	if !c.StreamToolsBroken("m1") {
		t.Error("a tool_calls finish without calls should mark streaming+tools broken")
	}
}

// A chunk far longer than the read buffer (a big tool-call argument or a
// long content delta in one line) arrives whole.
func TestSSELongLine(t *testing.T) {
	long := strings.Repeat("abcdefghij", 10000) // 100 KB
	body := "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"" + long + "\"}}]}\n\n" +
		"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"
	r, err := collect(t, rawServer(t, "text/event-stream", body), userReq("x"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Message.Content != long {
		t.Errorf("content of %d bytes, want %d", len(r.Message.Content), len(long))
	}
}
