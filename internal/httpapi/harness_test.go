package httpapi_test

// A table-driven scenario harness in the style of PocketBase's ApiScenario:
// every scenario gets a fresh, fully wired server (app.New on a SQLite
// database in t.TempDir()), optional setup, one request and expectations.
// Whatever a scenario expects, the harness also checks the contract every
// response must keep (API.md §0.4, §0.5, §10a): an X-Request-ID, an explicit
// JSON Content-Type on JSON bodies, the Mistral error shapes, RFC 3339 'Z'
// datetimes, and the never-null keys of agents. It speaks raw HTTP, not
// the public client, because those checks are about the wire itself.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/tramontane/tramontane/internal/app"
	"github.com/tramontane/tramontane/internal/auth"
	"github.com/tramontane/tramontane/internal/config"
)

// Limits small enough for the 413 scenarios.
const (
	testMaxBody   = 32 << 10
	testMaxUpload = 8 << 10
)

// testModels routes two models to an upstream that is never called: the
// foundation's routes only list models.
const testModels = `
providers:
  - name: nowhere
    type: openai
    base_url: http://127.0.0.1:1/v1
models:
  - name: m1
    provider: nowhere
    aliases: [m1-latest]
    description: first model
  - name: m2
    provider: nowhere
    max_context_length: 4096
moderation:                # accepts guardrails; never called by these tests
  provider: nowhere
`

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is one wired server with two workspaces.
type env struct {
	t    testing.TB
	app  *app.App
	h    http.Handler
	cfg  config.Config
	logs *syncBuffer

	keyA, keyB string // secrets of workspace "alpha" and "beta"
	wsA, wsB   string // their workspace ids
	revoked    string // a revoked key of "alpha"

	// vars are substituted for "{name}" in scenario URLs and bodies.
	vars map[string]string
}

