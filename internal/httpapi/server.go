// Package httpapi is Tramontane's HTTP transport: the route table,
// middleware (request id, logging, auth, body limits, panic recovery) and
// one file of handlers per resource. Handlers decode, call one domain
// function and encode; the rules live in the domain packages.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/auth"
	"github.com/tramontane/tramontane/internal/completion"
	"github.com/tramontane/tramontane/internal/connector"
	"github.com/tramontane/tramontane/internal/conversation"
	"github.com/tramontane/tramontane/internal/engine"
	"github.com/tramontane/tramontane/internal/file"
	"github.com/tramontane/tramontane/internal/library"
	"github.com/tramontane/tramontane/internal/metrics"
	"github.com/tramontane/tramontane/internal/moderation"
	"github.com/tramontane/tramontane/internal/ratelimit"
	"github.com/tramontane/tramontane/internal/store"
)

// ModelCard is the wire shape of one model in /v1/models.
type ModelCard struct {
	ID                      string          `json:"id"`
	Object                  string          `json:"object"`
	Created                 int64           `json:"created"`
	OwnedBy                 string          `json:"owned_by"`
	Type                    string          `json:"type"`
	Name                    string          `json:"name"`
	Description             string          `json:"description"`
	MaxContextLength        int             `json:"max_context_length"`
	Aliases                 []string        `json:"aliases"`
	Capabilities            map[string]bool `json:"capabilities"`
	DefaultModelTemperature *float64        `json:"default_model_temperature,omitempty"`
}

// ModelCatalog lists the models the server routes.
type ModelCatalog interface {
	// Cards lists the routed models.
	Cards(ctx context.Context) []ModelCard
	// Card describes one name the server would route, by name or alias.
	Card(ctx context.Context, id string) (ModelCard, bool)
}

// Deps are the services the API serves.
type Deps struct {
	Store  store.Store
	Auth   *auth.Service
	Agents *agent.Service
	Files  *file.Service
	Models ModelCatalog
	Engine *engine.Engine
	Logger *slog.Logger
	// Limiter enforces per-key and per-workspace rate limits (nil: none).
	Limiter *ratelimit.Limiter
	// Metrics collects Prometheus metrics (nil: none).
	Metrics *metrics.Metrics
	// StreamPing is how long a stream may stay quiet before it gets a
	// keep-alive comment (default 10s).
	StreamPing time.Duration
	// BodyIdleTimeout ends a request whose body sends no byte for this
	// long (default DefaultBodyIdleTimeout); BodyMinRate is the average
	// rate in bytes per second a body must keep after a grace period
	// (default DefaultBodyMinRate; negative: no rate rule).
	BodyIdleTimeout time.Duration
	BodyMinRate     int64
	// MaxBodyBytes bounds JSON request bodies.
	MaxBodyBytes int64
	// PublicURL, when set, is the base of signed URLs; else the request's
	// own scheme and host are used.
	PublicURL string
	// Libraries serves /v1/libraries (nil: those routes answer 503).
	Libraries *library.Service
	// ModelRouter resolves model names for /v1/embeddings (*model.Router).
	ModelRouter ModelResolver
	// Connectors serves /v1/connectors (nil: those routes answer 503).
	Connectors *connector.Service
	// Completions serves /v1/chat/completions, /v1/agents/completions and
	// /v1/fim/completions (nil: those routes answer 503).
	Completions *completion.Service
	// Moderation serves /v1/moderations and /v1/chat/moderations (nil or
	// unconfigured: 503 naming the setting).
	Moderation *moderation.Service
	// Usage records each run's token usage per workspace and model (nil:
	// not recorded).
	Usage UsageRecorder
}

// UsageRecorder is told the usage of every finished run.
type UsageRecorder interface {
	RecordUsage(ctx context.Context, workspace, model string, u conversation.Usage)
}

// Server is the HTTP API.
type Server struct {
	Deps
	mux    *http.ServeMux
	routes []RouteInfo
}

// RouteInfo describes one registered route.
type RouteInfo struct {
	// Pattern is the ServeMux pattern: "METHOD /path/{wildcard}".
	Pattern string
	// Public routes skip authentication (health, metrics, signed links).
	Public bool
}

// Routes lists every registered route, in registration order (the
// isolation sweep walks it, so a new route cannot escape its checks).
func (s *Server) Routes() []RouteInfo { return append([]RouteInfo(nil), s.routes...) }

// New builds the API's handler.
func New(d Deps) *Server {
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 10 << 20
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.BodyIdleTimeout <= 0 {
		d.BodyIdleTimeout = DefaultBodyIdleTimeout
	}
	if d.BodyMinRate == 0 {
		d.BodyMinRate = DefaultBodyMinRate
	}
	s := &Server{Deps: d, mux: http.NewServeMux()}
	s.register()
	return s
}

type route struct {
	pattern string
	h       http.HandlerFunc
	public  bool
}

