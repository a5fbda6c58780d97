// Package providers builds model providers from configuration and wires
// them into a model.Router. It is the one place that knows every adapter
// (openai, mistral, scripted).
package providers

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/mistral"
	"github.com/tramontane/tramontane/internal/model/openai"
	"github.com/tramontane/tramontane/internal/model/scripted"
)

// Options are the environment-derived inputs of NewRouter.
type Options struct {
	// UpstreamURL and UpstreamAPIKey come from TRAMONTANE_UPSTREAM_URL and
	// TRAMONTANE_UPSTREAM_API_KEY: an OpenAI-compatible fallback that
	// serves every model name not otherwise routed.
	UpstreamURL    string
	UpstreamAPIKey string
	// MistralAPIKey comes from MISTRAL_API_KEY; MistralBaseURL optionally
	// overrides https://api.mistral.ai (tests point it at a fake).
	MistralAPIKey  string
	MistralBaseURL string
	// Getenv resolves api_key_env (default os.Getenv).
	Getenv func(string) string
	// Logger is given to the HTTP clients (default slog.Default()).
	Logger *slog.Logger
}

// NewRouter builds the router for cfg and opts.
func NewRouter(cfg model.Config, opts Options) (*model.Router, error) {
	return model.NewRouter(cfg, model.RouterOptions{
		Build:          Builder(opts.Getenv, opts.Logger),
		FallbackURL:    opts.UpstreamURL,
		FallbackAPIKey: opts.UpstreamAPIKey,
		MistralAPIKey:  opts.MistralAPIKey,
		MistralBaseURL: opts.MistralBaseURL,
	})
}

// Builder returns a function that makes a provider from its config,
// resolving api_key_env with getenv (os.Getenv if nil).
func Builder(getenv func(string) string, logger *slog.Logger) func(model.ProviderConfig) (model.Provider, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	return func(pc model.ProviderConfig) (model.Provider, error) {
		return Build(pc, getenv, logger)
	}
}

// Build makes one provider from its config.
func Build(pc model.ProviderConfig, getenv func(string) string, logger *slog.Logger) (model.Provider, error) {
	attempts := 0
	if pc.MaxRetries != nil {
		attempts = *pc.MaxRetries + 1
	}
	key := pc.Key(getenv)
	switch pc.Type {
	case model.TypeOpenAI:
		return openai.New(openai.Config{
			Name: pc.Name, BaseURL: pc.BaseURL, APIKey: key, Timeout: pc.Timeout.D(), IdleTimeout: pc.IdleTimeout.D(),
			MaxAttempts: attempts, StreamTools: pc.StreamTools, Logger: logger,
		})
	case model.TypeMistral:
		if key == "" && pc.APIKeyEnv != "" {
			return nil, fmt.Errorf("environment variable %s (api_key_env) is empty", pc.APIKeyEnv)
		}
		return mistral.New(mistral.Config{
			Name: pc.Name, BaseURL: pc.BaseURL, APIKey: key, Timeout: pc.Timeout.D(), IdleTimeout: pc.IdleTimeout.D(),
			MaxAttempts: attempts, StreamTools: pc.StreamTools, Logger: logger,
		})
	case model.TypeScripted:
		return scripted.NewFromFile(pc.Script)
	default:
		return nil, fmt.Errorf("unknown provider type %q", pc.Type)
	}
}
