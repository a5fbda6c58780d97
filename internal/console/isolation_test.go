package console_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// consoleCase says how the console's isolation sweep exercises one console
// route: the query and form of a request that would succeed for the
// owner, or that the route is the /v1 proxy (checked with every API route
// taking an id), or why the route is not a workspace's resource.
type consoleCase struct {
	query     string // appended to the path
	form      string // urlencoded form body ("" for none)
	proxy     bool   // the /console/api/v1/ proxy: swept with the API's id routes
	notScoped string // set: not a workspace's resource, and why
}

// consoleIsolation classifies every console route whose path takes an id,
// and every subtree route (a pattern ending in "/", which can carry ids
// too). A console route added without an entry here fails
// TestConsoleIsolationSweep: decide what another workspace's session gets,
// and add it.
var consoleIsolation = map[string]consoleCase{
	"GET /console/static/":                         {notScoped: "embedded scripts and styles, the same for everyone"},
	"/console/":                                    {notScoped: "the not-found page"},
	"/console/api/v1/":                             {proxy: true},
	"GET /console/agents/{agent_id}":               {},
	"GET /console/agents/{agent_id}/edit":          {},
	"GET /console/agents/{agent_id}/diff":          {query: "?a=0&b=1"},
	"GET /console/conversations/{conversation_id}": {},
	"GET /console/libraries/{library_id}":          {},
	"POST /console/libraries/{library_id}/search":  {form: "q=secret"},
	// The owner's page lists the connector's tools: its server is a
	// reserved .invalid host, so the page says so (200, with the error).
	"GET /console/connectors/{connector_id}": {},
}

// apiCase is the query and body with which an API route taking an id is
// called through the console's proxy (internal/httpapi/isolation_test.go
// classifies the API's routes; this only says what a valid request is).
type apiCase struct {
	query     string
	body      string // JSON, with {ENTRY} and {WSB} expanded
	multipart bool
	shared    bool // not a workspace's resource (the same for everyone)
	remote    bool // calls the connector's server: the owner's call is not made
}

var proxyCases = map[string]apiCase{
	"GET /v1/models/{model_id}":                                 {shared: true},
	"PATCH /v1/agents/{agent_id}":                               {body: `{"name":"stolen"}`},
	"PATCH /v1/agents/{agent_id}/version":                       {query: "?version=0"},
	"PUT /v1/agents/{agent_id}/aliases":                         {query: "?alias=stolen&version=0"},
	"DELETE /v1/agents/{agent_id}/aliases":                      {query: "?alias=prod"},
	"POST /v1/conversations/{conversation_id}":                  {body: `{"inputs":"hello","stream":false}`},
	"POST /v1/conversations/{conversation_id}/restart":          {body: `{"from_entry_id":"{ENTRY}","inputs":"again","stream":false}`},
	"PATCH /v1/libraries/{library_id}":                          {body: `{"name":"stolen"}`},
	"PUT /v1/libraries/{library_id}":                            {body: `{"name":"stolen"}`},
	"PUT /v1/libraries/{library_id}/share":                      {body: `{"level":"Editor","share_with_uuid":"{WSB}","share_with_type":"Workspace"}`},
	"DELETE /v1/libraries/{library_id}/share":                   {body: `{"share_with_uuid":"{WSB}","share_with_type":"Workspace"}`},
	"POST /v1/libraries/{library_id}/documents":                 {multipart: true},
	"PATCH /v1/libraries/{library_id}/documents/{document_id}":  {body: `{"name":"stolen"}`},
	"PUT /v1/libraries/{library_id}/documents/{document_id}":    {body: `{"name":"stolen"}`},
	"PATCH /v1/connectors/{connector_id}":                       {body: `{"title":"stolen"}`},
	"GET /v1/connectors/{connector_id}/tools":                   {remote: true},
	"POST /v1/connectors/{connector_id}/tools/{tool_name}/call": {body: `{"arguments":{"message":"x"}}`, remote: true},
	"POST /v1/connectors/{connector_id}/{scope}/credentials":    {body: `{"name":"stolen","credentials":{"bearer_token":"t"}}`},
	"PATCH /v1/connectors/{connector_id}/{scope}/credentials":   {body: `{"name":"main","credentials":{"bearer_token":"t"}}`},
}

// leaks are the names of workspace alpha's resources: none may appear in
// an answer to workspace beta.
var leaks = []string{"secret-agent", "secret-conversation", "secret-doc", "secret-lib", "secret-file", "secret-kb"}

