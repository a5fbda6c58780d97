package metrics

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// scrape returns the exposition text served by m.Handler.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q", ct)
	}
	return w.Body.String()
}

// wantLines fails for each line missing from the scraped text.
func wantLines(t *testing.T, text string, lines ...string) {
	t.Helper()
	have := map[string]bool{}
	for l := range strings.SplitSeq(text, "\n") {
		have[l] = true
	}
	for _, l := range lines {
		if !have[l] {
			t.Errorf("missing line %q", l)
		}
	}
}

func TestScrape(t *testing.T) {
	m := New()
	m.ObserveRequest("GET /v1/agents/{agent_id}", "GET", 404, 30*time.Millisecond)
	m.ObserveRequest("GET /v1/agents/{agent_id}", "GET", 200, 2*time.Second)
	m.ObserveRequest("POST /v1/conversations", "POST", 0, time.Second) // 0: nothing written, 200
	m.ObserveRequest("", "BREW", 404, time.Millisecond)
	m.ObserveUpstream("openai", "llama3", 1500*time.Millisecond, 200*time.Millisecond)
	m.ObserveUpstream("openai", "llama3", 3*time.Second, 0) // not streamed: no ttft
	m.AddTokens("mistral-small-latest", 120, 30, 0)
	m.AddTokens("mistral-small-latest", 80, 20, 500)
	m.AddTokens("mistral-small-latest", -1, 0, 0)
	m.ToolExecution("web_search", true)
	m.ToolExecution("web_search", true)
	m.ToolExecution("code_interpreter", false)
	m.Error("rate_limited")
	m.Error("not_found")
	m.Error("not_found")
	m.Run("completed")
	m.Run("function_call")
	m.Run("completed")
	done := m.TrackInFlight()
	m.TrackInFlight()()

	text := scrape(t, m)
	wantLines(t, text,
		`tramontane_http_request_duration_seconds_count{method="GET",route="/v1/agents/{agent_id}",status="4xx"} 1`,
		`tramontane_http_request_duration_seconds_count{method="GET",route="/v1/agents/{agent_id}",status="2xx"} 1`,
		`tramontane_http_request_duration_seconds_bucket{method="GET",route="/v1/agents/{agent_id}",status="2xx",le="1"} 0`,
		`tramontane_http_request_duration_seconds_bucket{method="GET",route="/v1/agents/{agent_id}",status="2xx",le="2.5"} 1`,
		`tramontane_http_request_duration_seconds_sum{method="GET",route="/v1/agents/{agent_id}",status="2xx"} 2`,
		`tramontane_http_request_duration_seconds_count{method="POST",route="/v1/conversations",status="2xx"} 1`,
		`tramontane_http_request_duration_seconds_count{method="other",route="unmatched",status="4xx"} 1`,
		`tramontane_http_requests_in_flight 1`,
		`tramontane_upstream_request_duration_seconds_count{model="llama3",provider="openai"} 2`,
		`tramontane_upstream_request_duration_seconds_sum{model="llama3",provider="openai"} 4.5`,
		`tramontane_upstream_time_to_first_token_seconds_count{model="llama3",provider="openai"} 1`,
		`tramontane_upstream_time_to_first_token_seconds_bucket{model="llama3",provider="openai",le="0.25"} 1`,
		`tramontane_upstream_time_to_first_token_seconds_bucket{model="llama3",provider="openai",le="0.1"} 0`,
		`tramontane_tokens_total{kind="prompt",model="mistral-small-latest"} 200`,
		`tramontane_tokens_total{kind="completion",model="mistral-small-latest"} 50`,
		`tramontane_tokens_total{kind="connector",model="mistral-small-latest"} 500`,
		`tramontane_tool_executions_total{outcome="ok",tool="web_search"} 2`,
		`tramontane_tool_executions_total{outcome="error",tool="code_interpreter"} 1`,
		`tramontane_errors_total{kind="rate_limited"} 1`,
		`tramontane_errors_total{kind="not_found"} 2`,
		`tramontane_conversation_runs_total{outcome="completed"} 2`,
		`tramontane_conversation_runs_total{outcome="function_call"} 1`,
		`# TYPE tramontane_http_request_duration_seconds histogram`,
		`# TYPE tramontane_tokens_total counter`,
	)
	for _, prefix := range []string{"go_goroutines ", "go_memstats_alloc_bytes "} {
		if !strings.Contains(text, "\n"+prefix) {
			t.Errorf("no %s metric", prefix)
		}
	}
	if runtime.GOOS == "linux" && !strings.Contains(text, "\nprocess_start_time_seconds ") {
		t.Error("no process collector metrics")
	}
	done()
	done() // idempotent
	wantLines(t, scrape(t, m), `tramontane_http_requests_in_flight 0`)
}

func TestRegistryIsPrivate(t *testing.T) {
	// Two instances in one process do not collide, and the default
	// registry is untouched.
	a, b := New(), New()
	a.Run("completed")
	wantLines(t, scrape(t, a), `tramontane_conversation_runs_total{outcome="completed"} 1`)
	if strings.Contains(scrape(t, b), "tramontane_conversation_runs_total{") {
		t.Error("a's run shows in b")
	}
	w := httptest.NewRecorder()
	http.DefaultServeMux.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if strings.Contains(w.Body.String(), "tramontane_") {
		t.Error("metrics leaked into the default mux")
	}
}

