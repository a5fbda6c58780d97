package httpapi_test

import (
	"bytes"
	"mime"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/config"
)

// scriptedEnv is the real stack with a scripted model "m1" (so that
// conversation routes run to the end) and the default fixtures, plus a
// conversation {C} with its first output {ENTRY} and a document {D}.
func scriptedEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	script := filepath.Join(dir, "script.yaml")
	if err := os.WriteFile(script, []byte("default: {reply: \"You said: {{input}}\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *config.Config) {
		c.Raw = []byte("providers: [{name: s, type: scripted, script: " + script + "}]\nmodels: [{name: m1, provider: s}]\n")
	})
	fixtures(t, e)
	conv := e.callJSON("POST", "/v1/conversations", asA, `{"model":"m1","inputs":"hello","stream":false}`, 200).(map[string]any)
	e.vars["C"] = conv["conversation_id"].(string)
	e.vars["ENTRY"] = conv["outputs"].([]any)[0].(map[string]any)["id"].(string)
	body, ct := multipartBody(t, "doc.txt", []byte("a document"), nil)
	rec := e.request("POST", "/v1/libraries/"+e.vars["LA"]+"/documents", asA, body, map[string]string{"Content-Type": ct})
	if rec.Code != 200 {
		t.Fatalf("document upload: %d %s", rec.Code, rec.Body)
	}
	e.vars["D"] = decode[map[string]any](t, rec)["id"].(string)
	return e
}

// routeURL fills a route pattern's wildcards with the fixtures' ids, or
// with raw when it is not empty.
func routeURL(e *env, pattern, raw string) (method, url string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "GET", pattern
	}
	path = strings.ReplaceAll(path, "{$}", "")
	id := func(k string) string {
		if raw != "" {
			return raw
		}
		return e.vars[k]
	}
	r := strings.NewReplacer("{agent_id}", id("A"), "{conversation_id}", id("C"), "{file_id}", id("FA"),
		"{library_id}", id("LA"), "{document_id}", id("D"), "{version}", id("ZERO"), "{model_id}", id("M"))
	return method, r.Replace(path)
}

// isPage reports whether a route serves the web console's HTML (its own
// tests cover it) rather than the JSON API.
func isPage(pattern string) bool {
	_, path, ok := strings.Cut(pattern, " ")
	if !ok {
		path = pattern
	}
	return path == "/{$}" || strings.HasPrefix(path, "/console")
}

// checkSane fails on a 5xx, a non-JSON error, or a slow answer.
func checkSane(t *testing.T, what string, rec *httptest.ResponseRecorder, took time.Duration) {
	t.Helper()
	if rec.Code >= 500 {
		t.Errorf("%s: %d %s", what, rec.Code, rec.Body)
	}
	if rec.Code >= 400 && rec.Code != 405 {
		checkErrorBody(t, rec.Code, rec.Body.Bytes())
	}
	if took > 20*time.Second {
		t.Errorf("%s: took %s", what, took)
	}
}

// fuzzBoundary is the multipart boundary of multipartBody's output.
var fuzzBoundary string

