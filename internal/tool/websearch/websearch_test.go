package websearch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/engine"
	"github.com/tramontane/tramontane/internal/tool/fetch"
)

// articlePage is a news page with the usual chrome around its content.
func articlePage(title, body string) string {
	return `<!doctype html><html><head><title>` + title + ` | Example News</title>
<style>.x{color:red}</style><script>var tracking = "BOILERPLATE-SCRIPT";</script></head>
<body>
<header><div class="logo">Example News</div></header>
<nav class="menu"><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/sub">BOILERPLATE-NAV Subscribe to our newsletter</a></li></ul></nav>
<main><article><h1>` + title + `</h1>
<p>` + body + `</p>
<p>The tramontane is a cold northern wind that blows down from the mountains towards the sea. Sailors
have named it for centuries, and it shapes the climate of the coasts it reaches, clearing the sky and
drying the air within hours of its arrival.</p>
<p>Meteorologists explain it as air spilling over the mountain range, accelerating as it is channelled
through the valleys. Its gusts can exceed one hundred kilometres per hour during the winter months,
and it can last for several days in a row before the pressure gradient relaxes again.</p>
</article>
<aside class="sidebar">BOILERPLATE-ASIDE Related stories: ten things you did not know</aside></main>
<footer>BOILERPLATE-FOOTER © 2025 Example Corp. All rights reserved. Privacy policy. Cookie settings.</footer>
</body></html>`
}

// fixture is a fake SearXNG plus the pages its results point to, all on
// loopback.
type fixture struct {
	pages, searx *httptest.Server
	pageHits     atomic.Int32
	lastQuery    atomic.Value // url.Values
	results      func(pages string) []map[string]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{}
	mux := http.NewServeMux()
	mux.HandleFunc("/a", func(w http.ResponseWriter, r *http.Request) {
		f.pageHits.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, articlePage("Tramontane wind explained", "ARTICLE-A-LEAD The tramontane returned this week."))
	})
	mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) {
		f.pageHits.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "ARTICLE-B plain text notes about the tramontane.")
	})
	mux.HandleFunc("/404", func(w http.ResponseWriter, r *http.Request) {
		f.pageHits.Add(1)
		http.NotFound(w, r)
	})
	f.pages = httptest.NewServer(mux)
	t.Cleanup(f.pages.Close)
	f.results = func(p string) []map[string]string {
		return []map[string]string{
			{"url": p + "/a", "title": "Tramontane wind explained", "content": "Snippet A about the <b>wind</b>."},
			{"url": p + "/b", "title": "Field notes", "content": "Snippet B."},
			{"url": p + "/a", "title": "Duplicate", "content": "dup"},
			{"url": "ftp://example.com/file", "title": "Not http", "content": "x"},
			{"url": p + "/404", "title": "Gone page", "content": "Snippet of the gone page."},
		}
	}
	f.searx = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/search" || r.URL.Query().Get("format") != "json" {
			http.Error(w, "Forbidden", http.StatusForbidden)
			return
		}
		f.lastQuery.Store(r.URL.Query())
		json.NewEncoder(w).Encode(map[string]any{"query": r.URL.Query().Get("q"), "results": f.results(f.pages.URL)})
	}))
	t.Cleanup(f.searx.Close)
	return f
}

func call(args string) engine.ToolCall {
	return engine.ToolCall{Workspace: "ws", ConversationID: "conv", Tool: agent.Tool{Type: "web_search"}, Arguments: args}
}

