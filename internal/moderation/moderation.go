// Package moderation classifies text with a configured moderation model
// (Mistral's moderation API or an OpenAI-compatible /v1/moderations) and
// enforces guardrails: the per-agent, per-conversation and per-request
// "guardrails" settings of Mistral's API, which block an input whose
// category scores cross their thresholds.
//
// The configuration file's "moderation" section names the provider (one
// of the "providers" section, or "mistral" for the MISTRAL_API_KEY
// shortcut) and the upstream model:
//
//	moderation:
//	  provider: mistral
//	  model: mistral-moderation-latest
//	  timeout: 10s
//
// Without the section, the Mistral shortcut provider, when configured,
// moderates with mistral-moderation-latest; otherwise moderation is off,
// /v1/moderations answers 503 and guardrails are refused with a 400 that
// names this setting.
package moderation

import (
	"context"
	"fmt"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/model"
)

// Config is the "moderation" section of the config file.
type Config struct {
	// Provider names a provider of the "providers" section (or "mistral").
	Provider string `yaml:"provider"`
	// Model is the upstream moderation model (default
	// mistral-moderation-latest).
	Model string `yaml:"model"`
	// Timeout bounds one moderation call (default 10s).
	Timeout model.Duration `yaml:"timeout"`
}

// DefaultModel is the moderation model used when the config names none.
const DefaultModel = "mistral-moderation-latest"

// Providers finds configured providers by name (*model.Router).
type Providers interface {
	Provider(name string) (model.Provider, bool)
}

// Service classifies texts. A nil *Service is valid and disabled.
type Service struct {
	mod      model.Moderator
	provider string
	model    string
	timeout  time.Duration
}

// FromConfig reads the "moderation" section of a config file and builds
// the service, or returns nil when moderation is not configured.
func FromConfig(raw []byte, ps Providers) (*Service, error) {
	var cfg Config
	present, err := config.Section(raw, "moderation", &cfg)
	if err != nil {
		return nil, err
	}
	if !present || cfg.Provider == "" {
		if present && (cfg.Model != "" || cfg.Timeout != 0) {
			return nil, fmt.Errorf("moderation: provider is required (a provider of the providers section, or mistral with MISTRAL_API_KEY)")
		}
		if p, ok := ps.Provider("mistral"); ok {
			if m, ok := p.(model.Moderator); ok {
				return &Service{mod: m, provider: "mistral", model: DefaultModel, timeout: 10 * time.Second}, nil
			}
		}
		return nil, nil
	}
	p, ok := ps.Provider(cfg.Provider)
	if !ok {
		return nil, fmt.Errorf("moderation.provider: no provider named %q in the providers section", cfg.Provider)
	}
	m, ok := p.(model.Moderator)
	if !ok {
		return nil, fmt.Errorf("moderation.provider: provider %q has no moderation endpoint (use an openai or mistral provider)", cfg.Provider)
	}
	s := &Service{mod: m, provider: cfg.Provider, model: cfg.Model, timeout: cfg.Timeout.D()}
	if s.model == "" {
		s.model = DefaultModel
	}
	if s.timeout <= 0 {
		s.timeout = 10 * time.Second
	}
	return s, nil
}

// New returns a service over a moderator (for tests and wiring).
func New(m model.Moderator, upstreamModel string, timeout time.Duration) *Service {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &Service{mod: m, provider: "moderation", model: upstreamModel, timeout: timeout}
}

// Enabled reports whether a moderation provider is configured.
func (s *Service) Enabled() bool { return s != nil && s.mod != nil }

// errNotConfigured names the setting that enables moderation.
func errNotConfigured(what string) error {
	return apierr.Invalidf("%s need a moderation provider, and this server has none: add a moderation section "+
		"(moderation: {provider: NAME, model: MODEL}) to the config file, or set MISTRAL_API_KEY; see docs/configuration.md", what)
}

// Classify moderates inputs, one result per input.
func (s *Service) Classify(ctx context.Context, inputs []string) ([]model.Moderation, model.Usage, error) {
	if !s.Enabled() {
		return nil, model.Usage{}, apierr.Wrap(apierr.Unavailable, errNotConfigured("moderations"), "moderation is not configured on this server: "+
			"add a moderation section to the config file, or set MISTRAL_API_KEY; see docs/configuration.md")
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return s.mod.Moderate(ctx, s.model, inputs)
}