// TestConsoleIsolationSweep walks the console's real route table
// ((*Console).Routes). Every console route taking an id must be classified
// above; each page is requested by workspace beta's session (with its own
// CSRF token, so a refusal is the isolation, not CSRF) with workspace
// alpha's ids and must answer 404 without naming the resource, and the
// /v1 proxy is swept with every API route taking an id. Then alpha's
// session must get each page (and each API GET) with those same URLs.
func TestConsoleIsolationSweep(t *testing.T) {
	e := newEnv(t)
	a, b := client(), client()
	csrfA := signIn(t, a, e.url, e.key)
	keyB, wsB := e.otherKeyIn(t, "beta")
	csrfB := signIn(t, b, e.url, keyB)

	// Workspace alpha's resources, made through its own console session.
	post := func(path, body string) map[string]any {
		t.Helper()
		res, out := send(t, a, "POST", e.url+"/console/api/v1"+path, csrfA, e.url, body)
		if res.StatusCode >= 300 {
			t.Fatalf("POST %s: %d %s", path, res.StatusCode, out)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("POST %s: %v %s", path, err, out)
		}
		return m
	}
	agent := post("/agents", `{"name":"secret-agent","model":"mistral-medium-latest","instructions":"be brief"}`)["id"].(string)
	if res, out := send(t, a, "PATCH", e.url+"/console/api/v1/agents/"+agent, csrfA, e.url, `{"instructions":"be briefer"}`); res.StatusCode != 200 {
		t.Fatalf("agent update: %d %s", res.StatusCode, out)
	}
	if res, out := send(t, a, "PUT", e.url+"/console/api/v1/agents/"+agent+"/aliases?alias=prod&version=0", csrfA, e.url, ""); res.StatusCode != 200 {
		t.Fatalf("alias: %d %s", res.StatusCode, out)
	}
	conv := post("/conversations", `{"agent_id":"`+agent+`","inputs":"secret-conversation","stream":false}`)
	convID := conv["conversation_id"].(string)
	entry := conv["outputs"].([]any)[0].(map[string]any)["id"].(string)
	lib := post("/libraries", `{"name":"secret-lib"}`)["id"].(string)
	doc := upload(t, a, e.url+"/console/api/v1/libraries/"+lib+"/documents", csrfA, e.url, "secret-doc.txt", nil)
	file := upload(t, a, e.url+"/console/api/v1/files", csrfA, e.url, "secret-file.jsonl", map[string]string{"purpose": "fine-tune"})
	conn := post("/connectors", `{"protocol":"mcp","name":"secret-kb","description":"d","server":"https://mcp.invalid/mcp"}`)["id"].(string)
	ids := strings.NewReplacer("{agent_id}", agent, "{conversation_id}", convID, "{file_id}", file,
		"{library_id}", lib, "{document_id}", doc, "{version}", "0", "{model_id}", "mistral-medium-latest",
		"{connector_id}", conn, "{tool_name}", "echo", "{scope}", "workspace", "{name}", "main")
	vars := strings.NewReplacer("{ENTRY}", entry, "{WSB}", wsB)

	var owned []string // GET targets alpha must reach afterwards
	checked, proxied := 0, 0
	refused := func(method, target string, res *http.Response, body string) {
		t.Helper()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s as another workspace: %d, want 404: %.300s", method, target, res.StatusCode, body)
		}
		for _, s := range leaks {
			if strings.Contains(body, s) {
				t.Errorf("%s %s as another workspace leaks %q: %.300s", method, target, s, body)
			}
		}
	}
	routes := e.app.Console.Routes()
	for _, p := range routes {
		if !strings.Contains(strings.ReplaceAll(p, "{$}", ""), "{") && !strings.HasSuffix(p, "/") {
			continue // no id in the path, and not a subtree
		}
		c, ok := consoleIsolation[p]
		if !ok {
			t.Errorf("console route %q takes an id but is not classified in the console isolation table (isolation_test.go): decide what another workspace gets, and add it", p)
			continue
		}
		if c.notScoped != "" {
			continue
		}
		if c.proxy {
			proxied = sweepProxy(t, e, b, csrfB, ids, vars, refused, &owned)
			continue
		}
		method, path, _ := strings.Cut(p, " ")
		target := "/" + strings.TrimPrefix(ids.Replace(path), "/") + c.query
		res, body := sendForm(t, b, method, e.url+target, csrfB, e.url, c.form)
		refused(method, target, res, body)
		checked++
		res, body = sendForm(t, a, method, e.url+target, csrfA, e.url, c.form)
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s %s as the owner: %d %.300s (the sweep's URL is wrong)", method, target, res.StatusCode, body)
		}
	}
	for _, target := range owned {
		if res, body := get(t, a, e.url+target); res.StatusCode == http.StatusNotFound {
			t.Errorf("GET %s as the owner: 404 %.300s (the sweep's URL is wrong)", target, body)
		}
	}
	for p := range consoleIsolation {
		found := false
		for _, r := range routes {
			found = found || r == p
		}
		if !found {
			t.Errorf("the console isolation table lists %q, which is no longer a console route", p)
		}
	}
	if proxied == 0 {
		t.Error("the /v1 proxy was not swept")
	}
	t.Logf("console isolation sweep: %d console pages and %d API routes through the proxy, taking an id, called by another workspace's session: all 404", checked, proxied)
}

