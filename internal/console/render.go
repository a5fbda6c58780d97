package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"time"
)

// page is what every template receives.
type page struct {
	Title   string
	Nav     string // the active section
	CSRF    string
	KeyName string
	Error   string
	Notice  string
	Data    any
}

var pageNames = []string{"login", "error", "agents", "agent", "agent_edit", "agent_diff", "playground",
	"conversations", "conversation", "libraries", "library", "files", "connectors", "connector", "usage"}

var funcs = template.FuncMap{
	// json pretty-prints a value.
	"json": func(v any) string {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	},
	// compact is a value's JSON on one line.
	"compact": func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	},
	// when formats an RFC 3339 time (or a Unix time) for people.
	"when": func(v any) string {
		switch t := v.(type) {
		case string:
			if p, err := time.Parse(time.RFC3339Nano, t); err == nil {
				return p.UTC().Format("2006-01-02 15:04:05")
			}
			return t
		case time.Time:
			return t.UTC().Format("2006-01-02 15:04:05")
		case float64:
			return time.Unix(int64(t), 0).UTC().Format("2006-01-02 15:04:05")
		}
		return fmt.Sprint(v)
	},
	"str": func(v any) string { return fmt.Sprint(v) },
	"eq2": func(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) },
	// chunks splits a message's content into text, citations and files.
	"chunks": contentChunks,
}

// chunk is one piece of a message's content, for the timeline.
type chunk struct {
	Text   string
	URL    string // a citation's source
	Title  string
	FileID string // a generated file
}

func contentChunks(v any) []chunk {
	switch c := v.(type) {
	case string:
		return []chunk{{Text: c}}
	case []any:
		var out []chunk
		for _, x := range c {
			m, _ := x.(map[string]any)
			switch m["type"] {
			case "text":
				out = append(out, chunk{Text: str(m["text"])})
			case "tool_reference":
				out = append(out, chunk{URL: str(m["url"]), Title: str(m["title"])})
			case "tool_file":
				out = append(out, chunk{FileID: str(m["file_id"]), Title: str(m["file_name"])})
			}
		}
		return out
	}
	return nil
}

func parsePages() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// render writes a page. The session's CSRF token and key name fill in
// when the request is signed in.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	if ss := current(r); ss != nil {
		p.CSRF, p.KeyName = ss.csrf, ss.keyName
	}
	var buf bytes.Buffer
	if err := c.pages[name].Execute(&buf, p); err != nil {
		c.Logger.Error("console: render", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail renders an API error as a page with its status.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	if ae, ok := err.(*apiError); ok {
		status = ae.Status
	}
	title := http.StatusText(status)
	c.render(w, r, status, "error", page{Title: title, Error: errorMessage(err)})
}
