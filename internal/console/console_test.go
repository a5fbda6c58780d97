package console_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/tramontane/tramontane/client"
	"github.com/tramontane/tramontane/internal/auth"
	"github.com/tramontane/tramontane/internal/console"
)

var (
	loginTokenRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	csrfMetaRE   = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)
)

// get fetches a URL and returns the response and its body.
func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// send makes a request with optional CSRF token and Origin.
func send(t *testing.T, c *http.Client, method, u, csrf, origin, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// signIn signs a client in and returns the session's CSRF token.
func signIn(t *testing.T, c *http.Client, base, key string) string {
	t.Helper()
	_, page := get(t, c, base+"/console/login")
	m := loginTokenRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no sign-in token on the login page: %s", page)
	}
	res, err := c.PostForm(base+"/console/login", url.Values{"csrf": {m[1]}, "api_key": {key}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", res.StatusCode)
	}
	_, page = get(t, c, base+"/console/agents")
	m = csrfMetaRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on a signed-in page: %s", page)
	}
	return m[1]
}

func TestRootRedirectsAndAPIUnchanged(t *testing.T) {
	e := newEnv(t)
	c := client()
	res, _ := get(t, c, e.url+"/")
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/console/" {
		t.Fatalf("GET / = %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = get(t, c, e.url+"/console/agents")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/login" {
		t.Fatalf("signed out: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	res, body := get(t, c, e.url+"/v1/models")
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"object":"error"`) {
		t.Fatalf("/v1 without a key: %d %s", res.StatusCode, body)
	}
	res, body = get(t, c, e.url+"/v1/nothing")
	if res.StatusCode != http.StatusNotFound || !strings.Contains(res.Header.Get("Content-Type"), "json") {
		t.Fatalf("unknown /v1 path: %d %s", res.StatusCode, body)
	}
	// A session cookie does not authenticate the API itself.
	signIn(t, c, e.url, e.key)
	if res, _ := get(t, c, e.url+"/v1/models"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/v1 with only a console cookie: %d", res.StatusCode)
	}
}

func TestSessionCookie(t *testing.T) {
	e := newEnv(t)
	c := client()
	_, page := get(t, c, e.url+"/console/login")
	tok := loginTokenRE.FindStringSubmatch(page)[1]
	res, err := c.PostForm(e.url+"/console/login", url.Values{"csrf": {tok}, "api_key": {"wrong-key-0123456789"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a wrong key: %d", res.StatusCode)
	}
	_, page = get(t, c, e.url+"/console/login")
	tok = loginTokenRE.FindStringSubmatch(page)[1]
	res, err = c.PostForm(e.url+"/console/login", url.Values{"csrf": {tok}, "api_key": {e.key}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var sess *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "tramontane_session" && ck.Value != "" {
			sess = ck
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/console" || sess.Secure {
		t.Fatalf("session cookie %+v (HttpOnly, SameSite=Strict, not Secure on plain HTTP)", sess)
	}
	if strings.Contains(sess.Value, e.key) {
		t.Fatal("the cookie carries the key")
	}
	if h := res.Header.Get("Content-Security-Policy"); !strings.Contains(h, "script-src 'self'") || strings.Contains(h, "unsafe-inline") {
		t.Fatalf("CSP %q", h)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	c := client()
	// Sign-in itself needs the double-submit token.
	res, err := c.PostForm(e.url+"/console/login", url.Values{"api_key": {e.key}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in without a token: %d", res.StatusCode)
	}
	csrf := signIn(t, c, e.url, e.key)
	body := `{"name":"a","model":"mistral-medium-latest"}`
	for _, tc := range []struct {
		name, token, origin string
		want                int
	}{
		{"no token", "", "", http.StatusForbidden},
		{"wrong token", "nope", "", http.StatusForbidden},
		{"cross-site origin", csrf, "http://evil.example", http.StatusForbidden},
		{"null origin", csrf, "null", http.StatusForbidden},
		{"same origin", csrf, e.url, http.StatusOK},
		{"no origin (not a browser)", csrf, "", http.StatusOK},
	} {
		res, out := send(t, c, "POST", e.url+"/console/api/v1/agents", tc.token, tc.origin, body)
		if res.StatusCode != tc.want {
			t.Errorf("%s: %d %s", tc.name, res.StatusCode, out)
		}
	}
	// A form post (logout) needs the token too.
	res, err = c.PostForm(e.url+"/console/logout", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("logout without a token: %d", res.StatusCode)
	}
	res, err = c.PostForm(e.url+"/console/logout", url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	if res, _ := get(t, c, e.url+"/console/api/v1/agents"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after logout: %d", res.StatusCode)
	}
}

func TestRevokedKeyEndsSession(t *testing.T) {
	e := newEnv(t)
	k, secret, err := e.app.Auth.Create(context.Background(), auth.CreateOptions{Name: "short-lived"})
	if err != nil {
		t.Fatal(err)
	}
	c := client()
	signIn(t, c, e.url, secret)
	if res, _ := get(t, c, e.url+"/console/agents"); res.StatusCode != http.StatusOK {
		t.Fatalf("signed in: %d", res.StatusCode)
	}
	if err := e.app.Auth.Revoke(context.Background(), k.ID); err != nil {
		t.Fatal(err)
	}
	res, body := get(t, c, e.url+"/console/agents")
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "revoked") {
		t.Fatalf("after revocation: %d %s", res.StatusCode, body)
	}
	if res, _ := get(t, c, e.url+"/console/api/v1/agents"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("API proxy after revocation: %d", res.StatusCode)
	}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestSessionsExpire(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testSessionsExpire(t, false) })
	t.Run("database", func(t *testing.T) { testSessionsExpire(t, true) })
}

func testSessionsExpire(t *testing.T, inDB bool) {
	e := newEnv(t)
	clk := &clock{t: time.Now()}
	d := console.Deps{Auth: e.app.Auth, API: e.app.Handler, Now: clk.Now, IdleTimeout: 10 * time.Minute, MaxAge: time.Hour}
	if inDB {
		d.Sessions = e.app.Store
	}
	con, err := console.New(d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(con)
	defer srv.Close()
	c := client()
	signIn(t, c, srv.URL, e.key)
	// Activity keeps a session alive within its idle timeout...
	for range 5 {
		clk.add(9 * time.Minute)
		if res, _ := get(t, c, srv.URL+"/console/agents"); res.StatusCode != http.StatusOK {
			t.Fatalf("active session: %d", res.StatusCode)
		}
	}
	// ...but not past its maximum age.
	clk.add(20 * time.Minute)
	if res, _ := get(t, c, srv.URL+"/console/agents"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("past the maximum age: %d", res.StatusCode)
	}
	signIn(t, c, srv.URL, e.key)
	clk.add(11 * time.Minute)
	if res, _ := get(t, c, srv.URL+"/console/agents"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("idle too long: %d", res.StatusCode)
	}
}

// Another workspace's resources are 404 in the console, as in the API.
func TestWorkspaceIsolation(t *testing.T) {
	e := newEnv(t)
	a := client()
	csrfA := signIn(t, a, e.url, e.key)
	res, body := send(t, a, "POST", e.url+"/console/api/v1/agents", csrfA, e.url,
		`{"name":"Secret agent","model":"mistral-medium-latest","instructions":"hush"}`)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	var ag struct{ ID string }
	json.Unmarshal([]byte(body), &ag)
	res, body = send(t, a, "POST", e.url+"/console/api/v1/conversations", csrfA, e.url,
		`{"agent_id":"`+ag.ID+`","inputs":"hello"}`)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("conversation: %d %s", res.StatusCode, body)
	}
	var cv struct {
		ConversationID string `json:"conversation_id"`
	}
	json.Unmarshal([]byte(body), &cv)

	b := client()
	csrfB := signIn(t, b, e.url, e.otherKey(t, "other"))
	if _, page := get(t, b, e.url+"/console/agents"); strings.Contains(page, "Secret agent") {
		t.Fatal("another workspace lists the agent")
	}
	for _, p := range []string{
		"/console/agents/" + ag.ID, "/console/agents/" + ag.ID + "/edit",
		"/console/api/v1/agents/" + ag.ID, "/console/conversations/" + cv.ConversationID,
		"/console/api/v1/conversations/" + cv.ConversationID + "/history",
	} {
		if res, body := get(t, b, e.url+p); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s from another workspace: %d %s", p, res.StatusCode, body)
		}
	}
	if res, _ := send(t, b, "DELETE", e.url+"/console/api/v1/agents/"+ag.ID, csrfB, e.url, ""); res.StatusCode != http.StatusNotFound {
		t.Errorf("delete from another workspace: %d", res.StatusCode)
	}
	if res, _ := get(t, a, e.url+"/console/agents/"+ag.ID); res.StatusCode != http.StatusOK {
		t.Errorf("owner: %d", res.StatusCode)
	}
}

// Pages render, and stored text is escaped.
func TestTemplatesRenderAndEscape(t *testing.T) {
	e := newEnv(t)
	c := client()
	csrf := signIn(t, c, e.url, e.key)
	evil := `<script>alert(1)</script>`
	res, body := send(t, c, "POST", e.url+"/console/api/v1/agents", csrf, e.url,
		`{"name":"`+strings.ReplaceAll(evil, "/", `\/`)+`","model":"mistral-medium-latest","instructions":"\"><img src=x onerror=alert(2)>"}`)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	var ag struct{ ID string }
	json.Unmarshal([]byte(body), &ag)
	res, body = send(t, c, "POST", e.url+"/console/api/v1/conversations", csrf, e.url, `{"agent_id":"`+ag.ID+`","inputs":"<b>hi</b>"}`)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("conversation: %d %s", res.StatusCode, body)
	}
	var cv struct {
		ConversationID string `json:"conversation_id"`
	}
	json.Unmarshal([]byte(body), &cv)
	for _, p := range []string{"/console/agents", "/console/agents/new", "/console/agents/" + ag.ID,
		"/console/agents/" + ag.ID + "/edit", "/console/agents/" + ag.ID + "/diff?a=0&b=0", "/console/playground",
		"/console/conversations", "/console/conversations/" + cv.ConversationID, "/console/libraries", "/console/files",
		"/console/usage"} {
		res, page := get(t, c, e.url+p)
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", p, res.StatusCode)
			continue
		}
		if strings.Contains(page, evil) || strings.Contains(page, "<img src=x") || strings.Contains(page, "<b>hi</b>") {
			t.Errorf("%s: unescaped stored text", p)
		}
		if !strings.Contains(page, `<main id="main"`) || !strings.Contains(page, `<nav aria-label="Main">`) {
			t.Errorf("%s: no landmarks", p)
		}
	}
	if _, page := get(t, c, e.url+"/console/agents"); !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the agent's name is not shown escaped")
	}
	if res, _ := get(t, c, e.url+"/console/no/such/page"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown page: %d", res.StatusCode)
	}
}

// Every run adds to the workspace's usage of the day, and only its own.
func TestUsageRecorded(t *testing.T) {
	e := newEnv(t)
	c := client()
	csrf := signIn(t, c, e.url, e.key)
	for range 2 {
		if res, body := send(t, c, "POST", e.url+"/console/api/v1/conversations", csrf, e.url,
			`{"model":"mistral-medium-latest","inputs":"count me"}`); res.StatusCode != http.StatusOK {
			t.Fatalf("run: %d %s", res.StatusCode, body)
		}
	}
	// A stateless completion counts too.
	if res, body := send(t, c, "POST", e.url+"/console/api/v1/chat/completions", csrf, e.url,
		`{"model":"mistral-medium-latest","messages":[{"role":"user","content":"count me too"}]}`); res.StatusCode != http.StatusOK {
		t.Fatalf("completion: %d %s", res.StatusCode, body)
	}
	day := time.Now().UTC().Format(time.DateOnly)
	p, err := e.app.Auth.Authenticate(context.Background(), "Bearer "+e.key)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := e.app.Store.ListUsage(context.Background(), p.WorkspaceID, day, day)
	if err != nil || len(rows) != 1 || rows[0].Requests != 3 || rows[0].Model != "mistral-medium-latest" || rows[0].CompletionTokens == 0 {
		t.Fatalf("usage rows %+v, %v", rows, err)
	}
	_, page := get(t, c, e.url+"/console/usage")
	if !strings.Contains(page, "<rect") || !strings.Contains(page, "mistral-medium-latest") {
		t.Fatalf("usage page without its chart: %s", page)
	}
	other := client()
	signIn(t, other, e.url, e.otherKey(t, "other"))
	if _, page := get(t, other, e.url+"/console/usage"); strings.Contains(page, "mistral-medium-latest") {
		t.Fatal("another workspace sees this workspace's usage")
	}
}

// The conversation list filters by agent, metadata and date.
func TestConversationFilters(t *testing.T) {
	e := newEnv(t)
	c := client()
	signIn(t, c, e.url, e.key)
	id := e.agent(t, sdk.AgentCreateRequest{Name: "Filtered", Model: "mistral-medium-latest"}).ID
	withAgent, err := e.api().Conversations.Start(t.Context(), sdk.ConversationRequest{AgentID: id, Inputs: sdk.UserMessage("one"),
		Metadata: map[string]any{"team": "blue"}})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := e.api().Conversations.Start(t.Context(), sdk.ConversationRequest{Model: "mistral-medium-latest", Inputs: sdk.UserMessage("two"),
		Metadata: map[string]any{"team": "red"}})
	if err != nil {
		t.Fatal(err)
	}
	a, b := withAgent.ConversationID, plain.ConversationID
	today := time.Now().UTC().Format(time.DateOnly)
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	for _, tc := range []struct {
		query     string
		has, hasn []string
	}{
		{"", []string{a, b}, nil},
		{"agent_id=" + id, []string{a}, []string{b}},
		{"meta_key=team&meta_value=red", []string{b}, []string{a}},
		{"from=" + today + "&to=" + today, []string{a, b}, nil},
		{"from=" + tomorrow, nil, []string{a, b}},
	} {
		res, page := get(t, c, e.url+"/console/conversations?"+tc.query)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", tc.query, res.StatusCode)
		}
		for _, want := range tc.has {
			if !strings.Contains(page, want) {
				t.Errorf("%q: %s missing", tc.query, want)
			}
		}
		for _, not := range tc.hasn {
			if strings.Contains(page, not) {
				t.Errorf("%q: %s listed", tc.query, not)
			}
		}
	}
}

// Sessions kept in the database survive a restart (a new console on the
// same store), and signing out ends them there too.
func TestSessionsSurviveRestart(t *testing.T) {
	e := newEnv(t)
	c := client()
	csrf := signIn(t, c, e.url, e.key)
	con, err := console.New(console.Deps{Auth: e.app.Auth, API: e.app.Handler, Sessions: e.app.Store})
	if err != nil {
		t.Fatal(err)
	}
	restarted := httptest.NewServer(con)
	defer restarted.Close()
	// The cookie is scoped to the host, not the port: copy it over.
	u, _ := url.Parse(e.url)
	u2, _ := url.Parse(restarted.URL)
	c.Jar.SetCookies(u2, c.Jar.Cookies(u))
	if res, _ := get(t, c, restarted.URL+"/console/agents"); res.StatusCode != http.StatusOK {
		t.Fatalf("after a restart: %d", res.StatusCode)
	}
	old := c.Jar.Cookies(u)
	res, err := c.PostForm(restarted.URL+"/console/logout", url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	// Replaying the old cookie on the first instance fails: the session is
	// gone from the database.
	c.Jar.SetCookies(u, old)
	if res, _ := get(t, c, e.url+"/console/agents"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("signed out on one instance, still in on the other: %d", res.StatusCode)
	}
}

// Failed sign-ins from one address are throttled.
func TestSignInThrottle(t *testing.T) {
	e := newEnv(t)
	c := client()
	try := func(key string) int {
		_, page := get(t, c, e.url+"/console/login")
		tok := loginTokenRE.FindStringSubmatch(page)[1]
		res, err := c.PostForm(e.url+"/console/login", url.Values{"csrf": {tok}, "api_key": {key}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for i := range 10 {
		if got := try("wrong-key-0123456789"); got != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, got)
		}
	}
	if got := try(e.key); got != http.StatusTooManyRequests {
		t.Fatalf("after 10 failures: %d", got)
	}
}
