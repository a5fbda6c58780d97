package websearch

import (
	"errors"
	"fmt"
	"github.com/tramontane/tramontane/internal/config"
	"net/url"
	"os"
	"strings"
	"time"
)

// Defaults used when a Config field is zero.
const (
	DefaultMaxResults      = 5
	DefaultFetchTimeout    = 8 * time.Second
	DefaultMaxPageBytes    = 1 << 20
	DefaultMaxPassageChars = 3000
	defaultSearchTimeout   = 15 * time.Second
	maxResultsLimit        = 20
)

// DefaultPremiumDomains are the news sites web_search_premium prefers
// when premium_domains is not set.
var DefaultPremiumDomains = []string{
	"apnews.com", "afp.com", "reuters.com", "bbc.com", "bbc.co.uk", "theguardian.com",
	"lemonde.fr", "france24.com", "dw.com", "npr.org",
}

// Config is the web_search section of the config file.
type Config struct {
	// Engine is "searxng" or "brave". Empty picks searxng when SearXNGURL
	// is set, else brave when BraveAPIKey is set.
	Engine string `yaml:"engine"`
	// SearXNGURL is the SearXNG instance's root (env TRAMONTANE_SEARXNG_URL).
	SearXNGURL string `yaml:"searxng_url"`
	// BraveAPIKey is the Brave Search API key (env BRAVE_API_KEY).
	BraveAPIKey string `yaml:"brave_api_key"`
	// BraveURL overrides the Brave endpoint (DefaultBraveURL).
	BraveURL string `yaml:"brave_url"`
	// MaxResults is how many results are fetched and given to the model
	// (default 5, at most 20).
	MaxResults int `yaml:"max_results"`
	// FetchTimeout bounds the download of one result page (default 8s).
	FetchTimeout time.Duration `yaml:"fetch_timeout"`
	// SearchTimeout bounds the search API call (default 15s).
	SearchTimeout time.Duration `yaml:"search_timeout"`
	// MaxPageBytes caps the bytes read from one page (default 1 MiB).
	MaxPageBytes int64 `yaml:"max_page_bytes"`
	// MaxPassageChars caps the text kept from one page (default 3000).
	MaxPassageChars int `yaml:"max_passage_chars"`
	// AllowPrivate lets page fetches reach private and loopback addresses
	// (intranets, tests). Off by default: see internal/tool/fetch.
	AllowPrivate bool `yaml:"allow_private"`
	// PremiumDomains are the news domains web_search_premium ranks first
	// (subdomains match); default DefaultPremiumDomains.
	PremiumDomains []string `yaml:"premium_domains"`
	// Language is an optional language code passed to the engine.
	Language string `yaml:"language"`
}

// Load reads the web_search section of a config file (raw may be nil) and
// overlays the environment through getenv (nil means os.Getenv). Use
// Enabled to know whether a backend is configured.
func Load(raw []byte, getenv func(string) string) (Config, error) {
	var c Config
	if _, err := config.Section(raw, "web_search", &c); err != nil {
		return c, err
	}
	c = c.WithEnv(getenv)
	if !c.Enabled() {
		return c, nil
	}
	return c, c.Validate()
}

// FromEnv is the configuration given by the environment alone.
func FromEnv() Config { return Config{}.WithEnv(nil) }

// WithEnv returns c with TRAMONTANE_SEARXNG_URL and BRAVE_API_KEY applied
// over it when they are set. getenv nil means os.Getenv.
func (c Config) WithEnv(getenv func(string) string) Config {
	if getenv == nil {
		getenv = os.Getenv
	}
	if v := getenv("TRAMONTANE_SEARXNG_URL"); v != "" {
		c.SearXNGURL = v
	}
	if v := getenv("BRAVE_API_KEY"); v != "" {
		c.BraveAPIKey = v
	}
	return c
}

// Enabled reports whether a search backend is configured.
func (c Config) Enabled() bool { return c.engine() != "" }

// engine is the backend in use, or "" when none is configured.
func (c Config) engine() string {
	switch e := strings.ToLower(c.Engine); {
	case e != "":
		return e
	case c.SearXNGURL != "":
		return "searxng"
	case c.BraveAPIKey != "":
		return "brave"
	}
	return ""
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	switch c.engine() {
	case "searxng":
		u, err := url.Parse(c.SearXNGURL)
		if c.SearXNGURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("web_search: searxng_url (TRAMONTANE_SEARXNG_URL) must be an http(s) URL, got %q", c.SearXNGURL)
		}
	case "brave":
		if c.BraveAPIKey == "" {
			return errors.New("web_search: the brave engine needs brave_api_key (BRAVE_API_KEY)")
		}
	case "":
		return errors.New("web_search: no engine configured (set TRAMONTANE_SEARXNG_URL or BRAVE_API_KEY)")
	default:
		return fmt.Errorf("web_search: unknown engine %q (want searxng or brave)", c.Engine)
	}
	if c.MaxResults < 0 || c.MaxResults > maxResultsLimit {
		return fmt.Errorf("web_search: max_results must be between 1 and %d", maxResultsLimit)
	}
	if c.FetchTimeout < 0 || c.SearchTimeout < 0 || c.MaxPageBytes < 0 || c.MaxPassageChars < 0 {
		return errors.New("web_search: timeouts and sizes must not be negative")
	}
	return nil
}

// withDefaults fills zero fields.
func (c Config) withDefaults() Config {
	if c.MaxResults == 0 {
		c.MaxResults = DefaultMaxResults
	}
	if c.FetchTimeout == 0 {
		c.FetchTimeout = DefaultFetchTimeout
	}
	if c.SearchTimeout == 0 {
		c.SearchTimeout = defaultSearchTimeout
	}
	if c.MaxPageBytes == 0 {
		c.MaxPageBytes = DefaultMaxPageBytes
	}
	if c.MaxPassageChars == 0 {
		c.MaxPassageChars = DefaultMaxPassageChars
	}
	if c.PremiumDomains == nil {
		c.PremiumDomains = DefaultPremiumDomains
	}
	var ds []string
	for _, d := range c.PremiumDomains {
		if d = normDomain(d); d != "" {
			ds = append(ds, d)
		}
	}
	c.PremiumDomains = ds
	return c
}

// normDomain turns "https://www.Example.com/" into "example.com".
func normDomain(d string) string {
	d = strings.ToLower(strings.TrimSpace(d))
	if i := strings.Index(d, "://"); i >= 0 {
		d = d[i+3:]
	}
	if i := strings.IndexAny(d, "/:"); i >= 0 {
		d = d[:i]
	}
	return strings.TrimPrefix(strings.Trim(d, "."), "www.")
}