// FuzzRoutes sends fuzzed bodies and ids to every route of the real route
// table: no panic, no 5xx, every refusal a Mistral-shaped error, bounded
// time.
//
//	go test -run=^$ -fuzz=FuzzRoutes -fuzztime=30s ./internal/httpapi
func FuzzRoutes(f *testing.F) {
	e := scriptedEnv(f)
	e.vars["ZERO"], e.vars["M"] = "0", "m1"
	routes := e.app.Handler.Routes()
	seeds := []string{``, `{}`, `null`, `[]`, `{"inputs":"hi","stream":false}`, `{"model":"m1","inputs":"hi"}`,
		`{"model":"m1","name":"n"}`, `{"name":"x"}`, `{"from_entry_id":"` + e.vars["ENTRY"] + `","inputs":"x"}`,
		`{"inputs":[{"type":"function.result","tool_call_id":"x","result":"y"}]}`, `{"model":"m1","inputs":"hi","stream":true}`,
		"{\"inputs\":\"\xff\xfe\"}", `{"level":"Viewer","share_with_uuid":"x","share_with_type":"Workspace"}`}
	form, ct := multipartBody(f, "f.txt", []byte("content"), map[string]string{"purpose": "ocr"})
	_, params, _ := mime.ParseMediaType(ct)
	fuzzBoundary = params["boundary"]
	for i := range routes {
		// A few seeds per route keep the baseline short (each exec goes
		// through the whole stack); the fuzzer mixes them across routes.
		for k := range 3 {
			f.Add(uint8(i), []byte(seeds[(i*3+k)%len(seeds)]), "", false)
		}
		f.Add(uint8(i), []byte(`{}`), "../../etc/passwd", false)
		f.Add(uint8(i), []byte(`{}`), "%00", false)
		f.Add(uint8(i), form.Bytes(), "", true)
		f.Add(uint8(i), form.Bytes()[:form.Len()/2], "", true)
	}
	f.Fuzz(func(t *testing.T, idx uint8, body []byte, rawID string, multipart bool) {
		r := routes[int(idx)%len(routes)]
		if r.Pattern == "GET /metrics" || isPage(r.Pattern) {
			return // Prometheus text, or the console's HTML pages: not the JSON API
		}
		method, url := routeURL(e, r.Pattern, strings.ReplaceAll(rawID, "/", "%2F"))
		req := httptest.NewRequest(method, "/", bytes.NewReader(body))
		req.URL.Path, req.URL.RawPath = "", ""
		if u, err := req.URL.Parse(url); err == nil {
			req.URL = u
		} else {
			return // not a URL at all: net/http refuses it before any handler
		}
		req.Header.Set("Authorization", "Bearer "+e.keyA)
		req.Header.Set("Content-Type", "application/json")
		if multipart {
			req.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
		}
		rec := httptest.NewRecorder()
		start := time.Now()
		e.h.ServeHTTP(rec, req)
		checkSane(t, method+" "+url, rec, time.Since(start))
	})
}