// newEnv builds the real stack. mod, if given, adjusts the configuration.
func newEnv(t testing.TB, mod ...func(*config.Config)) *env {
	t.Helper()
	c := config.Defaults()
	c.DataDir = t.TempDir()
	c.MaxBodyBytes = testMaxBody
	c.MaxUploadBytes = testMaxUpload
	c.Raw = []byte(testModels)
	for _, m := range mod {
		m(&c)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	a, err := app.New(ctx, c, logger)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	t.Cleanup(func() { _ = a.Close() })
	e := &env{t: t, app: a, h: a.Handler, cfg: c, logs: logs, vars: map[string]string{}}
	ka, secretA, err := a.Auth.Create(ctx, auth.CreateOptions{Workspace: "alpha", Name: "key-a"})
	if err != nil {
		t.Fatal(err)
	}
	kb, secretB, err := a.Auth.Create(ctx, auth.CreateOptions{Workspace: "beta", Name: "key-b"})
	if err != nil {
		t.Fatal(err)
	}
	kr, secretR, err := a.Auth.Create(ctx, auth.CreateOptions{Workspace: "alpha", Name: "old"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Auth.Revoke(ctx, kr.ID); err != nil {
		t.Fatal(err)
	}
	e.keyA, e.keyB, e.revoked = secretA, secretB, secretR
	e.wsA, e.wsB = ka.WorkspaceID, kb.WorkspaceID
	return e
}

// Who sends a request.
const (
	asA       = ""        // the default: workspace alpha
	asB       = "b"       // workspace beta
	asNone    = "none"    // no Authorization header
	asRevoked = "revoked" // a revoked key
)

func (e *env) authHeader(who string) string {
	switch who {
	case asA:
		return "Bearer " + e.keyA
	case asB:
		return "Bearer " + e.keyB
	case asRevoked:
		return "Bearer " + e.revoked
	case asNone:
		return ""
	}
	return who // a raw header value
}

func (e *env) expand(s string) string {
	for k, v := range e.vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// request sends one request through the handler.
func (e *env) request(method, target, who string, body io.Reader, hdr map[string]string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(method, target, body)
	if a := e.authHeader(who); a != "" {
		req.Header.Set("Authorization", a)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// call sends a JSON body (or none) as workspace who and checks the status.
func (e *env) call(method, target, who, body string, want int) []byte {
	e.t.Helper()
	var r io.Reader
	hdr := map[string]string{}
	if body != "" {
		r = strings.NewReader(body)
		hdr["Content-Type"] = "application/json"
	}
	rec := e.request(method, target, who, r, hdr)
	if rec.Code != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, target, rec.Code, want, rec.Body.String())
	}
	checkContract(e.t, rec)
	return rec.Body.Bytes()
}

// callJSON is call plus decoding into a generic value.
func (e *env) callJSON(method, target, who, body string, want int) any {
	e.t.Helper()
	var v any
	if err := json.Unmarshal(e.call(method, target, who, body, want), &v); err != nil {
		e.t.Fatalf("%s %s: bad JSON: %v", method, target, err)
	}
	return v
}

// createAgent makes an agent and returns its id.
func (e *env) createAgent(who, body string) string {
	e.t.Helper()
	m := e.callJSON("POST", "/v1/agents", who, body, 200).(map[string]any)
	return m["id"].(string)
}

// upload posts a multipart upload. fields are extra form fields.
func (e *env) upload(who, filename string, content []byte, fields map[string]string) *httptest.ResponseRecorder {
	e.t.Helper()
	body, ct := multipartBody(e.t, filename, content, fields)
	return e.request("POST", "/v1/files", who, body, map[string]string{"Content-Type": ct})
}

// uploadID uploads and returns the new file's id.
func (e *env) uploadID(who, filename string, content []byte, fields map[string]string) string {
	e.t.Helper()
	rec := e.upload(who, filename, content, fields)
	if rec.Code != 200 {
		e.t.Fatalf("upload: %d %s", rec.Code, rec.Body.String())
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		e.t.Fatal(err)
	}
	return m["id"].(string)
}

func multipartBody(t testing.TB, filename string, content []byte, fields map[string]string) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if content != nil {
		fw, err := mw.CreateFormFile("file", filename)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(content)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

// fixtures creates, for scenarios to use through {vars}:
//
//	{A}   an agent of alpha with versions 0 and 1 (1 active), alias "prod" -> 0
//	{B}   an agent of beta
//	{FA}  a .jsonl file of alpha;  {FB} a file of beta
//	{LA}  a library of alpha;      {LB} a library of beta
func fixtures(t testing.TB, e *env) {
	t.Helper()
	e.vars["A"] = e.createAgent(asA, `{"model":"m1","name":"alpha-agent","instructions":"be brief","version_message":"first","metadata":{"team":"red"}}`)
	e.call("PATCH", "/v1/agents/"+e.vars["A"], asA, `{"instructions":"be briefer","version_message":"second"}`, 200)
	e.call("PUT", "/v1/agents/"+e.vars["A"]+"/aliases?alias=prod&version=0", asA, "", 200)
	e.vars["B"] = e.createAgent(asB, `{"model":"m1","name":"beta-agent"}`)
	e.vars["FA"] = e.uploadID(asA, "train.jsonl", []byte("{\"a\":1}\n{\"a\":2}\n"), map[string]string{"purpose": "fine-tune"})
	e.vars["FB"] = e.uploadID(asB, "b.txt", []byte("beta"), nil)
	e.vars["LA"] = e.callJSON("POST", "/v1/libraries", asA, `{"name":"alpha-lib"}`, 201).(map[string]any)["id"].(string)
	e.vars["LB"] = e.callJSON("POST", "/v1/libraries", asB, `{"name":"beta-lib"}`, 201).(map[string]any)["id"].(string)
}

// scenario is one request and its expectations.
type scenario struct {
	Name    string
	Method  string
	URL     string // "{var}" placeholders are expanded
	Body    string // sent as application/json unless Headers say otherwise
	As      string // asA (default), asB, asNone, asRevoked or a raw Authorization value
	Headers map[string]string
	// Setup runs on the fresh env before the request (fixtures, by default).
	Setup  func(t testing.TB, e *env)
	Config func(*config.Config)
	NoSeed bool // skip the default fixtures

	Status      int
	Contains    []string // substrings the body must contain
	NotContains []string
	// ErrLoc, for a 422, is the expected loc of the first detail item.
	ErrLoc []any
	Check  func(t *testing.T, e *env, rec *httptest.ResponseRecorder)
}

func runScenarios(t *testing.T, list []scenario) {
	t.Helper()
	for _, s := range list {
		t.Run(s.Name, func(t *testing.T) {
			var mods []func(*config.Config)
			if s.Config != nil {
				mods = append(mods, s.Config)
			}
			e := newEnv(t, mods...)
			if !s.NoSeed {
				fixtures(t, e)
			}
			if s.Setup != nil {
				s.Setup(t, e)
			}
			var body io.Reader
			hdr := map[string]string{}
			if s.Body != "" {
				body = strings.NewReader(e.expand(s.Body))
				hdr["Content-Type"] = "application/json"
			}
			for k, v := range s.Headers {
				hdr[k] = e.expand(v)
			}
			rec := e.request(s.Method, e.expand(s.URL), s.As, body, hdr)
			if rec.Code != s.Status {
				t.Fatalf("status %d, want %d; body: %s", rec.Code, s.Status, rec.Body.String())
			}
			checkContract(t, rec)
			for _, c := range s.Contains {
				if !strings.Contains(rec.Body.String(), e.expand(c)) {
					t.Errorf("body lacks %q: %s", e.expand(c), rec.Body.String())
				}
			}
			for _, c := range s.NotContains {
				if strings.Contains(rec.Body.String(), e.expand(c)) {
					t.Errorf("body contains %q: %s", e.expand(c), rec.Body.String())
				}
			}
			if s.ErrLoc != nil {
				checkLoc(t, rec.Body.Bytes(), s.ErrLoc)
			}
			if s.Check != nil {
				s.Check(t, e, rec)
			}
		})
	}
}

func checkLoc(t testing.TB, body []byte, want []any) {
	t.Helper()
	var v struct {
		Detail []struct {
			Loc []any `json:"loc"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(body, &v); err != nil || len(v.Detail) == 0 {
		t.Fatalf("no detail in %s", body)
	}
	got, _ := json.Marshal(v.Detail[0].Loc)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Errorf("loc = %s, want %s", got, exp)
	}
}

var isoZ = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$`)

// checkContract checks what every response must satisfy.
func checkContract(t testing.TB, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Header().Get("X-Request-ID") == "" {
		t.Errorf("no X-Request-ID header")
	}
	ct := rec.Header().Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case rec.Code == http.StatusNoContent:
		if rec.Body.Len() != 0 {
			t.Errorf("204 with a body: %q", rec.Body.String())
		}
		return
	case mt == "application/octet-stream" && rec.Code == 200:
		return
	case mt != "application/json":
		t.Fatalf("Content-Type %q, want application/json (status %d, body %q)", ct, rec.Code, rec.Body.String())
	}
	v, err := decodeNumbers(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("body is not JSON: %v: %q", err, rec.Body.String())
	}
	if rec.Code >= 400 {
		checkErrorBody(t, rec.Code, rec.Body.Bytes())
		return
	}
	walkJSON(t, "$", v)
}

// checkErrorBody checks the Mistral error shapes (API.md §0.5).
func checkErrorBody(t testing.TB, status int, body []byte) {
	t.Helper()
	v, err := decodeNumbers(body)
	m, ok := v.(map[string]any)
	if err != nil || !ok {
		t.Fatalf("error body is not a JSON object: %q", body)
	}
	if m["object"] != "error" {
		t.Errorf("error object = %v, want \"error\": %s", m["object"], body)
	}
	if msg, _ := m["message"].(string); msg == "" {
		t.Errorf("error without message: %s", body)
	}
	if _, ok := m["type"].(string); !ok {
		t.Errorf("error without type: %s", body)
	}
	if status == http.StatusUnprocessableEntity {
		detail, ok := m["detail"].([]any)
		if !ok || len(detail) == 0 {
			t.Fatalf("422 detail must be a non-empty array: %s", body)
		}
		for _, d := range detail {
			item, ok := d.(map[string]any)
			if !ok {
				t.Fatalf("detail item not an object: %s", body)
			}
			loc, ok := item["loc"].([]any)
			if !ok || len(loc) == 0 {
				t.Errorf("detail loc must be a non-empty array: %s", body)
			}
			for _, p := range loc {
				switch p := p.(type) {
				case string:
				case json.Number:
					if _, err := p.Int64(); err != nil {
						t.Errorf("loc part %v is not an int", p)
					}
				default:
					t.Errorf("loc part %v is neither string nor int", p)
				}
			}
			if _, ok := item["msg"].(string); !ok {
				t.Errorf("detail msg must be a string: %s", body)
			}
			if _, ok := item["type"].(string); !ok {
				t.Errorf("detail type must be a string: %s", body)
			}
		}
	} else if _, has := m["detail"]; has {
		t.Errorf("non-422 error with detail: %s", body)
	}
}

// userData are keys whose content the client chose; walkJSON does not
// apply its naming rules inside them.
var userData = map[string]bool{"metadata": true, "guardrails": true, "parameters": true,
	"response_format": true, "prediction": true, "stop": true, "authorization": true}

// walkJSON applies the per-object rules everywhere in a success body.
func walkJSON(t testing.TB, path string, v any) {
	t.Helper()
	switch x := v.(type) {
	case []any:
		for _, it := range x {
			walkJSON(t, path+"[]", it)
		}
	case map[string]any:
		if x["object"] == "agent" {
			checkAgent(t, path, x)
		}
		for k, val := range x {
			if strings.HasSuffix(k, "_at") {
				switch tv := val.(type) {
				case string:
					if !isoZ.MatchString(tv) {
						t.Errorf("%s.%s = %q is not RFC 3339 with Z", path, k, tv)
					}
				case json.Number:
					if _, err := tv.Int64(); err != nil {
						t.Errorf("%s.%s = %v is not an integer", path, k, tv)
					}
				}
			}
			if !userData[k] {
				walkJSON(t, path+"."+k, val)
			}
		}
	}
}

// checkAgent checks API.md §2.1 on one agent object.
func checkAgent(t testing.TB, path string, a map[string]any) {
	t.Helper()
	for _, k := range []string{"id", "model", "name", "source", "created_at", "updated_at"} {
		if _, ok := a[k].(string); !ok {
			t.Errorf("%s.%s must be a string: %v", path, k, a[k])
		}
	}
	if n, ok := a["version"].(json.Number); !ok || strings.ContainsAny(string(n), ".eE") {
		t.Errorf("%s.version must be an int", path)
	}
	if vs, ok := a["versions"].([]any); !ok || len(vs) == 0 {
		t.Errorf("%s.versions must be a non-empty array", path)
	}
	if _, ok := a["deployment_chat"].(bool); !ok {
		t.Errorf("%s.deployment_chat must be a bool", path)
	}
	if _, ok := a["tools"].([]any); !ok {
		t.Errorf("%s.tools must be an array, never null: %v", path, a["tools"])
	}
	ca, ok := a["completion_args"].(map[string]any)
	if !ok {
		t.Errorf("%s.completion_args must be an object, never null", path)
	}
	if tc, has := ca["tool_choice"]; has && tc == nil {
		t.Errorf("%s.completion_args.tool_choice must never be null", path)
	}
	tools, _ := a["tools"].([]any)
	for _, tl := range tools {
		m, _ := tl.(map[string]any)
		switch m["type"] {
		case "function":
			fn, _ := m["function"].(map[string]any)
			if _, ok := fn["parameters"]; !ok {
				t.Errorf("%s: function tool without parameters", path)
			}
			for _, k := range []string{"description", "strict"} {
				if v, has := fn[k]; has && v == nil {
					t.Errorf("%s: function.%s is null", path, k)
				}
			}
		case "document_library":
			if _, ok := m["library_ids"].([]any); !ok {
				t.Errorf("%s: document_library tool without library_ids", path)
			}
		}
	}
}

// decodeNumbers parses any JSON, keeping numbers as json.Number: a body may
// validly echo a client's number that does not fit a float64.
func decodeNumbers(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// decode unmarshals a recorder's body.
func decode[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, rec.Body.String())
	}
	return v
}