// sweepProxy calls every API route taking an id through the console's
// /console/api/v1/ proxy as workspace beta's session, and returns how many
// it checked.
func sweepProxy(t *testing.T, e *env, b *http.Client, csrfB string, ids, vars *strings.Replacer,
	refused func(string, string, *http.Response, string), owned *[]string) int {
	t.Helper()
	n := 0
	for _, r := range e.app.Handler.Routes() {
		method, path, _ := strings.Cut(r.Pattern, " ")
		if r.Public || !strings.HasPrefix(path, "/v1/") || !strings.Contains(path, "{") {
			continue
		}
		c := proxyCases[r.Pattern]
		if c.shared {
			continue
		}
		target := "/console/api" + ids.Replace(path) + c.query
		var res *http.Response
		var body string
		if c.multipart {
			res, body = uploadAs(t, b, method, e.url+target, csrfB, e.url, "x.txt", nil)
		} else {
			res, body = send(t, b, method, e.url+target, csrfB, e.url, vars.Replace(c.body))
		}
		refused(method, target, res, body)
		n++
		if method == "GET" && !c.remote {
			*owned = append(*owned, target)
		}
	}
	for p := range proxyCases {
		found := false
		for _, r := range e.app.Handler.Routes() {
			found = found || r.Pattern == p
		}
		if !found {
			t.Errorf("the proxy table lists %q, which is no longer an API route", p)
		}
	}
	return n
}

// sendForm makes a request with an urlencoded form (if any), the CSRF token
// and the Origin.
func sendForm(t *testing.T, c *http.Client, method, u, csrf, origin, form string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(form))
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method != "GET" {
		req.Header.Set("X-CSRF-Token", csrf)
		req.Header.Set("Origin", origin)
	}
	return do(t, c, req)
}

// upload sends a small file through the console as the session and returns
// the new object's id.
func upload(t *testing.T, c *http.Client, u, csrf, origin, name string, fields map[string]string) string {
	t.Helper()
	res, body := uploadAs(t, c, "POST", u, csrf, origin, name, fields)
	var out struct{ ID string }
	if err := json.Unmarshal([]byte(body), &out); err != nil || res.StatusCode != 200 || out.ID == "" {
		t.Fatalf("upload %s: %d %s %v", name, res.StatusCode, body, err)
	}
	return out.ID
}

// uploadAs sends a multipart upload of a small JSON-lines file.
func uploadAs(t *testing.T, c *http.Client, method, u, csrf, origin, name string, fields map[string]string) (*http.Response, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", name)
	_, _ = io.WriteString(fw, "{\"a\":1}\n{\"a\":2}\n")
	_ = w.Close()
	req, _ := http.NewRequest(method, u, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("X-CSRF-Token", csrf)
	req.Header.Set("Origin", origin)
	return do(t, c, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestConsoleHostileIDs sends hostile ids (encoded traversal, NUL,
// invalid UTF-8, markup, a very long id) to every console page taking an
// id, as a signed-in owner: each answers 400 or 404, never a 5xx, and
// never echoes the markup unescaped. (A bare ".." is cleaned by ServeMux
// with a redirect before any console handler.)
func TestConsoleHostileIDs(t *testing.T) {
	e := newEnv(t)
	c := client()
	csrf := signIn(t, c, e.url, e.key)
	hostile := []string{"..%2F..%2Fetc%2Fpasswd", "%00", "%FF%FE", strings.Repeat("x", 4000), "%3Cscript%3E"}
	n := 0
	for _, p := range e.app.Console.Routes() {
		cc, ok := consoleIsolation[p]
		if !ok || cc.notScoped != "" || cc.proxy || !strings.Contains(p, "{") {
			continue // unclassified routes fail the sweep
		}
		method, path, _ := strings.Cut(p, " ")
		for _, id := range hostile {
			target := path
			for strings.Contains(target, "{") {
				i, j := strings.Index(target, "{"), strings.Index(target, "}")
				target = target[:i] + id + target[j+1:]
			}
			res, body := sendForm(t, c, method, e.url+target+cc.query, csrf, e.url, cc.form)
			n++
			if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusBadRequest {
				t.Errorf("%s %.80s: %d, want 400 or 404: %.200s", method, target, res.StatusCode, body)
			}
			if strings.Contains(body, "<script>") {
				t.Errorf("%s %.80s echoes the id unescaped", method, target)
			}
		}
	}
	if n == 0 {
		t.Fatal("no console page taking an id")
	}
	t.Logf("%d hostile ids sent to console pages: no 5xx", n)
}
