package engine_test

// The upstream fault matrix: a fault-injecting upstream on loopback ×
// start/append/restart × stream/non-stream. Every case ends in bounded
// time with a clear error in Mistral's shape (a JSON error, or a stream's
// conversation.response.error), and the conversation is appendable
// afterwards.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/model/fakeupstream"
	"github.com/tramontane/tramontane/internal/model/scripted"
)

// fault is one way an upstream misbehaves, and the status it must become.
type fault struct {
	name   string
	status int // 200: the run copes and succeeds
	serve  func(w http.ResponseWriter, r *http.Request)
}

func sse(w http.ResponseWriter, lines ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	for _, l := range lines {
		fmt.Fprint(w, l)
		w.(http.Flusher).Flush()
	}
}

const chunk = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"partial \"}}]}\n\n"

var faults = []fault{
	{"hang before headers", 504, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }},
	{"hang mid-stream", 504, func(w http.ResponseWriter, r *http.Request) { sse(w, chunk); <-r.Context().Done() }},
	{"500", 502, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"message":"boom"}}`, 500)
	}},
	{"429 with Retry-After", http.StatusTooManyRequests, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		http.Error(w, `{"error":{"message":"slow down"}}`, http.StatusTooManyRequests)
	}},
	{"HTML", 502, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
	}},
	{"garbage JSON", 502, func(w http.ResponseWriter, r *http.Request) {
		sse(w, "data: {\"choices\":[{\"delta\":{\"content\":\"x\"\n\n", "data: [DONE]\n\n")
	}},
	{"cut stream", 502, func(w http.ResponseWriter, r *http.Request) {
		sse(w, chunk, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"and th")
	}},
	{"no choices", 502, func(w http.ResponseWriter, r *http.Request) {
		sse(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[]}\n\n", "data: [DONE]\n\n")
	}},
	{"no [DONE]", 502, func(w http.ResponseWriter, r *http.Request) { sse(w, chunk) }},
	{"tool call with invalid JSON arguments", 200, func(w http.ResponseWriter, r *http.Request) {
		sse(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"tool_calls\":[{\"index\":0,\"id\":\"call_x\",\"type\":\"function\",\"function\":{\"name\":\"web_search\",\"arguments\":\"{not json\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\n", "data: [DONE]\n\n")
	}},
}

// faultUpstream misbehaves as the fault named in the last user message
// ("fault:<index>") when that message is the last one; otherwise (and
// after a tool result) it answers like the echo script.
func faultUpstream(t *testing.T) http.Handler {
	sc, err := scripted.Parse([]byte(echoScript))
	if err != nil {
		t.Fatal(err)
	}
	good := fakeupstream.New(fakeupstream.Options{Script: sc})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, restore := peekBody(r)
		text := lastUserText(body)
		var idx int
		if i := strings.Index(text, "fault:"); i >= 0 && !strings.Contains(string(body), `"role":"tool"`) {
			if _, err := fmt.Sscanf(text[i:], "fault:%d", &idx); err == nil && idx < len(faults) {
				faults[idx].serve(w, r)
				return
			}
		}
		r.Body = restore
		good.ServeHTTP(w, r)
	})
}

func TestUpstreamFaultMatrix(t *testing.T) {
	e := newEnv(t, "", withUpstream(faultUpstream(t)), providerYAML("idle_timeout: 1s", "max_retries: 0"))
	slowest := time.Duration(0)
	cases := 0
	for i, f := range faults {
		for _, op := range []string{"start", "append", "restart"} {
			for _, stream := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/stream=%v", f.name, op, stream)
				t.Run(name, func(t *testing.T) {
					input := fmt.Sprintf("fault:%d please", i)
					var path, body, base string
					switch op {
					case "start":
						path, body = "/v1/conversations", fmt.Sprintf(`{"model":"m1","inputs":%q,"stream":%v,"tools":[{"type":"web_search"}]}`, input, stream)
					case "append":
						base = e.start(`{"model":"m1","inputs":"hello","stream":false,"tools":[{"type":"web_search"}]}`).ConversationID
						path, body = "/v1/conversations/"+base, fmt.Sprintf(`{"inputs":%q,"stream":%v}`, input, stream)
					case "restart":
						base = e.start(`{"model":"m1","inputs":"hello","stream":false,"tools":[{"type":"web_search"}]}`).ConversationID
						hist, _ := e.history(base)
						path, body = "/v1/conversations/"+base+"/restart", fmt.Sprintf(`{"from_entry_id":%q,"inputs":%q,"stream":%v}`, hist[1].str("id"), input, stream)
					}
					start := time.Now()
					var id string
					switch {
					case stream && f.status == 200:
						events := e.stream(path, body)
						lastDone(t, events)
						id = events[0].str("conversation_id")
					case stream:
						id = e.streamError(path, body, f.status)
					case f.status == 200:
						id = decodeResponse(t, e.call("POST", path, body, 200).Body).ConversationID
					default:
						r := e.call("POST", path, body, f.status)
						if f.status == 429 && r.Header.Get("Retry-After") == "" {
							t.Errorf("429 without Retry-After")
						}
						id = base // a failed plain start or restart gives no id
					}
					took := time.Since(start)
					if took > 20*time.Second {
						t.Errorf("took %s: not bounded", took)
					}
					slowest = max(slowest, took)
					cases++
					if id != "" {
						e.appendTo(id, `{"inputs":"still there?","stream":false}`)
					}
				})
			}
		}
	}
	t.Logf("fault matrix: %d cases, slowest %s", cases, slowest.Round(time.Millisecond))
}