func TestSearXNGEndToEnd(t *testing.T) {
	f := newFixture(t)
	c, err := New(Config{SearXNGURL: f.searx.URL + "/", AllowPrivate: true, Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Execute(context.Background(), call(`{"query":"tramontane wind"}`))
	if err != nil {
		t.Fatal(err)
	}
	q := f.lastQuery.Load().(url.Values)
	if q.Get("q") != "tramontane wind" || q.Get("language") != "en" || q.Get("categories") != "" {
		t.Errorf("searxng query = %v", q)
	}
	fm := res.ForModel
	a, b := f.pages.URL+"/a", f.pages.URL+"/b"
	for _, want := range []string{
		`Web search results for "tramontane wind"`, "[1] Tramontane wind explained — " + a, "ARTICLE-A-LEAD",
		"cold northern wind", "[2] Field notes — " + b, "ARTICLE-B plain text", "[3] Gone page — ",
		"Snippet of the gone page.", "square brackets",
	} {
		if !strings.Contains(fm, want) {
			t.Errorf("ForModel lacks %q:\n%s", want, fm)
		}
	}
	for _, junk := range []string{"BOILERPLATE", "Subscribe", "All rights reserved", "[4]", "Duplicate", "ftp://"} {
		if strings.Contains(fm, junk) {
			t.Errorf("ForModel contains %q:\n%s", junk, fm)
		}
	}
	if len(res.References) != 3 {
		t.Fatalf("references = %+v", res.References)
	}
	host := strings.TrimPrefix(f.pages.URL, "http://")
	want := engine.Reference{Tool: "web_search", Title: "Tramontane wind explained", URL: a,
		Favicon: "https://" + host + "/favicon.ico", Description: "Snippet A about the wind."}
	if res.References[0] != want {
		t.Errorf("ref[0] = %+v\nwant %+v", res.References[0], want)
	}
	info, _ := json.Marshal(res.Info)
	wantInfo := fmt.Sprintf(`{"query":"tramontane wind","results":[{"title":"Tramontane wind explained","url":%q},{"title":"Field notes","url":%q},{"title":"Gone page","url":%q}]}`,
		a, b, f.pages.URL+"/404")
	if string(info) != wantInfo {
		t.Errorf("info = %s\nwant %s", info, wantInfo)
	}
	if res.ConnectorTokens != (len(fm)+3)/4 || res.ConnectorTokens == 0 {
		t.Errorf("connector tokens = %d for %d bytes", res.ConnectorTokens, len(fm))
	}
	if len(res.Chunks) != 0 {
		t.Errorf("chunks = %s", res.Chunks)
	}
}

func TestPagesNotFetchedWithoutOptIn(t *testing.T) {
	f := newFixture(t)
	base := f.results
	f.results = func(p string) []map[string]string {
		return append([]map[string]string{{"url": "http://10.0.0.1/admin", "title": "Intranet", "content": "Private snippet."}}, base(p)...)
	}
	// The SearXNG API itself is on loopback: the operator configured it, so
	// the policy does not apply to it, only to result pages.
	c, err := New(Config{SearXNGURL: f.searx.URL, MaxResults: 3})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Execute(context.Background(), call(`{"query":"tramontane"}`))
	if err != nil {
		t.Fatal(err)
	}
	if n := f.pageHits.Load(); n != 0 {
		t.Fatalf("%d loopback pages fetched without allow_private", n)
	}
	for _, want := range []string{"[1] Intranet — http://10.0.0.1/admin\nPrivate snippet.", "Snippet A about the wind.", "[3] Field notes"} {
		if !strings.Contains(res.ForModel, want) {
			t.Errorf("ForModel lacks %q:\n%s", want, res.ForModel)
		}
	}
	if len(res.References) != 3 {
		t.Errorf("refs = %d", len(res.References))
	}
}

func TestPremiumPrefersDomains(t *testing.T) {
	f := newFixture(t)
	_, port, _ := net.SplitHostPort(f.pages.Listener.Addr().String())
	f.results = func(p string) []map[string]string {
		return []map[string]string{
			{"url": p + "/a", "title": "Blog", "content": "blog"},
			{"url": "http://www.wire.example:" + port + "/b", "title": "Wire", "content": "wire"},
			{"url": p + "/404", "title": "Other", "content": "other"},
			{"url": "http://notwire.example:" + port + "/a", "title": "Lookalike", "content": "lookalike"},
		}
	}
	resolver := fetch.ResolverFunc(func(_ context.Context, _, host string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	})
	c, err := New(Config{SearXNGURL: f.searx.URL, AllowPrivate: true, MaxResults: 3, PremiumDomains: []string{"https://Wire.example/"}},
		WithResolver(resolver))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Premium()
	if p.Name() != "web_search_premium" || c.Name() != "web_search" {
		t.Fatalf("names %q %q", p.Name(), c.Name())
	}
	res, err := p.Execute(context.Background(), call(`{"query":"wind news"}`))
	if err != nil {
		t.Fatal(err)
	}
	if q := f.lastQuery.Load().(url.Values); q.Get("categories") != "general,news" {
		t.Errorf("premium categories = %q", q.Get("categories"))
	}
	var titles []string
	for _, r := range res.References {
		titles = append(titles, r.Title)
		if r.Tool != "web_search_premium" {
			t.Errorf("ref tool = %q", r.Tool)
		}
	}
	if got := strings.Join(titles, ","); got != "Wire,Blog,Other" {
		t.Errorf("order = %s", got)
	}
	if !strings.Contains(res.ForModel, "[1] Wire — http://www.wire.example:"+port+"/b\nARTICLE-B") {
		t.Errorf("ForModel:\n%s", res.ForModel)
	}
}

func TestBrave(t *testing.T) {
	var got atomic.Value
	pages := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, articlePage("Brave hit", "BRAVE-PAGE-BODY about the wind."))
	}))
	defer pages.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Subscription-Token") != "brave-key" || r.URL.Path != "/res/v1/web/search" {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		got.Store(r.URL.Query())
		body := map[string]any{"web": map[string]any{"results": []map[string]any{
			{"title": "Brave <strong>hit</strong>", "url": pages.URL + "/w", "description": "The <strong>wind</strong> &amp; sea",
				"meta_url": map[string]string{"favicon": "https://imgs.search.brave.com/icon.png"}},
		}}}
		if strings.Contains(r.URL.Query().Get("result_filter"), "news") {
			body["news"] = map[string]any{"results": []map[string]any{{"title": "News hit", "url": pages.URL + "/n", "description": "news"}}}
		}
		json.NewEncoder(w).Encode(body)
	}))
	defer srv.Close()
	c, err := New(Config{Engine: "brave", BraveAPIKey: "brave-key", BraveURL: srv.URL + "/res/v1/web/search", AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Execute(context.Background(), call(`{"query":"wind"}`))
	if err != nil {
		t.Fatal(err)
	}
	q := got.Load().(url.Values)
	if q.Get("q") != "wind" || q.Get("count") != "5" || q.Get("result_filter") != "web" {
		t.Errorf("brave query = %v", q)
	}
	want := engine.Reference{Tool: "web_search", Title: "Brave hit", URL: pages.URL + "/w",
		Favicon: "https://imgs.search.brave.com/icon.png", Description: "The wind & sea"}
	if len(res.References) != 1 || res.References[0] != want {
		t.Fatalf("refs = %+v", res.References)
	}
	if !strings.Contains(res.ForModel, "BRAVE-PAGE-BODY") {
		t.Errorf("ForModel:\n%s", res.ForModel)
	}
	res, err = c.Premium().Execute(context.Background(), call(`{"query":"wind"}`))
	if err != nil {
		t.Fatal(err)
	}
	if q := got.Load().(url.Values); q.Get("result_filter") != "web,news" || q.Get("count") != "10" {
		t.Errorf("premium brave query = %v", q)
	}
	if len(res.References) != 2 || res.References[0].Title != "News hit" {
		t.Errorf("premium refs = %+v", res.References)
	}
	bad, _ := New(Config{Engine: "brave", BraveAPIKey: "wrong", BraveURL: srv.URL + "/res/v1/web/search"})
	if _, err := bad.Execute(context.Background(), call(`{"query":"wind"}`)); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("bad key err = %v", err)
	}
}