func TestLabelValuesAreBounded(t *testing.T) {
	m := New()
	for i := range maxLabelValues + 50 {
		m.AddTokens(fmt.Sprintf("model-%d", i), 1, 0, 0)
	}
	m.AddTokens("", 3, 0, 0)
	m.AddTokens("model-0", 1, 0, 0) // known values keep their series
	text := scrape(t, m)
	wantLines(t, text,
		`tramontane_tokens_total{kind="prompt",model="other"} 50`,
		`tramontane_tokens_total{kind="prompt",model="model-0"} 2`,
		`tramontane_tokens_total{kind="prompt",model="unknown"} 3`,
	)
	if n := strings.Count(text, "tramontane_tokens_total{"); n != maxLabelValues+2 {
		t.Errorf("%d token series, want %d (the cap, other and unknown)", n, maxLabelValues+2)
	}
}

func TestMiddleware(t *testing.T) {
	m := New()
	mux := http.NewServeMux()
	release := make(chan struct{})
	entered := make(chan struct{})
	mux.HandleFunc("GET /v1/agents/{agent_id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("agent_id") == "slow" {
			close(entered)
			<-release
		}
		http.Error(w, "nope", http.StatusNotFound)
	})
	mux.HandleFunc("POST /v1/conversations", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "event: x\n\n")
		http.NewResponseController(w).Flush()
	})
	srv := httptest.NewServer(m.Middleware(nil)(mux))
	defer srv.Close()

	go func() {
		resp, err := http.Get(srv.URL + "/v1/agents/slow")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	wantLines(t, scrape(t, m), `tramontane_http_requests_in_flight 1`)
	close(release)

	for _, id := range []string{"a", "b"} {
		resp, err := http.Get(srv.URL + "/v1/agents/" + id)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Post(srv.URL+"/v1/conversations", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.Get(srv.URL + "/nowhere")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	// A client may get its response before the middleware records it (the
	// slow request even finishes on its own goroutine): wait until every
	// line is there rather than for a fixed time.
	want := []string{
		`tramontane_http_request_duration_seconds_count{method="GET",route="/v1/agents/{agent_id}",status="4xx"} 3`,
		`tramontane_http_request_duration_seconds_count{method="POST",route="/v1/conversations",status="2xx"} 1`,
		`tramontane_http_request_duration_seconds_count{method="GET",route="unmatched",status="4xx"} 1`,
		`tramontane_http_requests_in_flight 0`,
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		text, missing := scrape(t, m), ""
		for _, l := range want {
			if !strings.Contains(text, l) {
				missing = l
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("missing line %q:\n%s", missing, text)
		}
		runtime.Gosched()
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.ObserveRequest("GET /", "GET", 200, time.Second)
	m.ObserveUpstream("p", "m", time.Second, time.Second)
	m.AddTokens("m", 1, 1, 1)
	m.ToolExecution("t", true)
	m.Error("internal_error")
	m.Run("completed")
	m.TrackInFlight()()
	h := m.Middleware(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != http.StatusNotFound || m.Registry() != nil {
		t.Errorf("nil Metrics handler: %d", w.Code)
	}
}

func TestLabelHelpers(t *testing.T) {
	for in, want := range map[string]string{
		"GET /v1/agents":         "/v1/agents",
		"/v1/files/{file_id}":    "/v1/files/{file_id}",
		"example.com/healthz":    "example.com/healthz",
		"POST example.com/v1/x":  "example.com/v1/x",
		"":                       "unmatched",
		"DELETE /v1/agents/{id}": "/v1/agents/{id}",
	} {
		if got := routeLabel(in); got != want {
			t.Errorf("routeLabel(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int]string{0: "2xx", 101: "1xx", 200: "2xx", 302: "3xx", 429: "4xx", 503: "5xx", 42: "other", 700: "other"} {
		if got := statusClass(in); got != want {
			t.Errorf("statusClass(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestMCPCalls(t *testing.T) {
	m := New()
	m.MCPCall("wiki", "call_tool", 200*time.Millisecond, true)
	m.MCPCall("wiki", "call_tool", 2*time.Second, false)
	m.MCPCall("wiki", "list_tools", 50*time.Millisecond, true)
	wantLines(t, scrape(t, m),
		`tramontane_mcp_requests_total{connector="wiki",op="call_tool",outcome="ok"} 1`,
		`tramontane_mcp_requests_total{connector="wiki",op="call_tool",outcome="error"} 1`,
		`tramontane_mcp_requests_total{connector="wiki",op="list_tools",outcome="ok"} 1`,
		`tramontane_mcp_request_duration_seconds_count{connector="wiki",op="call_tool"} 2`,
		`tramontane_mcp_request_duration_seconds_sum{connector="wiki",op="call_tool"} 2.2`,
	)
	var nilM *Metrics
	nilM.MCPCall("x", "call_tool", time.Second, true) // no panic
}
