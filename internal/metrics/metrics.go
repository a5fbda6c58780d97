// Package metrics exposes Tramontane's Prometheus metrics. They live on a
// private registry, not the global default, so that tests and embedders can
// build several servers in one process, and are served by Handler on
// GET /metrics.
//
// Every method is safe for concurrent use and does nothing on a nil
// *Metrics, so wiring metrics is optional.
//
// Label values that come from configuration or requests (routes, models,
// providers, tools) are bounded: beyond maxLabelValues distinct values per
// label, new ones are reported as "other", so a misbehaving client cannot
// grow the series count without limit.
package metrics

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "tramontane"

// maxLabelValues bounds the distinct values of each open-ended label.
const maxLabelValues = 200

// Token kinds for AddTokens.
const (
	TokensPrompt     = "prompt"
	TokensCompletion = "completion"
	TokensConnector  = "connector"
)

// Metrics holds the server's collectors and their registry.
type Metrics struct {
	reg *prometheus.Registry

	requestDuration  *prometheus.HistogramVec
	inFlight         prometheus.Gauge
	upstreamDuration *prometheus.HistogramVec
	timeToFirstToken *prometheus.HistogramVec
	tokens           *prometheus.CounterVec
	toolExecutions   *prometheus.CounterVec
	errors           *prometheus.CounterVec
	runs             *prometheus.CounterVec
	mcpCalls         *prometheus.CounterVec
	mcpDuration      *prometheus.HistogramVec

	routes, models, providers, tools, kinds, outcomes, connectors *labelSet
}

// Buckets, in seconds. Agent runs, with tools and several model calls, can
// take minutes; time to first token is usually under a few seconds.
var (
	durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}
	ttftBuckets     = []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60}
)

// New returns Metrics registered on a fresh registry, together with the Go
// runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern, method and status class (2xx, 4xx...). Streams count until their end.",
			Buckets: durationBuckets,
		}, []string{"route", "method", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		upstreamDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "upstream", Name: "request_duration_seconds",
			Help:    "Duration of model calls to upstreams, by provider and upstream model.",
			Buckets: durationBuckets,
		}, []string{"provider", "model"}),
		timeToFirstToken: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "upstream", Name: "time_to_first_token_seconds",
			Help:    "Time from sending a streamed model call to its first token, by provider and upstream model.",
			Buckets: ttftBuckets,
		}, []string{"provider", "model"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "tokens_total",
			Help: "Model tokens used, by kind (prompt, completion, connector) and model.",
		}, []string{"kind", "model"}),
		toolExecutions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "tool_executions_total",
			Help: "Server-side tool executions, by tool and outcome (ok, error).",
		}, []string{"tool", "outcome"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "errors_total",
			Help: "Errors answered to clients, by kind.",
		}, []string{"kind"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "conversation_runs_total",
			Help: "Conversation runs (start, append, restart), by outcome.",
		}, []string{"outcome"}),
		mcpCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "mcp", Name: "requests_total",
			Help: "Requests to MCP servers (connectors), by connector, operation (list_tools, call_tool) and outcome (ok, error; a tool's isError result counts as error).",
		}, []string{"connector", "op", "outcome"}),
		mcpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "mcp", Name: "request_duration_seconds",
			Help:    "Latency of requests to MCP servers, by connector and operation.",
			Buckets: durationBuckets,
		}, []string{"connector", "op"}),
		connectors: newLabelSet(),
		routes:     newLabelSet(),
		models:     newLabelSet(),
		providers:  newLabelSet(),
		tools:      newLabelSet(),
		kinds:      newLabelSet(),
		outcomes:   newLabelSet(),
	}
	m.reg.MustRegister(
		m.requestDuration, m.inFlight, m.upstreamDuration, m.timeToFirstToken,
		m.tokens, m.toolExecutions, m.errors, m.runs, m.mcpCalls, m.mcpDuration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry returns the private registry, for packages that add their own
// collectors. It is nil for a nil *Metrics.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry:          m.reg, // counts promhttp's own errors
		EnableOpenMetrics: false,
	})
}

