// Package fakeupstream is a fake OpenAI-compatible server driven by the
// scripted model's engine. Tests mount it with httptest; cmd/fakeupstream
// serves it on loopback for the SDK conformance suites.
//
// It serves POST /v1/chat/completions (streaming and not, either dialect),
// GET /v1/models, POST /v1/moderations, POST /v1/completions and
// /v1/fim/completions (see moderation.go), and optionally POST /v1/embeddings (deterministic hashed
// vectors), POST /v1/images/generations (a tiny PNG as b64_json) and a fake
// SearXNG instance with a few web pages (GET /search, GET /pages/…; see
// searxng.go). Paths are also accepted without the /v1 prefix. Every
// request is recorded: GET /_requests returns them as JSON and
// DELETE /_requests clears them.
package fakeupstream

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tramontane/tramontane/internal/model/scripted"
	"github.com/tramontane/tramontane/internal/model/wire"
)

// Options configure a Server.
type Options struct {
	// Script drives chat answers (nil: every answer comes from the
	// engine's built-in "no rule matches" reply).
	Script *scripted.Script
	// BreakStreamWithTools answers 400 to streaming requests that carry
	// tools, like backends with that bug (ollama#9632, vllm#20028).
	BreakStreamWithTools bool
	// Images serves POST /v1/images/generations. A prompt containing
	// ImagesErrorTrigger gets an HTTP 500 with an OpenAI-shaped error.
	Images bool
	// SearXNG serves a fake SearXNG JSON API (GET /search) whose results
	// point at pages this server serves (GET /pages/…).
	SearXNG bool
	// EmbeddingsDim, when positive, serves POST /v1/embeddings with
	// vectors of that size.
	EmbeddingsDim int
	// APIKey, when set, is required as a bearer token.
	APIKey string
	// OmitUsage never reports usage in streams, like servers that ignore
	// stream_options.include_usage.
	OmitUsage bool
	// Logger logs each request (nil: silent).
	Logger *slog.Logger
	// NoRecord keeps no record of requests (GET /_requests stays empty),
	// so that a long benchmark does not grow the server's memory.
	NoRecord bool
}

// Recorded is one request the server received.
type Recorded struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	// Query is the raw query string, if any.
	Query string `json:"query,omitempty"`
	// Body is the JSON body (a JSON string if the body was not JSON).
	Body json.RawMessage `json:"body,omitempty"`
	// Authorized tells whether an Authorization header was present (its
	// value is not recorded).
	Authorized bool      `json:"authorized"`
	Time       time.Time `json:"time"`
}

// Server is the fake upstream; it is an http.Handler.
type Server struct {
	opts   Options
	mux    *http.ServeMux
	seq    atomic.Int64
	mu     sync.Mutex
	engine *scripted.Engine
	reqs   []Recorded
}

// New makes a server.
func New(opts Options) *Server {
	s := &Server{opts: opts, mux: http.NewServeMux(), engine: scripted.NewEngine(opts.Script)}
	for _, prefix := range []string{"/v1", ""} {
		s.mux.HandleFunc("POST "+prefix+"/chat/completions", s.chat)
		s.mux.HandleFunc("GET "+prefix+"/models", s.models)
		s.mux.HandleFunc("POST "+prefix+"/moderations", s.moderations)
		s.mux.HandleFunc("POST "+prefix+"/completions", s.fim)
		s.mux.HandleFunc("POST "+prefix+"/fim/completions", s.fim)
		if opts.EmbeddingsDim > 0 {
			s.mux.HandleFunc("POST "+prefix+"/embeddings", s.embeddings)
		}
		if opts.Images {
			s.mux.HandleFunc("POST "+prefix+"/images/generations", s.images)
		}
	}
	if opts.SearXNG {
		s.mux.HandleFunc("GET /search", s.searxng)
		s.mux.HandleFunc("GET /pages/", s.page)
	}
	s.mux.HandleFunc("GET /_requests", s.listRequests)
	s.mux.HandleFunc("DELETE /_requests", s.clearRequests)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	return s
}

// SetScript replaces the script (and resets its "times" counters).
func (s *Server) SetScript(sc *scripted.Script) {
	s.mu.Lock()
	s.engine = scripted.NewEngine(sc)
	s.mu.Unlock()
}

// Requests returns the requests recorded so far, oldest first.
func (s *Server) Requests() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Recorded(nil), s.reqs...)
}

// ChatRequests returns the decoded bodies of the chat completion requests
// recorded so far.
func (s *Server) ChatRequests() []wire.ChatRequest {
	var out []wire.ChatRequest
	for _, r := range s.Requests() {
		if strings.HasSuffix(r.Path, "/chat/completions") {
			var cr wire.ChatRequest
			if json.Unmarshal(r.Body, &cr) == nil {
				out = append(out, cr)
			}
		}
	}
	return out
}

// Reset forgets the recorded requests.
func (s *Server) Reset() {
	s.mu.Lock()
	s.reqs = nil
	s.mu.Unlock()
}

// ServeHTTP records the request, checks the key and dispatches.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/_requests" && r.URL.Path != "/healthz" {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if err != nil {
			writeError(w, http.StatusBadRequest, "cannot read body", 0)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := Recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Authorized: r.Header.Get("Authorization") != "", Time: time.Now().UTC()}
		if len(body) > 0 {
			if json.Valid(body) {
				rec.Body = body
			} else {
				rec.Body, _ = json.Marshal(string(body))
			}
		}
		if !s.opts.NoRecord {
			s.mu.Lock()
			s.reqs = append(s.reqs, rec)
			s.mu.Unlock()
		}
		if s.opts.Logger != nil {
			s.opts.Logger.Info("fakeupstream request", "method", r.Method, "path", r.URL.Path, "bytes", len(body))
		}
		// The fake web (search API and pages) is public, like the real one.
		public := s.opts.SearXNG && (r.URL.Path == "/search" || strings.HasPrefix(r.URL.Path, "/pages/"))
		if s.opts.APIKey != "" && !public && r.Header.Get("Authorization") != "Bearer "+s.opts.APIKey {
			writeError(w, http.StatusUnauthorized, "invalid or missing API key", 0)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) listRequests(w http.ResponseWriter, _ *http.Request) {
	reqs := s.Requests()
	if reqs == nil {
		reqs = []Recorded{}
	}
	writeJSON(w, http.StatusOK, reqs)
}

