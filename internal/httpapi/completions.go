package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/completion"
	"github.com/tramontane/tramontane/internal/conversation"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/wire"
	"github.com/tramontane/tramontane/internal/ratelimit"
)

// chatCompletions serves POST /v1/chat/completions.
func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) {
	var req completion.Request
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	c, err := s.Completions.PrepareChat(&req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.complete(w, r, c)
}

// agentsCompletions serves POST /v1/agents/completions.
func (s *Server) agentsCompletions(w http.ResponseWriter, r *http.Request) {
	var req completion.Request
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	if req.AgentID != nil {
		Annotate(r.Context(), slog.String("agent_id", *req.AgentID))
	}
	c, err := s.Completions.PrepareAgent(r.Context(), ws(r), &req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.complete(w, r, c)
}

// complete runs a prepared completion as one JSON answer or as
// data-only SSE chunks ending with "data: [DONE]", and charges its tokens
// to the caller's rate limits.
func (s *Server) complete(w http.ResponseWriter, r *http.Request, c *completion.Call) {
	Annotate(r.Context(), slog.String("model", c.Model))
	var usage model.Usage
	defer func() {
		Annotate(r.Context(), slog.Int("prompt_tokens", usage.PromptTokens), slog.Int("completion_tokens", usage.CompletionTokens), slog.Int("total_tokens", usage.TotalTokens))
		if usage.TotalTokens > 0 {
			ratelimit.ChargeFromContext(r.Context(), usage.TotalTokens)
			s.recordUsage(r, c.Model, usage)
		}
	}()
	if !wantsStream(r, c.Stream) {
		res, err := c.Complete(r.Context())
		if err != nil {
			writeError(w, r, err)
			return
		}
		usage = res.Usage
		if len(c.Guardrails) > 0 {
			// What the guardrails checked, as conversation responses report it.
			writeJSON(w, http.StatusOK, struct {
				wire.ChatResponse
				Guardrails any `json:"guardrails"`
			}{res.Response, c.Guardrails})
			return
		}
		writeJSON(w, http.StatusOK, res.Response)
		return
	}
	sw := &chunkWriter{w: w, rc: http.NewResponseController(w)}
	u, err := c.StreamTo(r.Context(), sw.chunk)
	usage = u
	if err != nil {
		if !sw.started {
			writeError(w, r, err)
			return
		}
		if li := logInfoFrom(r.Context()); li != nil {
			li.setError(apierr.As(err))
		}
		sw.fail(err)
		return
	}
	sw.done()
}

// chunkWriter writes completion chunks the way Mistral streams them: one
// "data: {json}" line per chunk, a blank line, and "data: [DONE]" at the
// end. Nothing is written before the first chunk, so a failure before any
// output is still a plain JSON error with its status.
type chunkWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
	broken  error
}

func (cw *chunkWriter) chunk(c wire.ChatResponse) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return cw.data(b)
}

func (cw *chunkWriter) data(b []byte) error {
	if cw.broken != nil {
		return cw.broken
	}
	if !cw.started {
		h := cw.w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no")
		cw.w.WriteHeader(http.StatusOK)
		cw.started = true
	}
	_ = cw.rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 0, len(b)+8)
	buf = append(buf, "data: "...)
	buf = append(buf, b...)
	buf = append(buf, "\n\n"...)
	if _, err := cw.w.Write(buf); err != nil {
		cw.broken = err
		return err
	}
	if err := cw.rc.Flush(); err != nil {
		cw.broken = err
		return err
	}
	return nil
}

// done ends a successful stream.
func (cw *chunkWriter) done() { _ = cw.data([]byte("[DONE]")) }

// fail ends a stream that had begun with an error object in Mistral's
// shape, and no [DONE].
func (cw *chunkWriter) fail(err error) {
	e := apierr.As(err)
	msg := e.Message
	if e.Kind == apierr.Internal {
		msg = "internal server error"
	}
	b, _ := json.Marshal(map[string]any{"object": "error", "message": msg, "type": e.Kind.String(), "param": nil, "code": e.Kind.Status()})
	_ = cw.data(b)
}

// needCompletions answers 503 when the server was built without a
// completion service.
func (s *Server) needCompletions(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Completions == nil {
			writeError(w, r, apierr.New(apierr.Unavailable, "completions are not enabled on this server"))
			return
		}
		h(w, r)
	}
}

// fimCompletions serves POST /v1/fim/completions.
func (s *Server) fimCompletions(w http.ResponseWriter, r *http.Request) {
	var req completion.FIMRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	c, err := s.Completions.PrepareFIM(&req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	Annotate(r.Context(), slog.String("model", c.Model))
	res, chunks, err := c.Run(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	Annotate(r.Context(), slog.Int("prompt_tokens", res.Usage.PromptTokens), slog.Int("completion_tokens", res.Usage.CompletionTokens), slog.Int("total_tokens", res.Usage.TotalTokens))
	if res.Usage.TotalTokens > 0 {
		ratelimit.ChargeFromContext(r.Context(), res.Usage.TotalTokens)
		s.recordUsage(r, c.Model, res.Usage)
	}
	if !wantsStream(r, c.Stream) {
		writeJSON(w, http.StatusOK, res.Response)
		return
	}
	sw := &chunkWriter{w: w, rc: http.NewResponseController(w)}
	for _, ch := range chunks {
		if sw.chunk(ch) != nil {
			return
		}
	}
	sw.done()
}

// recordUsage adds a stateless completion's tokens to the workspace's
// usage ledger, as runs do.
func (s *Server) recordUsage(r *http.Request, modelName string, u model.Usage) {
	if s.Usage != nil {
		s.Usage.RecordUsage(r.Context(), ws(r), modelName, conversation.Usage{
			PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens})
	}
}
