package httpapi_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// routeTargets names one concrete request for every route of server.go.
var routeTargets = []struct {
	pattern, method, url, body string
	public                     bool
}{
	{"GET /healthz", "GET", "/healthz", "", true},
	{"GET /files/signed/{file_id}", "GET", "/files/signed/{FA}", "", true},
	{"GET /v1/models", "GET", "/v1/models", "", false},
	{"GET /v1/models/{model_id}", "GET", "/v1/models/m1", "", false},
	{"POST /v1/agents", "POST", "/v1/agents", `{"model":"m1","name":"n"}`, false},
	{"GET /v1/agents", "GET", "/v1/agents", "", false},
	{"GET /v1/agents/pages", "GET", "/v1/agents/pages", "", false},
	{"GET /v1/agents/{agent_id}", "GET", "/v1/agents/{A}", "", false},
	{"PATCH /v1/agents/{agent_id}", "PATCH", "/v1/agents/{A}", `{"name":"x"}`, false},
	{"DELETE /v1/agents/{agent_id}", "DELETE", "/v1/agents/{A}", "", false},
	{"PATCH /v1/agents/{agent_id}/version", "PATCH", "/v1/agents/{A}/version?version=0", "", false},
	{"GET /v1/agents/{agent_id}/versions", "GET", "/v1/agents/{A}/versions", "", false},
	{"GET /v1/agents/{agent_id}/versions/{version}", "GET", "/v1/agents/{A}/versions/0", "", false},
	{"PUT /v1/agents/{agent_id}/aliases", "PUT", "/v1/agents/{A}/aliases?alias=x&version=0", "", false},
	{"GET /v1/agents/{agent_id}/aliases", "GET", "/v1/agents/{A}/aliases", "", false},
	{"DELETE /v1/agents/{agent_id}/aliases", "DELETE", "/v1/agents/{A}/aliases?alias=prod", "", false},
	{"POST /v1/agents/completions", "POST", "/v1/agents/completions", `{"agent_id":"{A}","messages":[{"role":"user","content":"x"}]}`, false},
	{"POST /v1/files", "POST", "/v1/files", "", false},
	{"GET /v1/files", "GET", "/v1/files", "", false},
	{"GET /v1/files/{file_id}", "GET", "/v1/files/{FA}", "", false},
	{"DELETE /v1/files/{file_id}", "DELETE", "/v1/files/{FA}", "", false},
	{"GET /v1/files/{file_id}/content", "GET", "/v1/files/{FA}/content", "", false},
	{"GET /v1/files/{file_id}/url", "GET", "/v1/files/{FA}/url", "", false},
}

// TestEveryRouteIsCovered keeps routeTargets in step with server.go for the
// foundation's resources (routes of later subsystems are tested with them).
func TestEveryRouteIsCovered(t *testing.T) {
	src, err := os.ReadFile("server.go")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, r := range routeTargets {
		known[r.pattern] = true
	}
	foundation := regexp.MustCompile(`^[A-Z]+ /(healthz|files/|v1/(models|agents|files)\b)`)
	for _, m := range regexp.MustCompile(`pattern: "([^"]+)"`).FindAllStringSubmatch(string(src), -1) {
		if foundation.MatchString(m[1]) && !known[m[1]] {
			t.Errorf("route %q has no entry in routeTargets", m[1])
		}
	}
}

// TestAuthOnEveryRoute: every non-public route refuses a missing, malformed,
// unknown or revoked key with 401, before looking at the resource.
func TestAuthOnEveryRoute(t *testing.T) {
	e := newEnv(t)
	fixtures(t, e)
	bad := map[string]string{
		"missing":                 asNone,
		"basic scheme":            "Basic x",
		"scheme only":             "Bearer",
		"empty key":               "Bearer   ",
		"key no scheme":           e.keyA,
		"unknown key":             "Bearer " + e.keyA + "x",
		"revoked key":             asRevoked,
		"well-formed unknown key": "Bearer tk-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	}
	for _, r := range routeTargets {
		if r.public {
			continue
		}
		for name, who := range bad {
			t.Run(r.pattern+"/"+name, func(t *testing.T) {
				hdr := map[string]string{}
				var body *strings.Reader
				if r.body != "" {
					body = strings.NewReader(r.body)
					hdr["Content-Type"] = "application/json"
				} else {
					body = strings.NewReader("")
				}
				rec := e.request(r.method, e.expand(r.url), who, body, hdr)
				if rec.Code != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401: %s", rec.Code, rec.Body.String())
				}
				checkContract(t, rec)
				if !strings.Contains(rec.Body.String(), `"type":"authentication_error"`) {
					t.Errorf("body %s", rec.Body.String())
				}
			})
		}
	}
	// Nothing was changed by the refused requests.
	e.call("GET", "/v1/agents/"+e.vars["A"]+"?agent_version=prod", asA, "", 200)
	e.call("GET", "/v1/files/"+e.vars["FA"], asA, "", 200)
	// The scheme is case-insensitive and surrounding spaces are ignored.
	e.call("GET", "/v1/agents", "bearer "+e.keyA, "", 200)
	e.call("GET", "/v1/agents", "Bearer  "+e.keyA+" ", "", 200)
}