func (s *Server) clearRequests(w http.ResponseWriter, _ *http.Request) {
	s.Reset()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) models(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list",
		"data": []map[string]any{{
			"id": "scripted", "object": "model", "created": 0, "owned_by": "fakeupstream",
		}},
	})
}

// writeError writes an OpenAI-shaped error body.
func writeError(w http.ResponseWriter, status int, msg string, retryAfter int) {
	if retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(retryAfter))
	}
	typ := "invalid_request_error"
	if status >= 500 {
		typ = "server_error"
	} else if status == http.StatusTooManyRequests {
		typ = "rate_limit_error"
	}
	writeJSON(w, status, map[string]any{
		"error": map[string]any{"message": msg, "type": typ, "code": status},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var cr wire.ChatRequest
	if err := json.NewDecoder(r.Body).Decode(&cr); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error(), 0)
		return
	}
	if len(cr.Messages) == 0 {
		writeError(w, http.StatusBadRequest, "messages must not be empty", 0)
		return
	}
	if s.opts.BreakStreamWithTools && cr.Stream && len(cr.Tools) > 0 {
		writeError(w, http.StatusBadRequest, "streaming is not supported with tools (fakeupstream -break-stream-with-tools)", 0)
		return
	}
	s.mu.Lock()
	engine := s.engine
	s.mu.Unlock()
	rep := engine.Respond(wire.DecodeRequest(&cr))
	if err := sleep(r.Context(), rep.Delay); err != nil {
		return
	}
	if rep.Error != nil {
		msg := rep.Error.Message
		if msg == "" {
			msg = http.StatusText(rep.Error.Status)
		}
		writeError(w, rep.Error.Status, msg, rep.Error.RetryAfter)
		return
	}
	id := fmt.Sprintf("chatcmpl-%d", s.seq.Add(1))
	created := time.Now().Unix()
	if !cr.Stream {
		writeJSON(w, http.StatusOK, wire.EncodeResponse(rep.Response, id, cr.Model, created))
		return
	}
	withUsage := cr.StreamOptions != nil && cr.StreamOptions.IncludeUsage && !s.opts.OmitUsage
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	send := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	for i, c := range rep.Chunks() {
		if rep.FailAfterChunks > 0 && i >= rep.FailAfterChunks {
			panic(http.ErrAbortHandler) // cut the connection mid-stream
		}
		usage := c.Usage
		c.Usage = nil
		send(wire.EncodeChunk(c, id, cr.Model, created, i == 0, false))
		if usage != nil && withUsage {
			u := wire.Usage(*usage)
			send(wire.ChatResponse{ID: id, Object: "chat.completion.chunk", Created: created, Model: cr.Model,
				Choices: []wire.Choice{}, Usage: &u})
		}
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	var er wire.EmbeddingsRequest
	if err := json.NewDecoder(r.Body).Decode(&er); err != nil || len(er.Input) == 0 {
		writeError(w, http.StatusBadRequest, "body must be {model, input: string | string[]}", 0)
		return
	}
	resp := wire.EmbeddingsResponse{ID: fmt.Sprintf("emb-%d", s.seq.Add(1)), Object: "list", Model: er.Model}
	words := 0
	for i, in := range er.Input {
		resp.Data = append(resp.Data, wire.Embedding{
			Object: "embedding", Index: i, Embedding: scripted.HashEmbedding(in, s.opts.EmbeddingsDim),
		})
		words += len(strings.Fields(in))
	}
	resp.Usage = &wire.Usage{PromptTokens: words, TotalTokens: words}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) images(w http.ResponseWriter, r *http.Request) {
	var ir wire.ImagesRequest
	if err := json.NewDecoder(r.Body).Decode(&ir); err != nil || ir.Prompt == "" {
		writeError(w, http.StatusBadRequest, "body must be {prompt, n?, size?}", 0)
		return
	}
	if strings.Contains(strings.ToLower(ir.Prompt), ImagesErrorTrigger) {
		writeError(w, http.StatusInternalServerError, "fakeupstream: the image backend failed", 0)
		return
	}
	n := ir.N
	if n <= 0 {
		n = 1
	}
	if n > 4 {
		n = 4
	}
	resp := wire.ImagesResponse{Created: time.Now().Unix()}
	for i := range n {
		resp.Data = append(resp.Data, wire.Image{
			B64JSON:       base64.StdEncoding.EncodeToString(TinyPNG(fmt.Sprintf("%s#%d", ir.Prompt, i))),
			RevisedPrompt: ir.Prompt,
		})
	}
	writeJSON(w, http.StatusOK, resp)
}

// ImagesErrorTrigger in an image prompt makes /images/generations fail.
const ImagesErrorTrigger = "conf-images-error"

// TinyPNG returns a valid 8×8 PNG whose colour derives from seed.
func TinyPNG(seed string) []byte {
	sum := sha256.Sum256([]byte(seed))
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	c := color.RGBA{R: sum[0], G: sum[1], B: sum[2], A: 255}
	for y := range 8 {
		for x := range 8 {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}
