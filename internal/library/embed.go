package library

import (
	"context"
	"fmt"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/model"
)

// Embedder turns texts into vectors, one per input, in order.
type Embedder interface {
	Embed(ctx context.Context, inputs []string) ([][]float32, error)
}

// ModelResolver finds the provider serving a public model name
// (*model.Router implements it).
type ModelResolver interface {
	Resolve(name string) (model.Provider, string, error)
}

// RouterEmbedder embeds with the routed model name (for example the value
// of TRAMONTANE_EMBEDDINGS_MODEL). The route is resolved on each call, so
// a provider that is not an embeddings provider is reported, not fatal.
func RouterEmbedder(r ModelResolver, name string) Embedder {
	return routerEmbedder{r: r, name: name}
}

type routerEmbedder struct {
	r    ModelResolver
	name string
}

// embedBatch is how many texts go to the upstream in one call.
const embedBatch = 64

func (e routerEmbedder) Embed(ctx context.Context, inputs []string) ([][]float32, error) {
	p, upstream, err := e.r.Resolve(e.name)
	if err != nil {
		return nil, err
	}
	em, ok := p.(model.Embedder)
	if !ok {
		return nil, apierr.Invalidf("model %q is served by provider %q, which has no embeddings endpoint", e.name, p.Name())
	}
	out := make([][]float32, 0, len(inputs))
	for start := 0; start < len(inputs); start += embedBatch {
		batch := inputs[start:min(start+embedBatch, len(inputs))]
		vecs, _, err := em.Embed(ctx, upstream, batch)
		if err != nil {
			return nil, err
		}
		if len(vecs) != len(batch) {
			return nil, fmt.Errorf("embeddings model %q returned %d vectors for %d inputs", e.name, len(vecs), len(batch))
		}
		out = append(out, vecs...)
	}
	return out, nil
}
