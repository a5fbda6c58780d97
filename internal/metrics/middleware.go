package metrics

import (
	"net/http"
	"time"
)

// Middleware records every request's duration, route, method and status
// class, and counts it as in flight while it is served. route names the
// request's route pattern and is called after the wrapped handler returns,
// so it can read what routing found; nil means r.Pattern, which
// http.ServeMux sets on the request it is given when the middleware wraps
// the mux directly.
//
// A server that already wraps its responses to log them can instead call
// TrackInFlight and ObserveRequest from its own logging code, where the
// matched pattern and the status are known.
func (m *Metrics) Middleware(route func(*http.Request) string) func(http.Handler) http.Handler {
	if m == nil {
		return func(next http.Handler) http.Handler { return next }
	}
	if route == nil {
		route = func(r *http.Request) string { return r.Pattern }
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			done := m.TrackInFlight()
			sw := &statusWriter{ResponseWriter: w}
			defer func() {
				done()
				m.ObserveRequest(route(r), r.Method, sw.status, time.Since(start))
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// statusWriter records the status of a response. It forwards Flush, and
// Unwrap lets http.ResponseController reach the writer beneath.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends buffered data to the client, for streamed responses.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		f.Flush()
	}
}

// Unwrap returns the wrapped writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
