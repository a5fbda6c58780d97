package model

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// RemoteModel is one model an upstream reports on GET /models.
type RemoteModel struct {
	ID      string
	OwnedBy string
	Created int64
	// Capabilities, MaxContextLength, Aliases and Description are set by
	// upstreams that answer with Mistral's model cards.
	Capabilities     map[string]bool
	MaxContextLength int
	Aliases          []string
	Description      string
}

// Lister is implemented by providers that can list their models.
type Lister interface {
	ListModels(ctx context.Context) ([]RemoteModel, error)
}

// CatalogOptions tune a [Catalog]. Zero values take the defaults.
type CatalogOptions struct {
	// TTL is how long an upstream's list is reused (default 5 minutes).
	TTL time.Duration
	// ErrorTTL is how long a failed listing is not retried (default 30s),
	// so that a down upstream does not slow every /v1/models call.
	ErrorTTL time.Duration
	// Timeout bounds one upstream listing (default 3s).
	Timeout time.Duration
	Logger  *slog.Logger
}

// Catalog lists every model the router can serve: the configured names,
// Mistral's well-known names, and the names the fallback and Mistral
// upstreams report on GET /models (cached; an upstream that is down or
// slow is left out of the list, never failing it). It is safe for
// concurrent use.
type Catalog struct {
	r     *Router
	opts  CatalogOptions
	now   func() time.Time
	mu    sync.Mutex
	lists map[Provider]*listing
}

type listing struct {
	fetch  sync.Mutex // one listing at a time per upstream
	models []RemoteModel
	at     time.Time
	failed bool
}

// NewCatalog returns a catalog over r.
func NewCatalog(r *Router, o CatalogOptions) *Catalog {
	if o.TTL <= 0 {
		o.TTL = 5 * time.Minute
	}
	if o.ErrorTTL <= 0 {
		o.ErrorTTL = 30 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Catalog{r: r, opts: o, now: time.Now, lists: map[Provider]*listing{}}
}

// Models returns the configured models, then those the upstreams report
// that the router would send to them.
func (c *Catalog) Models(ctx context.Context) []ModelInfo {
	out := c.r.Models()
	seen := map[string]bool{}
	for _, in := range out {
		seen[in.ID] = true
		for _, a := range in.Aliases {
			seen[a] = true
		}
	}
	for _, p := range c.r.upstreams() {
		for _, m := range c.remote(ctx, p) {
			if seen[m.ID] {
				continue
			}
			if in, ok := c.remoteInfo(p, m); ok {
				seen[m.ID] = true
				out = append(out, in)
			}
		}
	}
	return out
}

// Info describes any name a conversation would accept: a configured or
// listed model, or a name only the fallback or Mistral route serves (with
// default capabilities).
func (c *Catalog) Info(ctx context.Context, name string) (ModelInfo, bool) {
	if in, ok := c.r.Info(name); ok {
		return in, true
	}
	p, upstream, err := c.r.Resolve(name)
	if err != nil {
		return ModelInfo{}, false
	}
	for _, m := range c.remote(ctx, p) {
		if m.ID == name {
			if in, ok := c.remoteInfo(p, m); ok {
				return in, true
			}
		}
	}
	return ModelInfo{ID: name, Provider: p.Name(), OwnedBy: c.owner(p, ""), UpstreamModel: upstream,
		Capabilities: capabilities(nil), Created: c.now().Unix()}, true
}

func (c *Catalog) owner(p Provider, reported string) string {
	if p == c.r.mistral {
		return "mistralai"
	}
	if reported != "" {
		return reported
	}
	return p.Name()
}

// remoteInfo describes a reported model, if the router sends that name
// to the provider that reported it.
func (c *Catalog) remoteInfo(p Provider, m RemoteModel) (ModelInfo, bool) {
	rp, upstream, err := c.r.Resolve(m.ID)
	if err != nil || rp != p {
		return ModelInfo{}, false
	}
	caps := capabilities(nil)
	if len(m.Capabilities) > 0 {
		caps = map[string]bool{}
		for k, v := range m.Capabilities {
			if v {
				caps[k] = true
			}
		}
	}
	created := m.Created
	if created == 0 {
		created = c.now().Unix()
	}
	return ModelInfo{ID: m.ID, Provider: p.Name(), OwnedBy: c.owner(p, m.OwnedBy), UpstreamModel: upstream,
		Capabilities: caps, MaxContextLength: m.MaxContextLength, Description: m.Description, Created: created}, true
}

// remote returns p's cached list, refreshing it when stale.
func (c *Catalog) remote(ctx context.Context, p Provider) []RemoteModel {
	l, ok := p.(Lister)
	if !ok {
		return nil
	}
	c.mu.Lock()
	li := c.lists[p]
	if li == nil {
		li = &listing{}
		c.lists[p] = li
	}
	c.mu.Unlock()
	li.fetch.Lock()
	defer li.fetch.Unlock()
	ttl := c.opts.TTL
	if li.failed {
		ttl = c.opts.ErrorTTL
	}
	if !li.at.IsZero() && c.now().Sub(li.at) < ttl {
		return li.models
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.Timeout)
	defer cancel()
	models, err := l.ListModels(cctx)
	li.at = c.now()
	if err != nil {
		// Keep the last good list, if any: a blip does not empty it.
		li.failed = true
		c.opts.Logger.Warn("listing upstream models failed; /v1/models leaves them out", "provider", p.Name(), "error", err.Error())
		return li.models
	}
	li.models, li.failed = models, false
	return models
}