func TestRoutingErrors(t *testing.T) {
	big := `{"model":"m1","name":"n","instructions":"` + strings.Repeat("x", testMaxBody) + `"}`
	runScenarios(t, []scenario{
		{Name: "unknown route", Method: "GET", URL: "/v1/nope", Status: 404},
		{Name: "unknown version prefix", Method: "GET", URL: "/v2/agents", Status: 404},
		{Name: "unknown route without key", Method: "GET", URL: "/nope", As: asNone, Status: 404},
		{Name: "extra path segment", Method: "GET", URL: "/v1/agents/{A}/versions/0/extra", Status: 404},
		{Name: "trailing slash", Method: "GET", URL: "/v1/agents/", Status: 404},
		{Name: "POST on a GET route", Method: "POST", URL: "/v1/models", Status: 405},
		{Name: "PUT on agents", Method: "PUT", URL: "/v1/agents", Body: `{}`, Status: 405},
		{Name: "DELETE on versions", Method: "DELETE", URL: "/v1/agents/{A}/versions", Status: 405},
		{Name: "GET on update_version", Method: "GET", URL: "/v1/agents/{A}/version", Status: 405},
		{Name: "POST on healthz", Method: "POST", URL: "/healthz", As: asNone, Status: 405},
		{Name: "PATCH on a file", Method: "PATCH", URL: "/v1/files/{FA}", Status: 405},

		{Name: "oversized JSON on create", Method: "POST", URL: "/v1/agents", Body: big, Status: 413,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				if n := len(e.callJSON("GET", "/v1/agents?name=n", asA, "", 200).([]any)); n != 0 {
					t.Errorf("oversized create stored %d agents", n)
				}
			}},
		{Name: "oversized JSON on update", Method: "PATCH", URL: "/v1/agents/{A}", Body: big, Status: 413},
		{Name: "oversized JSON on update_version", Method: "PATCH", URL: "/v1/agents/{A}/version", Body: `{"version":0,"pad":"` + strings.Repeat("x", testMaxBody) + `"}`, Status: 413},
		{Name: "just under the limit", Method: "POST", URL: "/v1/agents", Status: 200,
			Body: `{"model":"m1","name":"n","instructions":"` + strings.Repeat("x", testMaxBody-50) + `"}`},

		{Name: "text/plain on create", Method: "POST", URL: "/v1/agents", Body: `{"model":"m1","name":"n"}`,
			Headers: map[string]string{"Content-Type": "text/plain"}, Status: 415},
		{Name: "form on update", Method: "PATCH", URL: "/v1/agents/{A}", Body: `name=x`,
			Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, Status: 415},
		{Name: "multipart on create", Method: "POST", URL: "/v1/agents", Body: `--x--`,
			Headers: map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, Status: 415},
		{Name: "garbage content type", Method: "POST", URL: "/v1/agents", Body: `{}`,
			Headers: map[string]string{"Content-Type": ";;;"}, Status: 415},
		{Name: "vendor +json is JSON", Method: "POST", URL: "/v1/agents", Body: `{"model":"m1","name":"n"}`,
			Headers: map[string]string{"Content-Type": "application/vnd.api+json"}, Status: 200},
	})
}