func (s *Server) register() {
	rs := []route{
		{pattern: "GET /healthz", h: s.health, public: true},
		{pattern: "GET /metrics", h: s.metrics, public: true},
		{pattern: "GET /files/signed/{file_id}", h: s.signedDownload, public: true},
		{pattern: "GET /documents/signed/{document_id}", h: s.needLibraries(s.signedDocument), public: true},
		{pattern: "GET /documents/signed/{document_id}/text", h: s.needLibraries(s.signedDocumentText), public: true},

		{pattern: "GET /v1/models", h: s.listModels},
		{pattern: "GET /v1/models/{model_id}", h: s.getModel},

		{pattern: "POST /v1/agents", h: s.createAgent},
		{pattern: "GET /v1/agents", h: s.listAgents},
		{pattern: "GET /v1/agents/pages", h: s.listAgentPages},
		{pattern: "GET /v1/agents/{agent_id}", h: s.getAgent},
		{pattern: "PATCH /v1/agents/{agent_id}", h: s.updateAgent},
		{pattern: "DELETE /v1/agents/{agent_id}", h: s.deleteAgent},
		{pattern: "PATCH /v1/agents/{agent_id}/version", h: s.updateAgentVersion},
		{pattern: "GET /v1/agents/{agent_id}/versions", h: s.listAgentVersions},
		{pattern: "GET /v1/agents/{agent_id}/versions/{version}", h: s.getAgentVersion},
		{pattern: "PUT /v1/agents/{agent_id}/aliases", h: s.setAlias},
		{pattern: "GET /v1/agents/{agent_id}/aliases", h: s.listAliases},
		{pattern: "DELETE /v1/agents/{agent_id}/aliases", h: s.deleteAlias},

		{pattern: "POST /v1/conversations", h: s.startConversation},
		{pattern: "GET /v1/conversations", h: s.listConversations},
		{pattern: "GET /v1/conversations/{conversation_id}", h: s.getConversation},
		{pattern: "DELETE /v1/conversations/{conversation_id}", h: s.deleteConversation},
		{pattern: "POST /v1/conversations/{conversation_id}", h: s.appendConversation},
		{pattern: "GET /v1/conversations/{conversation_id}/history", h: s.conversationHistory},
		{pattern: "GET /v1/conversations/{conversation_id}/messages", h: s.conversationMessages},
		{pattern: "POST /v1/conversations/{conversation_id}/restart", h: s.restartConversation},

		{pattern: "POST /v1/files", h: s.uploadFile},
		{pattern: "GET /v1/files", h: s.listFiles},
		{pattern: "GET /v1/files/{file_id}", h: s.getFile},
		{pattern: "DELETE /v1/files/{file_id}", h: s.deleteFile},
		{pattern: "GET /v1/files/{file_id}/content", h: s.downloadFile},
		{pattern: "GET /v1/files/{file_id}/url", h: s.fileURL},

		{pattern: "POST /v1/embeddings", h: s.embeddings},

		// Stateless completions (internal/completion).
		{pattern: "POST /v1/chat/completions", h: s.needCompletions(s.chatCompletions)},
		{pattern: "POST /v1/agents/completions", h: s.needCompletions(s.agentsCompletions)},
		{pattern: "POST /v1/fim/completions", h: s.needCompletions(s.fimCompletions)},
		{pattern: "POST /v1/moderations", h: s.moderations},
		{pattern: "POST /v1/chat/moderations", h: s.chatModerations},

		{pattern: "POST /v1/libraries", h: s.needLibraries(s.createLibrary)},
		{pattern: "GET /v1/libraries", h: s.needLibraries(s.listLibraries)},
		{pattern: "GET /v1/libraries/{library_id}", h: s.needLibraries(s.getLibrary)},
		{pattern: "PATCH /v1/libraries/{library_id}", h: s.needLibraries(s.updateLibrary)},
		{pattern: "PUT /v1/libraries/{library_id}", h: s.needLibraries(s.updateLibrary)},
		{pattern: "DELETE /v1/libraries/{library_id}", h: s.needLibraries(s.deleteLibrary)},
		{pattern: "GET /v1/libraries/{library_id}/share", h: s.needLibraries(s.listShares)},
		{pattern: "PUT /v1/libraries/{library_id}/share", h: s.needLibraries(s.putShare)},
		{pattern: "DELETE /v1/libraries/{library_id}/share", h: s.needLibraries(s.deleteShare)},
		{pattern: "GET /v1/libraries/{library_id}/documents", h: s.needLibraries(s.listDocuments)},
		{pattern: "POST /v1/libraries/{library_id}/documents", h: s.needLibraries(s.uploadDocument)},
		{pattern: "GET /v1/libraries/{library_id}/documents/{document_id}", h: s.needLibraries(s.getDocument)},
		{pattern: "PATCH /v1/libraries/{library_id}/documents/{document_id}", h: s.needLibraries(s.updateDocument)},
		{pattern: "PUT /v1/libraries/{library_id}/documents/{document_id}", h: s.needLibraries(s.updateDocument)},
		{pattern: "DELETE /v1/libraries/{library_id}/documents/{document_id}", h: s.needLibraries(s.deleteDocument)},
		{pattern: "GET /v1/libraries/{library_id}/documents/{document_id}/status", h: s.needLibraries(s.documentStatus)},
		{pattern: "GET /v1/libraries/{library_id}/documents/{document_id}/text_content", h: s.needLibraries(s.documentText)},
		{pattern: "GET /v1/libraries/{library_id}/documents/{document_id}/signed-url", h: s.needLibraries(s.documentSignedURL)},
		{pattern: "GET /v1/libraries/{library_id}/documents/{document_id}/extracted-text-signed-url", h: s.needLibraries(s.documentTextSignedURL)},
		{pattern: "POST /v1/libraries/{library_id}/documents/{document_id}/reprocess", h: s.needLibraries(s.reprocessDocument)},
	}
	rs = append(rs, s.connectorRoutes()...)
	for _, r := range rs {
		s.Handle(r.pattern, r.h, r.public)
	}
}

