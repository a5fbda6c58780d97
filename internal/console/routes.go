package console

import "net/http"

// routeMux is the console's ServeMux, recording every pattern registered
// on it so that the isolation sweep can walk the console's routes (a route
// added in routes() is listed without any further step).
type routeMux struct {
	*http.ServeMux
	patterns []string
}

// Handle registers h for pattern and records the pattern.
func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.ServeMux.Handle(pattern, h)
	m.patterns = append(m.patterns, pattern)
}

// HandleFunc registers f for pattern and records the pattern.
func (m *routeMux) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	m.ServeMux.HandleFunc(pattern, f)
	m.patterns = append(m.patterns, pattern)
}

// Routes lists the ServeMux pattern ("METHOD /console/path/{wildcard}", or
// a path alone for any method) of every console route, in registration
// order. The console's isolation sweep walks it, so a new page taking an
// id cannot escape its checks.
func (c *Console) Routes() []string { return append([]string(nil), c.mux.patterns...) }