func TestPanicIsA500WithoutDetails(t *testing.T) {
	e := newEnv(t)
	e.app.Handler.Handle("GET /v1/test-panic", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret internal detail")
	}), false)
	rec := e.request("GET", "/v1/test-panic", asNone, nil, nil)
	if rec.Code != 401 {
		t.Fatalf("a route added with Handle(public=false) needs a key: %d", rec.Code)
	}
	rec = e.request("GET", "/v1/test-panic", asA, nil, nil)
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret internal detail") {
		t.Fatalf("panic: %d %s", rec.Code, rec.Body.String())
	}
	checkContract(t, rec)
	if !strings.Contains(e.logs.String(), "secret internal detail") {
		t.Errorf("the panic is not logged")
	}
}

func TestRequestID(t *testing.T) {
	e := newEnv(t)
	rec := e.request("GET", "/healthz", asNone, nil, nil)
	gen := rec.Header().Get("X-Request-ID")
	if !regexp.MustCompile(`^req_[0-9a-f]{24}$`).MatchString(gen) {
		t.Errorf("generated id %q", gen)
	}
	if other := e.request("GET", "/healthz", asNone, nil, nil).Header().Get("X-Request-ID"); other == gen {
		t.Errorf("request ids repeat")
	}
	rec = e.request("GET", "/v1/agents", asA, nil, map[string]string{"X-Request-ID": "client-trace-1"})
	if got := rec.Header().Get("X-Request-ID"); got != "client-trace-1" {
		t.Errorf("echoed id %q", got)
	}
	rec = e.request("GET", "/v1/nope", asNone, nil, map[string]string{"X-Request-ID": "on-error"})
	if got := rec.Header().Get("X-Request-ID"); got != "on-error" {
		t.Errorf("id on a 404: %q", got)
	}
	long := strings.Repeat("a", 200)
	if got := e.request("GET", "/healthz", asNone, nil, map[string]string{"X-Request-ID": long}).Header().Get("X-Request-ID"); got == long || got == "" {
		t.Errorf("an over-long id must be replaced, got %q", got)
	}
}

// TestRequestLog checks the one JSON log line per request.
func TestRequestLog(t *testing.T) {
	e := newEnv(t)
	fixtures(t, e)
	e.request("GET", "/v1/agents/"+e.vars["A"], asA, nil, map[string]string{"X-Request-ID": "log-ok"})
	e.request("GET", "/v1/agents/"+e.vars["B"], asA, nil, map[string]string{"X-Request-ID": "log-404"})
	wrong := "tk-thisIsAWrongSecretThatMustNotBeLogged"
	e.request("GET", "/v1/agents", "Bearer "+wrong, nil, map[string]string{"X-Request-ID": "log-401"})
	e.request("GET", "/v1/files", asB, nil, map[string]string{"X-Request-ID": "log-b"})

	lines := map[string]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(e.logs.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		if m["msg"] == "request" {
			if id, _ := m["request_id"].(string); id != "" {
				lines[id] = m
			}
		}
	}
	ok := lines["log-ok"]
	if ok == nil {
		t.Fatalf("no request line for log-ok in:\n%s", e.logs.String())
	}
	want := map[string]any{"route": "GET /v1/agents/{agent_id}", "status": 200.0, "workspace": e.wsA,
		"method": "GET", "agent_id": e.vars["A"], "path": "/v1/agents/" + e.vars["A"]}
	for k, v := range want {
		if ok[k] != v {
			t.Errorf("log %s = %v, want %v", k, ok[k], v)
		}
	}
	if _, has := ok["duration_ms"].(float64); !has {
		t.Errorf("no duration in %v", ok)
	}
	if nf := lines["log-404"]; nf == nil || nf["status"] != 404.0 || nf["error_kind"] != "not_found" || nf["workspace"] != e.wsA {
		t.Errorf("404 line: %v", nf)
	}
	if ua := lines["log-401"]; ua == nil || ua["status"] != 401.0 || ua["workspace"] != nil {
		t.Errorf("401 line: %v", ua)
	}
	if b := lines["log-b"]; b == nil || b["workspace"] != e.wsB || b["route"] != "GET /v1/files" {
		t.Errorf("beta line: %v", b)
	}
	all := e.logs.String()
	for _, secret := range []string{e.keyA, e.keyB, e.revoked, wrong} {
		if strings.Contains(all, secret) {
			t.Errorf("the log contains an API key secret")
		}
	}
	if strings.Contains(strings.ToLower(all), "bearer") {
		t.Errorf("the log contains an Authorization header")
	}
}
