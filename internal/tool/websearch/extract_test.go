package websearch

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestExtractHTML(t *testing.T) {
	u, _ := url.Parse("https://news.example/a")
	title, text := extract([]byte(articlePage("Wind", "LEAD[12] paragraph with a footnote.")), "text/html", u)
	if title != "Wind | Example News" {
		t.Errorf("title = %q", title)
	}
	if !strings.Contains(text, "LEAD paragraph with a footnote.") || !strings.Contains(text, "cold northern wind") {
		t.Errorf("text = %q", text)
	}
	if strings.Contains(text, "BOILERPLATE") || strings.Contains(text, "[12]") {
		t.Errorf("boilerplate or footnote kept: %q", text)
	}
}

func TestExtractShortPageFallsBack(t *testing.T) {
	page := `<html><head><title>Tiny &amp; short</title></head><body><nav>NAVLINKS</nav>
<div>Opening hours: 9 to 5.</div><footer>FOOT</footer></body></html>`
	title, text := extract([]byte(page), "", nil)
	if title != "Tiny & short" || !strings.Contains(text, "Opening hours: 9 to 5.") || strings.Contains(text, "NAVLINKS") || strings.Contains(text, "FOOT") {
		t.Errorf("title %q text %q", title, text)
	}
}

func TestExtractCharsetAndTypes(t *testing.T) {
	latin1 := []byte("<html><head><title>Caf\xe9</title></head><body><p>Cr\xe8me br\xfbl\xe9e \xe0 la tramontane.</p></body></html>")
	title, text := extract(latin1, "text/html; charset=iso-8859-1", nil)
	if title != "Café" || !strings.Contains(text, "Crème brûlée à la tramontane.") {
		t.Errorf("latin-1: %q %q", title, text)
	}
	if _, text := extract([]byte("  line one  \r\n\r\n\r\n  line   two "), "text/plain", nil); text != "line one\n\nline two" {
		t.Errorf("plain = %q", text)
	}
	if _, text := extract([]byte(`{"a": 1}`), "application/json", nil); text != `{"a": 1}` {
		t.Errorf("json = %q", text)
	}
	if _, text := extract([]byte("%PDF-1.7 binary"), "application/pdf", nil); text != "" {
		t.Errorf("pdf = %q", text)
	}
	if _, text := extract([]byte("\x89PNG\r\n\x1a\n\x00\x00"), "", nil); text != "" {
		t.Errorf("sniffed png = %q", text)
	}
}

func TestPassage(t *testing.T) {
	short := "all of it"
	if passage(short, "x", 100) != short {
		t.Error("short text changed")
	}
	paras := []string{
		"Lead paragraph of the article.",
		strings.Repeat("filler words here ", 10),
		"The mistral and the tramontane are winds; the tramontane is colder.",
		strings.Repeat("more filler ", 10),
	}
	p := passage(strings.Join(paras, "\n\n"), "Tramontane winds", 140)
	if !strings.HasPrefix(p, "Lead paragraph") || !strings.Contains(p, "tramontane is colder") || strings.Contains(p, "filler") {
		t.Errorf("passage = %q", p)
	}
	if !strings.Contains(p, "…") || len(p) > 140 {
		t.Errorf("passage = %q (%d bytes)", p, len(p))
	}
	long := strings.Repeat("é mot ", 100)
	if p := passage(long, "mot", 50); len(p) > 50 || !strings.HasSuffix(p, "…") || !strings.HasPrefix(p, "é mot") {
		t.Errorf("truncated = %q", p)
	}
}

func TestLoadConfig(t *testing.T) {
	raw := []byte(`
addr: 127.0.0.1:9
web_search:
  engine: brave
  brave_api_key: from-file
  max_results: 7
  fetch_timeout: 3s
  max_page_bytes: 4096
  allow_private: true
  premium_domains: [apnews.com, "https://www.afp.com/"]
`)
	env := map[string]string{"BRAVE_API_KEY": "from-env"}
	c, err := Load(raw, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !c.Enabled() || c.engine() != "brave" || c.BraveAPIKey != "from-env" || c.MaxResults != 7 || c.FetchTimeout != 3*time.Second ||
		c.MaxPageBytes != 4096 || !c.AllowPrivate {
		t.Errorf("config = %+v", c)
	}
	if d := c.withDefaults().PremiumDomains; strings.Join(d, ",") != "apnews.com,afp.com" {
		t.Errorf("domains = %v", d)
	}
	c, err = Load(nil, func(k string) string { return map[string]string{"TRAMONTANE_SEARXNG_URL": "http://127.0.0.1:8888"}[k] })
	if err != nil || c.engine() != "searxng" {
		t.Errorf("env only: %+v %v", c, err)
	}
	c, err = Load([]byte("addr: x\n"), func(string) string { return "" })
	if err != nil || c.Enabled() {
		t.Errorf("unconfigured: %+v %v", c, err)
	}
	if _, err := New(c); err == nil {
		t.Error("New accepted an unconfigured engine")
	}
	for _, bad := range []string{
		"web_search: {engine: bing, searxng_url: http://x}",
		"web_search: {searxng_url: 'ftp://x'}",
		"web_search: {engine: brave}",
		"web_search: {searxng_url: 'http://x', max_results: 50}",
		"web_search: {searxng_url: 'http://x', unknown_key: 1}",
	} {
		if _, err := Load([]byte(bad), func(string) string { return "" }); err == nil {
			t.Errorf("Load(%s) accepted", bad)
		}
	}
	if d := (Config{}).withDefaults(); d.MaxResults != DefaultMaxResults || len(d.PremiumDomains) != len(DefaultPremiumDomains) {
		t.Errorf("defaults = %+v", d)
	}
}