// TestHostileRequests is a table of hostile requests: oversized and deeply
// nested JSON, invalid UTF-8, path traversal in ids and file names, bad
// multipart. No panic, no 5xx, bounded time, nothing written outside the
// data directory.
func TestHostileRequests(t *testing.T) {
	e := scriptedEnv(t)
	huge := bytes.Repeat([]byte(`{"a":"`+strings.Repeat("x", 1000)+`"},`), 50<<10) // ~50 MB
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	upload := func(name string) (*bytes.Buffer, string) { return multipartBody(t, name, []byte("data"), nil) }
	cases := []struct {
		name, method, url string
		body              func() (*bytes.Buffer, string)
		want              []int
	}{
		{"50 MB JSON agent", "POST", "/v1/agents", func() (*bytes.Buffer, string) {
			return bytes.NewBuffer(append(append([]byte(`{"model":"m1","name":"n","metadata":[`), huge...), `{}]}`...)), "application/json"
		}, []int{413}},
		{"50 MB JSON conversation", "POST", "/v1/conversations", func() (*bytes.Buffer, string) {
			return bytes.NewBuffer(append([]byte(`{"model":"m1","inputs":"`), bytes.Repeat([]byte("x"), 50<<20)...)), "application/json"
		}, []int{413}},
		{"deep nesting", "POST", "/v1/conversations", func() (*bytes.Buffer, string) {
			return bytes.NewBufferString(`{"model":"m1","inputs":` + deep + `}`), "application/json"
		}, []int{400, 413, 422}},
		{"deep metadata", "POST", "/v1/agents", func() (*bytes.Buffer, string) {
			return bytes.NewBufferString(`{"model":"m1","name":"n","metadata":` + strings.Repeat(`{"a":`, 10000) + `1` + strings.Repeat(`}`, 10000) + `}`), "application/json"
		}, []int{400, 413, 422}},
		{"invalid UTF-8 in inputs", "POST", "/v1/conversations", func() (*bytes.Buffer, string) {
			return bytes.NewBufferString("{\"model\":\"m1\",\"inputs\":\"\xff\xfe\xfd\",\"stream\":false}"), "application/json"
		}, []int{200, 400, 422}},
		{"invalid UTF-8 in agent name", "POST", "/v1/agents", func() (*bytes.Buffer, string) {
			return bytes.NewBufferString("{\"model\":\"m1\",\"name\":\"\xc3\x28\"}"), "application/json"
		}, []int{200, 400, 422}},
		{"NUL in ids", "GET", "/v1/conversations/conv_%00", nil, []int{400, 404}},
		{"traversal in a file id", "GET", "/v1/files/..%2F..%2F..%2Fetc%2Fpasswd/content", nil, []int{400, 404}},
		{"traversal in a conversation id", "GET", "/v1/conversations/..%2F..%2Fetc/history", nil, []int{400, 404}},
		{"traversal in a library id", "GET", "/v1/libraries/..%2F..%2F/documents", nil, []int{400, 404}},
		{"dot-dot path", "GET", "/v1/files/../../etc/passwd", nil, []int{404}},
		{"traversal in a file name", "POST", "/v1/files", func() (*bytes.Buffer, string) { return upload("../../../evil.txt") }, []int{200, 400, 422}},
		{"absolute file name", "POST", "/v1/files", func() (*bytes.Buffer, string) { return upload("/etc/cron.d/evil-cron") }, []int{200, 400, 422}},
		{"traversal in a document name", "POST", "/v1/libraries/" + e.vars["LA"] + "/documents", func() (*bytes.Buffer, string) { return upload("../../evil.md") }, []int{200, 400, 422}},
		{"multipart without boundary", "POST", "/v1/files", func() (*bytes.Buffer, string) {
			return bytes.NewBufferString("--x\r\n"), "multipart/form-data"
		}, []int{400, 415}},
		{"multipart garbage", "POST", "/v1/files", func() (*bytes.Buffer, string) {
			return bytes.NewBufferString("not multipart at all"), "multipart/form-data; boundary=zzz"
		}, []int{400}},
		{"JSON sent as a form", "POST", "/v1/agents", func() (*bytes.Buffer, string) {
			return bytes.NewBufferString("model=m1&name=n"), "application/x-www-form-urlencoded"
		}, []int{415}},
		{"huge query", "GET", "/v1/conversations?page_size=" + strings.Repeat("9", 10000), nil, []int{400, 422}},
		{"negative page", "GET", "/v1/agents?page=-5", nil, []int{400, 422}},
		{"bearer in lower case", "GET", "/v1/models", nil, []int{200}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body *bytes.Buffer
			hdr := map[string]string{}
			if c.body != nil {
				var ct string
				body, ct = c.body()
				hdr["Content-Type"] = ct
			} else {
				body = &bytes.Buffer{}
			}
			who := asA
			if c.name == "bearer in lower case" {
				who = "bearer   " + e.keyA
			}
			start := time.Now()
			rec := e.request(c.method, c.url, who, body, hdr)
			checkSane(t, c.name, rec, time.Since(start))
			ok := false
			for _, w := range c.want {
				ok = ok || rec.Code == w
			}
			if !ok {
				t.Errorf("%s: %d, want one of %v: %.300s", c.name, rec.Code, c.want, rec.Body)
			}
		})
	}
	for _, p := range []string{filepath.Join(e.cfg.DataDir, "..", "evil.txt"), filepath.Join(e.cfg.DataDir, "..", "..", "evil.txt"),
		filepath.Join(e.cfg.DataDir, "..", "..", "..", "evil.txt"), filepath.Join(e.cfg.DataDir, "..", "evil.md"), filepath.Join(e.cfg.DataDir, "evil.md"),
		filepath.Join(e.cfg.DataDir, "files", "..", "evil.md")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("a hostile file name wrote %s", p)
		}
	}
}
