package app

import (
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/httpapi"
)

// staticCatalog lists the models named in the config file's "models"
// section.
type staticCatalog struct{ cards []httpapi.ModelCard }

func (s staticCatalog) Cards() []httpapi.ModelCard { return s.cards }

func newCatalog(c config.Config) (httpapi.ModelCatalog, error) {
	var f struct {
		Models []struct {
			Name             string   `yaml:"name"`
			Aliases          []string `yaml:"aliases"`
			MaxContextLength int      `yaml:"max_context_length"`
			Description      string   `yaml:"description"`
		} `yaml:"models"`
	}
	if len(c.Raw) > 0 {
		if err := yaml.Unmarshal(c.Raw, &f); err != nil {
			return nil, err
		}
	}
	created := time.Now().Unix()
	cat := staticCatalog{cards: []httpapi.ModelCard{}}
	for _, m := range f.Models {
		ctx := m.MaxContextLength
		if ctx == 0 {
			ctx = 32768
		}
		aliases := m.Aliases
		if aliases == nil {
			aliases = []string{}
		}
		cat.cards = append(cat.cards, httpapi.ModelCard{
			ID: m.Name, Object: "model", Created: created, OwnedBy: "tramontane", Type: "base",
			Name: m.Name, Description: m.Description, MaxContextLength: ctx, Aliases: aliases,
			Capabilities: map[string]bool{"completion_chat": true, "function_calling": true},
		})
	}
	return cat, nil
}
