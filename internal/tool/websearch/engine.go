package websearch

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// SearchEngine is a web search backend.
type SearchEngine interface {
	// Search returns results for q, best first.
	Search(ctx context.Context, q Query) ([]Result, error)
}

// Query is one search.
type Query struct {
	// Text is the query as the model wrote it.
	Text string
	// Count is how many results are wanted (engines may return fewer or
	// more).
	Count int
	// News asks the engine to include news results (web_search_premium).
	News bool
	// Language is an optional language code such as "en" or "fr".
	Language string
}

// Result is one search hit.
type Result struct {
	Title   string
	URL     string
	Snippet string
	// Favicon is the engine's icon URL for the site, if it gives one.
	Favicon string
}

// DefaultBraveURL is Brave Search API's web search endpoint.
const DefaultBraveURL = "https://api.search.brave.com/res/v1/web/search"

// SearXNG queries a SearXNG instance through its JSON API
// (GET {BaseURL}/search?q=...&format=json). The instance must list "json"
// under search.formats in its settings.yml.
type SearXNG struct {
	// BaseURL is the instance's root, e.g. http://127.0.0.1:8888.
	BaseURL string
	// Client makes the API calls; nil means a client with a 15s timeout.
	Client *http.Client
}

// Search implements SearchEngine.
func (s *SearXNG) Search(ctx context.Context, q Query) ([]Result, error) {
	v := url.Values{"q": {q.Text}, "format": {"json"}, "pageno": {"1"}}
	if q.News {
		v.Set("categories", "general,news")
	}
	if q.Language != "" {
		v.Set("language", q.Language)
	}
	endpoint := strings.TrimSuffix(s.BaseURL, "/") + "/search?" + v.Encode()
	var body struct {
		Results []struct {
			URL     string `json:"url"`
			Title   string `json:"title"`
			Content string `json:"content"`
		} `json:"results"`
	}
	if err := getJSON(ctx, client(s.Client), endpoint, nil, "SearXNG", &body); err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(body.Results))
	for _, r := range body.Results {
		out = append(out, Result{Title: clean(r.Title), URL: r.URL, Snippet: clean(r.Content)})
	}
	return out, nil
}

// Brave queries the Brave Search API.
type Brave struct {
	// APIKey is sent as X-Subscription-Token.
	APIKey string
	// BaseURL overrides DefaultBraveURL (tests, proxies).
	BaseURL string
	// Client makes the API calls; nil means a client with a 15s timeout.
	Client *http.Client
}

// braveResult is the part of a Brave web or news result we use.
type braveResult struct {
	Title       string `json:"title"`
	URL         string `json:"url"`
	Description string `json:"description"`
	MetaURL     struct {
		Favicon string `json:"favicon"`
	} `json:"meta_url"`
}

// Search implements SearchEngine. With q.News, news results are asked for
// too and listed before the web results.
func (b *Brave) Search(ctx context.Context, q Query) ([]Result, error) {
	count := min(max(q.Count, 1), 20)
	v := url.Values{"q": {q.Text}, "count": {strconv.Itoa(count)}, "result_filter": {"web"}}
	if q.News {
		v.Set("result_filter", "web,news")
	}
	if q.Language != "" {
		v.Set("search_lang", q.Language)
	}
	base := b.BaseURL
	if base == "" {
		base = DefaultBraveURL
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	hdr := http.Header{"X-Subscription-Token": {b.APIKey}}
	var body struct {
		Web  struct{ Results []braveResult } `json:"web"`
		News struct{ Results []braveResult } `json:"news"`
	}
	if err := getJSON(ctx, client(b.Client), base+sep+v.Encode(), hdr, "Brave Search", &body); err != nil {
		return nil, err
	}
	var out []Result
	for _, r := range append(body.News.Results, body.Web.Results...) {
		out = append(out, Result{Title: clean(r.Title), URL: r.URL, Snippet: clean(r.Description), Favicon: r.MetaURL.Favicon})
	}
	return out, nil
}

// defaultAPIClient calls search APIs, which the operator configured and
// may run on a private network: it is not subject to the fetch policy.
var defaultAPIClient = &http.Client{Timeout: defaultSearchTimeout}

// client is c, or the default API client when c is nil.
func client(c *http.Client) *http.Client {
	if c == nil {
		return defaultAPIClient
	}
	return c
}

// getJSON GETs endpoint and decodes its JSON body into dst, turning
// failures into errors the model and operator can act on.
func getJSON(ctx context.Context, hc *http.Client, endpoint string, hdr http.Header, name string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s did not answer in time: %w", name, ctx.Err())
		}
		return fmt.Errorf("%s is unreachable: %w", name, redactErr(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		hint := ""
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			hint = " (check the API key, or for SearXNG enable the json format in settings.yml)"
		case http.StatusTooManyRequests:
			hint = " (rate limited)"
		}
		return fmt.Errorf("%s answered HTTP %d%s: %s", name, resp.StatusCode, hint, strings.TrimSpace(string(msg)))
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(dst); err != nil {
		return fmt.Errorf("%s returned an unreadable answer: %w", name, err)
	}
	return nil
}

// redactErr drops the URL (which may carry the query) from a client error.
func redactErr(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// tags matches HTML tags in engine titles and snippets.
var tags = regexp.MustCompile(`<[^>]*>`)

// clean strips markup (Brave highlights with <strong>) and entities, and
// collapses whitespace.
func clean(s string) string {
	return strings.Join(strings.Fields(html.UnescapeString(tags.ReplaceAllString(s, ""))), " ")
}
