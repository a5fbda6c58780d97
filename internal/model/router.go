package model

import (
	"fmt"
	"strings"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
)

// ModelInfo describes one routed public model, for /v1/models.
type ModelInfo struct {
	// ID is the public name.
	ID string
	// Provider is the serving provider's configured name.
	Provider string
	// OwnedBy is "mistralai" for Mistral's models, else the provider name.
	OwnedBy       string
	UpstreamModel string
	// Capabilities holds the ModelCard capability keys that are true.
	Capabilities map[string]bool
	// MaxContextLength is 0 when unknown (the card's default is 32768).
	MaxContextLength int
	Aliases          []string
	Description      string
	// Created is a unix time (when the router was built).
	Created int64
}

// RouterOptions are the inputs of [NewRouter] besides the config file.
type RouterOptions struct {
	// Build makes a provider from its config (see package providers). It
	// is required.
	Build func(ProviderConfig) (Provider, error)
	// FallbackURL (TRAMONTANE_UPSTREAM_URL) adds an OpenAI-compatible
	// provider named "upstream" that serves every model name not otherwise
	// routed, passing the name through. FallbackAPIKey is its key
	// (TRAMONTANE_UPSTREAM_API_KEY).
	FallbackURL    string
	FallbackAPIKey string
	// MistralAPIKey (MISTRAL_API_KEY), when set, adds a provider named
	// "mistral" (unless the config has one) and routes Mistral's model
	// names to it. MistralBaseURL overrides https://api.mistral.ai.
	MistralAPIKey  string
	MistralBaseURL string
}

type route struct {
	provider Provider
	upstream string
	info     *ModelInfo
}

// Router maps public model names to a provider and an upstream model name.
// It is immutable once built and safe for concurrent use.
type Router struct {
	routes    map[string]route
	infos     []ModelInfo
	providers map[string]Provider
	mistral   Provider
	fallback  Provider
}

// NewRouter validates cfg, applies the shortcuts in opts and builds every
// provider (so configuration errors surface at startup). Route precedence:
// configured model names and aliases, then Mistral model names (when a
// Mistral key is given), then the fallback provider.
func NewRouter(cfg Config, opts RouterOptions) (*Router, error) {
	if opts.Build == nil {
		return nil, fmt.Errorf("model: NewRouter needs RouterOptions.Build")
	}
	cfg.Providers = append([]ProviderConfig(nil), cfg.Providers...)
	cfg.Models = append([]ModelConfig(nil), cfg.Models...)
	if err := applyShortcuts(&cfg, opts); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("model config: %w", err)
	}
	r := &Router{routes: map[string]route{}, providers: map[string]Provider{}}
	created := time.Now().Unix()
	for _, pc := range cfg.Providers {
		p, err := opts.Build(pc)
		if err != nil {
			return nil, fmt.Errorf("model provider %q: %w", pc.Name, err)
		}
		r.providers[pc.Name] = p
		if pc.Fallback {
			r.fallback = p
		}
		if pc.Type == TypeMistral && pc.Name == "mistral" && opts.MistralAPIKey != "" {
			r.mistral = p
		}
	}
	types := map[string]string{}
	for _, pc := range cfg.Providers {
		types[pc.Name] = pc.Type
	}
	for _, mc := range cfg.Models {
		info := ModelInfo{
			ID:               mc.Name,
			Provider:         mc.Provider,
			OwnedBy:          owner(mc.Provider, types[mc.Provider]),
			UpstreamModel:    mc.UpstreamModel,
			Capabilities:     capabilities(mc.Capabilities),
			MaxContextLength: mc.MaxContextLength,
			Aliases:          append([]string(nil), mc.Aliases...),
			Description:      mc.Description,
			Created:          created,
		}
		r.infos = append(r.infos, info)
	}
	if r.mistral != nil {
		for _, km := range mistralModels {
			if _, taken := findInfo(r.infos, km.id); taken {
				continue
			}
			r.infos = append(r.infos, ModelInfo{
				ID:               km.id,
				Provider:         r.mistral.Name(),
				OwnedBy:          "mistralai",
				UpstreamModel:    km.id,
				Capabilities:     capabilities(km.caps),
				MaxContextLength: km.ctx,
				Created:          created,
			})
		}
	}
	for i := range r.infos {
		info := &r.infos[i]
		p := r.providers[info.Provider]
		for _, n := range append([]string{info.ID}, info.Aliases...) {
			if _, dup := r.routes[n]; !dup {
				r.routes[n] = route{provider: p, upstream: info.UpstreamModel, info: info}
			}
		}
	}
	return r, nil
}