func TestEngineErrors(t *testing.T) {
	f := newFixture(t)
	// SearXNG without the json format answers 403.
	c, _ := New(Config{SearXNGURL: f.searx.URL + "/nojson"})
	_, err := c.Execute(context.Background(), call(`{"query":"x"}`))
	if err == nil || !strings.Contains(err.Error(), "json format") {
		t.Errorf("err = %v", err)
	}
	down, _ := New(Config{SearXNGURL: "http://127.0.0.1:1"})
	if _, err := down.Execute(context.Background(), call(`{"query":"x"}`)); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("err = %v", err)
	}
	for _, args := range []string{``, `{}`, `{"query":"  "}`, `[1]`} {
		if _, err := c.Execute(context.Background(), call(args)); err == nil {
			t.Errorf("args %q accepted", args)
		}
	}
	fake := engineFunc(func(context.Context, Query) ([]Result, error) { return nil, nil })
	e, err := New(Config{}, WithEngine(fake))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Execute(context.Background(), call(`"bare string query"`))
	if err != nil || !strings.Contains(res.ForModel, `"bare string query" returned no results`) || len(res.References) != 0 {
		t.Errorf("no results: %+v %v", res, err)
	}
}

type engineFunc func(context.Context, Query) ([]Result, error)

func (f engineFunc) Search(ctx context.Context, q Query) ([]Result, error) { return f(ctx, q) }

