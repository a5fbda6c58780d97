package doclib

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/tramontane/tramontane/internal/file"
	"github.com/tramontane/tramontane/internal/library"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/store"
)

// WireOptions are what the application passes to Wire.
type WireOptions struct {
	Store store.Store
	// Blobs holds document content (the Files API's blob store).
	Blobs file.Blobs
	// Router resolves the embeddings model (*model.Router); may be nil
	// when EmbeddingsModel is empty.
	Router library.ModelResolver
	// EmbeddingsModel is the routed model used to embed chunks and
	// queries; "" reads TRAMONTANE_EMBEDDINGS_MODEL, and if that is empty
	// too, retrieval is BM25 only.
	EmbeddingsModel string
	MaxUploadBytes  int64
	// PublicURL is the server's external base URL, used in the signed
	// document links of citations (e.g. http://127.0.0.1:8080).
	PublicURL string
	Logger    *slog.Logger
	// Worker tunes ingestion (zero values: defaults).
	Worker library.WorkerOptions
}

// Wired is the libraries feature, ready to serve.
type Wired struct {
	// Library goes to httpapi.Deps.Libraries; call Library.Start to run
	// the ingestion workers.
	Library *library.Service
	// Connector goes to engine.Connectors["document_library"].
	Connector *Connector
}

// Wire builds the library service and the connector. A configured
// embeddings model must resolve to a provider with an embeddings endpoint,
// so a mistake surfaces at startup.
func Wire(ctx context.Context, o WireOptions) (*Wired, error) {
	if o.EmbeddingsModel == "" {
		o.EmbeddingsModel = os.Getenv("TRAMONTANE_EMBEDDINGS_MODEL")
	}
	opts := library.Options{Blobs: o.Blobs, MaxUploadBytes: o.MaxUploadBytes, Logger: o.Logger, Worker: o.Worker}
	if o.EmbeddingsModel != "" {
		if o.Router == nil {
			return nil, fmt.Errorf("embeddings model %q: no model router", o.EmbeddingsModel)
		}
		p, _, err := o.Router.Resolve(o.EmbeddingsModel)
		if err != nil {
			return nil, fmt.Errorf("embeddings model %q: %w", o.EmbeddingsModel, err)
		}
		if _, ok := p.(model.Embedder); !ok {
			return nil, fmt.Errorf("embeddings model %q: provider %q has no embeddings endpoint", o.EmbeddingsModel, p.Name())
		}
		opts.Embedder = library.RouterEmbedder(o.Router, o.EmbeddingsModel)
	}
	svc, err := library.New(ctx, o.Store, opts)
	if err != nil {
		return nil, err
	}
	return &Wired{Library: svc, Connector: New(svc, o.PublicURL)}, nil
}

// Start runs the ingestion workers (and the expiry sweeper and index
// merging) until the returned Closer is closed; Close waits for them and
// hands an unfinished job back to the queue. Close it before the store.
func (w *Wired) Start(ctx context.Context) io.Closer {
	return stopper(w.Library.Start(ctx))
}

type stopper func()

func (s stopper) Close() error { s(); return nil }