func applyShortcuts(cfg *Config, opts RouterOptions) error {
	if opts.MistralAPIKey != "" {
		found := false
		for i := range cfg.Providers {
			p := &cfg.Providers[i]
			if p.Type == TypeMistral && p.APIKey == "" && p.APIKeyEnv == "" {
				p.APIKey = opts.MistralAPIKey
			}
			if p.Name == "mistral" {
				if p.Type != TypeMistral {
					return fmt.Errorf("model config: MISTRAL_API_KEY is set but provider %q has type %q; rename that provider", p.Name, p.Type)
				}
				found = true
			}
		}
		if !found {
			cfg.Providers = append(cfg.Providers, ProviderConfig{
				Name: "mistral", Type: TypeMistral, BaseURL: opts.MistralBaseURL, APIKey: opts.MistralAPIKey,
			})
		}
	}
	if opts.FallbackURL != "" {
		for _, p := range cfg.Providers {
			if p.Fallback {
				return fmt.Errorf("model config: TRAMONTANE_UPSTREAM_URL is set but provider %q already has fallback: true; keep only one", p.Name)
			}
			if p.Name == "upstream" {
				return fmt.Errorf("model config: TRAMONTANE_UPSTREAM_URL is set but a provider is already named \"upstream\"; rename it")
			}
		}
		cfg.Providers = append(cfg.Providers, ProviderConfig{
			Name: "upstream", Type: TypeOpenAI, BaseURL: opts.FallbackURL, APIKey: opts.FallbackAPIKey, Fallback: true,
		})
	}
	return nil
}

func owner(provider, typ string) string {
	if typ == TypeMistral {
		return "mistralai"
	}
	return provider
}

// capabilities turns a capability list into the ModelCard map.
func capabilities(list []string) map[string]bool {
	caps := map[string]bool{}
	if list == nil {
		list = []string{"completion_chat", "function_calling"}
	}
	embedding := false
	for _, c := range list {
		c = strings.ToLower(strings.TrimSpace(c))
		if c == "embedding" || c == "embeddings" {
			embedding = true
			continue
		}
		if c != "" {
			caps[c] = true
		}
	}
	if !embedding {
		caps["completion_chat"] = true
	}
	return caps
}

func findInfo(infos []ModelInfo, name string) (int, bool) {
	for i, in := range infos {
		if in.ID == name {
			return i, true
		}
		for _, a := range in.Aliases {
			if a == name {
				return i, true
			}
		}
	}
	return 0, false
}

// Resolve returns the provider serving the public model name and the name
// to send upstream. An unrouted name is an *apierr.Error of kind Invalid
// whose message says how to route it.
func (r *Router) Resolve(name string) (Provider, string, error) {
	if rt, ok := r.routes[name]; ok {
		return rt.provider, rt.upstream, nil
	}
	if r.mistral != nil && IsMistralModelName(name) {
		return r.mistral, name, nil
	}
	if r.fallback != nil && name != "" {
		return r.fallback, name, nil
	}
	if name == "" {
		e := apierr.Invalidf("model is required")
		e.Param = "model"
		return nil, "", e
	}
	e := apierr.Invalidf("model %q is not routed to any upstream: add it to the models section of the "+
		"model config file, or set TRAMONTANE_UPSTREAM_URL (an OpenAI-compatible server such as vLLM or "+
		"Ollama) or MISTRAL_API_KEY", name)
	e.Param = "model"
	return nil, "", e
}

// Info returns the description of a configured or well-known model, by
// name or alias. Names served only by the fallback provider are unknown.
func (r *Router) Info(name string) (ModelInfo, bool) {
	if rt, ok := r.routes[name]; ok {
		return cloneInfo(*rt.info), true
	}
	return ModelInfo{}, false
}

// Models lists the configured models, then Mistral's well-known models
// when a Mistral key is set. Names the fallback provider would accept
// cannot be enumerated and are not listed.
func (r *Router) Models() []ModelInfo {
	out := make([]ModelInfo, len(r.infos))
	for i, in := range r.infos {
		out[i] = cloneInfo(in)
	}
	return out
}

// Provider returns the provider with the given configured name.
func (r *Router) Provider(name string) (Provider, bool) {
	p, ok := r.providers[name]
	return p, ok
}

// upstreams returns the providers whose own model lists extend the
// catalog: the fallback and the Mistral shortcut.
func (r *Router) upstreams() []Provider {
	var out []Provider
	if r.fallback != nil {
		out = append(out, r.fallback)
	}
	if r.mistral != nil && r.mistral != r.fallback {
		out = append(out, r.mistral)
	}
	return out
}

// HasFallback reports whether unknown model names are passed to a
// fallback provider.
func (r *Router) HasFallback() bool { return r.fallback != nil }

func cloneInfo(in ModelInfo) ModelInfo {
	caps := make(map[string]bool, len(in.Capabilities))
	for k, v := range in.Capabilities {
		caps[k] = v
	}
	in.Capabilities = caps
	in.Aliases = append([]string(nil), in.Aliases...)
	return in
}