func TestByteCapTimeoutAndConcurrency(t *testing.T) {
	const n = 4
	var arrived atomic.Int32
	allIn := make(chan struct{})
	var once sync.Once
	var together atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/c"):
			// Each page waits until all n are in flight: it only proceeds
			// quickly if the fetches run concurrently.
			if arrived.Add(1) == n {
				once.Do(func() { close(allIn) })
			}
			select {
			case <-allIn:
				together.Add(1)
			case <-time.After(5 * time.Second):
			}
			fmt.Fprintf(w, "page %s about tramontane", r.URL.Path)
		case r.URL.Path == "/big":
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, strings.Repeat("tramontane ", 1000)+"TAIL-MARKER")
		case r.URL.Path == "/slow":
			w.Header().Set("Content-Type", "text/plain")
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
	}))
	defer srv.Close()
	defer close(release)
	var rs []Result
	for i := range n {
		rs = append(rs, Result{Title: fmt.Sprintf("C%d", i), URL: fmt.Sprintf("%s/c%d", srv.URL, i), Snippet: "s"})
	}
	rs = append(rs, Result{Title: "Big", URL: srv.URL + "/big"})
	c, err := New(Config{AllowPrivate: true, MaxResults: 6, MaxPageBytes: 500, FetchTimeout: 10 * time.Second},
		WithEngine(engineFunc(func(context.Context, Query) ([]Result, error) { return rs, nil })))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Execute(context.Background(), call(`{"query":"tramontane"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := together.Load(); got != n {
		t.Errorf("%d of %d pages were fetched concurrently", got, n)
	}
	if !strings.Contains(res.ForModel, "[4] C3 — "+srv.URL+"/c3\npage /c3 about tramontane") {
		t.Errorf("ForModel:\n%s", res.ForModel)
	}
	if !strings.Contains(res.ForModel, "[5] Big — ") || strings.Contains(res.ForModel, "TAIL-MARKER") {
		t.Errorf("byte cap not applied:\n%s", res.ForModel)
	}

	// The per-page timeout: the slow page gives up and the snippet is used.
	slow := []Result{{Title: "Slow", URL: srv.URL + "/slow", Snippet: "SLOW-SNIPPET"}}
	c, err = New(Config{AllowPrivate: true, FetchTimeout: 100 * time.Millisecond},
		WithEngine(engineFunc(func(context.Context, Query) ([]Result, error) { return slow, nil })))
	if err != nil {
		t.Fatal(err)
	}
	res, err = c.Execute(context.Background(), call(`{"query":"tramontane"}`))
	if err != nil || !strings.Contains(res.ForModel, "[1] Slow — "+srv.URL+"/slow\nSLOW-SNIPPET") {
		t.Fatalf("slow: %v\n%v", err, res)
	}
}

func TestCancelledContext(t *testing.T) {
	fake := engineFunc(func(ctx context.Context, _ Query) ([]Result, error) { return nil, ctx.Err() })
	c, _ := New(Config{}, WithEngine(fake))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Execute(ctx, call(`{"query":"x"}`)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestDefinition(t *testing.T) {
	c, _ := New(Config{}, WithEngine(engineFunc(nil)))
	for _, conn := range []*Connector{c, c.Premium()} {
		d := conn.Definition(agent.Tool{Type: conn.Name()})
		if d.Name != conn.Name() || d.Description == "" {
			t.Errorf("definition %+v", d)
		}
		var schema struct {
			Type       string
			Properties map[string]struct{ Type string }
			Required   []string
		}
		if err := json.Unmarshal(d.Parameters, &schema); err != nil || schema.Type != "object" ||
			schema.Properties["query"].Type != "string" || len(schema.Required) != 1 || schema.Required[0] != "query" {
			t.Errorf("parameters %s (%v)", d.Parameters, err)
		}
	}
}
