package app

import (
	"context"
	"path/filepath"

	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/httpapi"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/providers"
)

// routingConfig extracts the "providers" and "models" sections of the
// server's config file.
func routingConfig(c config.Config) (model.Config, error) {
	var mc model.Config
	if _, err := config.Section(c.Raw, "providers", &mc.Providers); err != nil {
		return mc, err
	}
	if _, err := config.Section(c.Raw, "models", &mc.Models); err != nil {
		return mc, err
	}
	dir := filepath.Dir(c.ConfigFile)
	for i := range mc.Providers {
		if p := &mc.Providers[i]; p.Script != "" && !filepath.IsAbs(p.Script) {
			p.Script = filepath.Join(dir, p.Script)
		}
	}
	return mc, nil
}

// newRouter builds the model router from the config file and the
// TRAMONTANE_UPSTREAM_URL / MISTRAL_API_KEY shortcuts.
func newRouter(c config.Config, opts providers.Options) (*model.Router, error) {
	mc, err := routingConfig(c)
	if err != nil {
		return nil, err
	}
	opts.UpstreamURL, opts.UpstreamAPIKey, opts.MistralAPIKey = c.UpstreamURL, c.UpstreamAPIKey, c.MistralAPIKey
	return providers.NewRouter(mc, opts)
}

// routerCatalog lists the routed models as ModelCards.
type routerCatalog struct{ c *model.Catalog }

func (rc routerCatalog) Cards(ctx context.Context) []httpapi.ModelCard {
	infos := rc.c.Models(ctx)
	out := make([]httpapi.ModelCard, 0, len(infos))
	for _, m := range infos {
		out = append(out, card(m))
	}
	return out
}

func (rc routerCatalog) Card(ctx context.Context, id string) (httpapi.ModelCard, bool) {
	m, ok := rc.c.Info(ctx, id)
	if !ok {
		return httpapi.ModelCard{}, false
	}
	return card(m), true
}

func card(m model.ModelInfo) httpapi.ModelCard {
	ctx := m.MaxContextLength
	if ctx == 0 {
		ctx = 32768
	}
	aliases := m.Aliases
	if aliases == nil {
		aliases = []string{}
	}
	caps := map[string]bool{}
	for k, v := range m.Capabilities {
		caps[k] = v
	}
	return httpapi.ModelCard{
		ID: m.ID, Object: "model", Created: m.Created, OwnedBy: m.OwnedBy, Type: "base",
		Name: m.ID, Description: m.Description, MaxContextLength: ctx, Aliases: aliases, Capabilities: caps,
	}
}
