package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
)

type logInfoKey struct{}

// logInfo collects what a request's log line says beyond the basics.
type logInfo struct {
	mu        sync.Mutex
	route     string
	workspace string
	key       string
	err       *apierr.Error
	attrs     []slog.Attr
}

func logInfoFrom(ctx context.Context) *logInfo {
	li, _ := ctx.Value(logInfoKey{}).(*logInfo)
	return li
}

func (li *logInfo) setError(e *apierr.Error) {
	li.mu.Lock()
	li.err = e
	li.mu.Unlock()
}

// Annotate adds attributes (agent_id, conversation_id, model, usage...) to
// the request's log line.
func Annotate(ctx context.Context, attrs ...slog.Attr) {
	if li := logInfoFrom(ctx); li != nil {
		li.mu.Lock()
		li.attrs = append(li.attrs, attrs...)
		li.mu.Unlock()
	}
}

func (s *Server) logRequest(r *http.Request, w *statusWriter, id string, li *logInfo, d time.Duration) {
	li.mu.Lock()
	defer li.mu.Unlock()
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	attrs := []slog.Attr{
		slog.String("request_id", id),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("route", li.route),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.Int64("bytes", w.bytes),
	}
	if li.workspace != "" {
		attrs = append(attrs, slog.String("workspace", li.workspace), slog.String("key_id", li.key))
	}
	attrs = append(attrs, li.attrs...)
	level := slog.LevelInfo
	if li.err != nil {
		attrs = append(attrs, slog.String("error_kind", li.err.Kind.String()))
		if li.err.Kind == apierr.Internal || li.err.Kind == apierr.Unavailable || li.err.Kind == apierr.Upstream {
			level = slog.LevelError
			attrs = append(attrs, slog.String("error", li.err.Error()))
		}
	}
	s.Logger.LogAttrs(r.Context(), level, "request", attrs...)
	s.Metrics.ObserveRequest(li.route, r.Method, status, d)
	if li.err != nil {
		s.Metrics.Error(li.err.Kind.String())
	}
}

// statusWriter records the status and size of a response. It forwards
// Flush so that streaming works through it.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status = code
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status = http.StatusOK
		w.wrote = true
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush sends buffered data to the client.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "req_" + hex.EncodeToString(b[:])
}

func stack() string { return string(debug.Stack()) }