// ObserveRequest records a served request. route is the ServeMux pattern
// ("GET /v1/agents/{agent_id}"; a leading method is dropped, since method is
// its own label) or "" for requests that matched no route. Never pass a raw
// URL path: it would make one series per id.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requestDuration.WithLabelValues(m.routes.get(routeLabel(route)), methodLabel(method), statusClass(status)).
		Observe(d.Seconds())
}

// TrackInFlight counts a request as in flight until done is called.
func (m *Metrics) TrackInFlight() (done func()) {
	if m == nil {
		return func() {}
	}
	m.inFlight.Inc()
	var once sync.Once
	return func() { once.Do(m.inFlight.Dec) }
}

// ObserveUpstream records one model call to an upstream: d is its whole
// duration, ttft the time to the first streamed token (0 when not streamed
// or when no token came, and then not recorded).
func (m *Metrics) ObserveUpstream(provider, model string, d, ttft time.Duration) {
	if m == nil {
		return
	}
	p, mo := m.providers.get(provider), m.models.get(model)
	m.upstreamDuration.WithLabelValues(p, mo).Observe(d.Seconds())
	if ttft > 0 {
		m.timeToFirstToken.WithLabelValues(p, mo).Observe(ttft.Seconds())
	}
}

// AddTokens counts the tokens of a model call or run. Zero and negative
// counts are ignored.
func (m *Metrics) AddTokens(model string, prompt, completion, connector int) {
	if m == nil {
		return
	}
	mo := m.models.get(model)
	for _, c := range []struct {
		kind string
		n    int
	}{{TokensPrompt, prompt}, {TokensCompletion, completion}, {TokensConnector, connector}} {
		if c.n > 0 {
			m.tokens.WithLabelValues(c.kind, mo).Add(float64(c.n))
		}
	}
}

// MCPCall records one request to an MCP server (op: list_tools or
// call_tool), by connector name and outcome, with its latency.
func (m *Metrics) MCPCall(connector, op string, d time.Duration, ok bool) {
	if m == nil {
		return
	}
	outcome := "ok"
	if !ok {
		outcome = "error"
	}
	name := m.connectors.get(connector)
	m.mcpCalls.WithLabelValues(name, op, outcome).Inc()
	m.mcpDuration.WithLabelValues(name, op).Observe(d.Seconds())
}

// ToolExecution counts one server-side tool execution.
func (m *Metrics) ToolExecution(tool string, ok bool) {
	if m == nil {
		return
	}
	outcome := "ok"
	if !ok {
		outcome = "error"
	}
	m.toolExecutions.WithLabelValues(m.tools.get(tool), outcome).Inc()
}

// Error counts an error answered to a client; kind is apierr.Kind.String().
func (m *Metrics) Error(kind string) {
	if m == nil {
		return
	}
	m.errors.WithLabelValues(m.kinds.get(kind)).Inc()
}

// Run counts a finished conversation run by outcome, for instance
// "completed", "function_call" (stopped for a client-side call), "handoff",
// "max_iterations", "error" or "canceled".
func (m *Metrics) Run(outcome string) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(m.outcomes.get(outcome)).Inc()
}

// routeLabel drops the method of a "METHOD /path" pattern.
func routeLabel(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 && !strings.HasPrefix(pattern, "/") {
		pattern = strings.TrimSpace(pattern[i+1:])
	}
	return pattern
}

// methodLabel keeps standard methods and folds anything else into "other".
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return method
	default:
		return "other"
	}
}

// statusClass turns 404 into "4xx".
func statusClass(status int) string {
	if status == 0 {
		status = http.StatusOK
	}
	if status < 100 || status > 599 {
		return "other"
	}
	return string(rune('0'+status/100)) + "xx"
}

// labelSet admits up to maxLabelValues distinct values for a label.
type labelSet struct {
	mu   sync.RWMutex
	seen map[string]struct{}
}

func newLabelSet() *labelSet { return &labelSet{seen: map[string]struct{}{}} }

// get returns v if it is known or there is room for it, else "other".
// The empty value is reported as "unknown".
func (s *labelSet) get(v string) string {
	if v == "" {
		return "unknown"
	}
	s.mu.RLock()
	_, ok := s.seen[v]
	s.mu.RUnlock()
	if ok {
		return v
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[v]; ok {
		return v
	}
	if len(s.seen) >= maxLabelValues {
		return "other"
	}
	s.seen[v] = struct{}{}
	return v
}
