// Package websearch implements the web_search and web_search_premium
// built-in connectors: it queries a search engine (SearXNG or Brave),
// fetches the top result pages concurrently through the SSRF-safe fetcher,
// extracts their readable text, and hands the model numbered passages to
// cite as [n]. The engine turns those citations into tool_reference chunks.
package websearch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/engine"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/tool/fetch"
)

// Tool names.
const (
	ToolWebSearch        = "web_search"
	ToolWebSearchPremium = "web_search_premium"
)

var _ engine.Connector = (*Connector)(nil)

// Connector is the web_search (or, from Premium, web_search_premium)
// connector.
type Connector struct {
	name    string
	premium bool
	cfg     Config
	search  SearchEngine
	fetcher *fetch.Client
}

// Option customises New.
type Option func(*options)

type options struct {
	engine   SearchEngine
	resolver fetch.Resolver
	api      *http.Client
}

// WithEngine uses e instead of the engine named in the Config (fakes,
// other backends).
func WithEngine(e SearchEngine) Option { return func(o *options) { o.engine = e } }

// WithResolver makes page fetches resolve host names through r (tests).
func WithResolver(r fetch.Resolver) Option { return func(o *options) { o.resolver = r } }

// WithAPIClient sets the HTTP client of the search API calls.
func WithAPIClient(c *http.Client) Option { return func(o *options) { o.api = c } }

// New returns the web_search connector for cfg. Call Premium on it for
// web_search_premium.
func New(cfg Config, opts ...Option) (*Connector, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.engine == nil {
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
	} else if cfg.MaxResults < 0 || cfg.MaxResults > maxResultsLimit {
		return nil, fmt.Errorf("web_search: max_results must be between 1 and %d", maxResultsLimit)
	}
	cfg = cfg.withDefaults()
	api := o.api
	if api == nil {
		api = &http.Client{Timeout: cfg.SearchTimeout}
	}
	c := &Connector{name: ToolWebSearch, cfg: cfg, search: o.engine}
	if c.search == nil {
		switch cfg.engine() {
		case "searxng":
			c.search = &SearXNG{BaseURL: cfg.SearXNGURL, Client: api}
		case "brave":
			c.search = &Brave{APIKey: cfg.BraveAPIKey, BaseURL: cfg.BraveURL, Client: api}
		}
	}
	c.fetcher = fetch.New(fetch.Config{
		AllowPrivate: cfg.AllowPrivate,
		Timeout:      cfg.FetchTimeout,
		MaxBytes:     cfg.MaxPageBytes,
		Resolver:     o.resolver,
	})
	return c, nil
}

// Premium returns the web_search_premium variant of c: it also asks the
// engine for news results and ranks results from the configured premium
// domains first. It shares c's engine and fetcher.
func (c *Connector) Premium() *Connector {
	p := *c
	p.name, p.premium = ToolWebSearchPremium, true
	return &p
}

// Name is the tool type this connector serves.
func (c *Connector) Name() string { return c.name }

// Definition implements engine.Connector.
func (c *Connector) Definition(agent.Tool) model.ToolDef {
	desc := "Search the web for up-to-date information. Returns numbered sources with their text; cite them as [n]."
	what := "What to search the web for"
	if c.premium {
		desc = "Search the web and trusted news sources for up-to-date information. Returns numbered sources with their text; cite them as [n]."
		what = "What to search the web and news for"
	}
	params, _ := json.Marshal(map[string]any{
		"type":       "object",
		"properties": map[string]any{"query": map[string]string{"type": "string", "description": what}},
		"required":   []string{"query"},
	})
	return model.ToolDef{Name: c.name, Description: desc, Parameters: params}
}

// source is one result with the text fetched for it.
type source struct {
	Result
	text string
}

// Execute implements engine.Connector.
func (c *Connector) Execute(ctx context.Context, call engine.ToolCall) (*engine.ToolResult, error) {
	query, err := engine.QueryArgument(call.Arguments)
	if err != nil {
		return nil, err
	}
	q := Query{Text: query, Count: c.cfg.MaxResults, Language: c.cfg.Language}
	if c.premium {
		q.News, q.Count = true, min(2*c.cfg.MaxResults, maxResultsLimit)
	}
	sctx, cancel := context.WithTimeout(ctx, c.cfg.SearchTimeout)
	results, err := c.search.Search(sctx, q)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("web search failed: %w", err)
	}
	results = usable(results)
	if c.premium {
		results = preferDomains(results, c.cfg.PremiumDomains)
	}
	if len(results) > c.cfg.MaxResults {
		results = results[:c.cfg.MaxResults]
	}
	sources := c.fetchAll(ctx, query, results)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.result(query, sources, call.RefOffset), nil
}