// Handle registers a route; non-public routes are authenticated and rate
// limited.
func (s *Server) Handle(pattern string, h http.Handler, public bool) {
	if !public {
		h = s.authenticate(s.Limiter.Middleware(principalLimits, writeError)(h))
	}
	s.mux.Handle(pattern, h)
	s.routes = append(s.routes, RouteInfo{Pattern: pattern, Public: public})
}

// principalLimits tells the rate limiter who a request is.
func principalLimits(r *http.Request) (string, string, ratelimit.Limits, string, bool) {
	p := auth.From(r.Context())
	if p == nil || p.Key == nil {
		return "", "", ratelimit.Limits{}, "", false
	}
	return p.KeyID, p.WorkspaceID, ratelimit.Limits{RPS: p.Key.RPS, TPM: p.Key.TPM}, p.Key.Tier, true
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	if s.Metrics == nil {
		writeError(w, r, apierr.NotFoundf("metrics are disabled"))
		return
	}
	s.Metrics.Handler().ServeHTTP(w, r)
}

// ServeHTTP runs the middleware chain and the route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer s.Metrics.TrackInFlight()()
	id := r.Header.Get("X-Request-ID")
	if id == "" || len(id) > 128 {
		id = newRequestID()
	}
	w.Header().Set("X-Request-ID", id)
	li := &logInfo{}
	ctx := context.WithValue(r.Context(), logInfoKey{}, li)
	r = r.WithContext(ctx)
	rw := &statusWriter{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			s.Logger.Error("panic", "request_id", id, "panic", p, "stack", stack())
			if !rw.wrote {
				writeError(rw, r, apierr.New(apierr.Internal, "internal server error"))
			}
		}
		s.logRequest(r, rw, id, li, time.Since(start))
	}()
	if r.Body != nil && r.Body != http.NoBody {
		g := newBodyGuard(w, r.Body, s.BodyIdleTimeout, s.BodyMinRate)
		defer g.abandon()
		r.Body = g
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			r.Body = http.MaxBytesReader(rw, r.Body, s.MaxBodyBytes)
		}
	}
	_, pattern := s.mux.Handler(r)
	if pattern == "" {
		s.noRoute(rw, r)
		return
	}
	li.route = pattern
	// Dispatch through the mux itself: mux.Handler does not set the
	// request's path values, so r.PathValue would be empty.
	s.mux.ServeHTTP(rw, r)
}

// noRoute answers 405 when the path exists for another method, else 404.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	for _, m := range []string{"GET", "POST", "PATCH", "PUT", "DELETE"} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != "" {
			writeError(w, r, apierr.New(apierr.MethodNotAllowed, "method %s is not allowed on %s", r.Method, r.URL.Path))
			return
		}
	}
	writeError(w, r, apierr.NotFoundf("no route for %s %s", r.Method, r.URL.Path))
}

func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A principal already in the context was set by trusted in-process
		// code (the console, from its session); clients cannot set one.
		p := auth.From(r.Context())
		if p == nil {
			var err error
			p, err = s.Auth.Authenticate(r.Context(), r.Header.Get("Authorization"))
			if err != nil {
				writeError(w, r, err)
				return
			}
		}
		if li := logInfoFrom(r.Context()); li != nil {
			li.workspace = p.WorkspaceID
			li.key = p.KeyID
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

// ws returns the workspace of an authenticated request.
func ws(r *http.Request) string {
	if p := auth.From(r.Context()); p != nil {
		return p.WorkspaceID
	}
	return ""
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		writeError(w, r, apierr.Wrap(apierr.Unavailable, err, "store unreachable"))
		return
	}
	out := map[string]any{"status": "ok"}
	if s.Engine != nil {
		out["connectors"] = s.Engine.ConnectorStatus()
	}
	if s.Connectors != nil {
		if st := s.Connectors.Status(ctx); len(st) > 0 {
			out["mcp_connectors"] = st
		}
	}
	writeJSON(w, http.StatusOK, out)
}