// usable drops results without an http(s) URL and repeated URLs.
func usable(rs []Result) []Result {
	seen := map[string]bool{}
	var out []Result
	for _, r := range rs {
		u, err := url.Parse(r.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			continue
		}
		key := strings.TrimSuffix(u.Host+u.EscapedPath(), "/") + "?" + u.RawQuery
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, r)
	}
	return out
}

// preferDomains moves results from domains (or their subdomains) to the
// front, keeping the engine's order within each group.
func preferDomains(rs []Result, domains []string) []Result {
	var pref, rest []Result
	for _, r := range rs {
		if inDomains(r.URL, domains) {
			pref = append(pref, r)
		} else {
			rest = append(rest, r)
		}
	}
	return append(pref, rest...)
}

// inDomains reports whether raw's host is one of domains or below one.
func inDomains(raw string, domains []string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	for _, d := range domains {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

// fetchAll downloads and extracts every result page concurrently; a page
// that cannot be fetched or read falls back to the engine's snippet.
func (c *Connector) fetchAll(ctx context.Context, query string, rs []Result) []source {
	out := make([]source, len(rs))
	var wg sync.WaitGroup
	for i, r := range rs {
		out[i].Result = r
		wg.Add(1)
		go func() {
			defer wg.Done()
			title, text := c.page(ctx, r.URL)
			if out[i].Title == "" {
				out[i].Title = title
			}
			if text != "" {
				out[i].text = passage(text, query, c.cfg.MaxPassageChars)
			}
		}()
	}
	wg.Wait()
	return out
}

// page fetches one URL and returns its title and readable text ("" on
// any failure, including refusal by the fetch policy).
func (c *Connector) page(ctx context.Context, raw string) (title, text string) {
	resp, err := c.fetcher.Get(ctx, raw, "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5")
	if err != nil {
		return "", ""
	}
	return extract(resp.Body, resp.ContentType(), resp.URL)
}

// result builds the tool result: numbered passages for the model, the
// matching references, and the info object.
func (c *Connector) result(query string, sources []source, offset int) *engine.ToolResult {
	var b strings.Builder
	infoResults := make([]map[string]string, 0, len(sources))
	refs := make([]engine.Reference, 0, len(sources))
	if len(sources) == 0 {
		fmt.Fprintf(&b, "The web search for %q returned no results.", query)
	} else {
		fmt.Fprintf(&b, "Web search results for %q. Answer from these sources and cite each fact with the number of its source in square brackets, e.g. [1] or [2][3], placed right after the sentence it supports. Cite only the numbers listed below.\n", query)
	}
	for i, s := range sources {
		u, _ := url.Parse(s.URL)
		title := s.Title
		if title == "" {
			title = u.Host
		}
		text := s.text
		if text == "" {
			text = s.Snippet
		}
		if text == "" {
			text = "(the page could not be read)"
		}
		fmt.Fprintf(&b, "\n[%d] %s — %s\n%s\n", offset+i+1, title, s.URL, text)
		favicon := s.Favicon
		if favicon == "" {
			favicon = "https://" + u.Host + "/favicon.ico"
		}
		desc := s.Snippet
		if desc == "" {
			desc = truncate(strings.Join(strings.Fields(s.text), " "), 200)
		}
		refs = append(refs, engine.Reference{Tool: c.name, Title: title, URL: s.URL, Favicon: favicon, Description: desc})
		infoResults = append(infoResults, map[string]string{"title": title, "url": s.URL})
	}
	forModel := b.String()
	return &engine.ToolResult{
		Info:            map[string]any{"query": query, "results": infoResults},
		ForModel:        forModel,
		References:      refs,
		ConnectorTokens: EstimateTokens(forModel),
	}
}

// EstimateTokens approximates the tokens of injected text as one per four
// bytes, rounded up: the usual ratio for English with BPE tokenizers.
func EstimateTokens(s string) int { return (len(s) + 3) / 4 }
