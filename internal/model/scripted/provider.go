package scripted

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/model"
)

// Name is the name every scripted provider reports.
const Name = "scripted"

// DefaultEmbedDim is the size of the scripted provider's embeddings.
const DefaultEmbedDim = 256

// Provider is the scripted model as a model.Provider. It also implements
// model.Embedder with deterministic hashed vectors (see HashEmbedding).
type Provider struct {
	engine *Engine
	// EmbedDim is the embedding size (DefaultEmbedDim if zero).
	EmbedDim int
}

var _ model.Provider = (*Provider)(nil)
var _ model.Embedder = (*Provider)(nil)

// New returns a provider following s.
func New(s *Script) *Provider { return &Provider{engine: NewEngine(s)} }

// NewFromFile loads a script file and returns a provider following it.
func NewFromFile(path string) (*Provider, error) {
	s, err := Load(path)
	if err != nil {
		return nil, err
	}
	return New(s), nil
}

// Name returns "scripted".
func (p *Provider) Name() string { return Name }

// Engine returns the provider's script engine.
func (p *Provider) Engine() *Engine { return p.engine }

// Chat answers from the script. A rule's error becomes the *apierr.Error
// an HTTP upstream with that status would give.
func (p *Provider) Chat(ctx context.Context, req *model.Request) (model.Stream, error) {
	rep := p.engine.Respond(req)
	if err := wait(ctx, rep.Delay); err != nil {
		return nil, err
	}
	if rep.Error != nil {
		return nil, ErrorOf(rep.Error)
	}
	return &stream{ctx: ctx, chunks: rep.Chunks(), failAfter: rep.FailAfterChunks}, nil
}

// ErrorOf maps a script error to the project's error type.
func ErrorOf(e *ErrorSpec) *apierr.Error {
	return model.StatusError(Name, e.Status, e.Message, time.Duration(e.RetryAfter)*time.Second)
}

func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctxErr(ctx)
	}
}

func ctxErr(ctx context.Context) error {
	if ctx.Err() == context.DeadlineExceeded {
		return apierr.Wrap(apierr.Timeout, ctx.Err(), "the scripted model did not answer in time")
	}
	return apierr.Wrap(apierr.Upstream, ctx.Err(), "the request to the scripted model was canceled")
}

// stream replays chunks, honouring the context and fail_after_chunks.
type stream struct {
	ctx       context.Context
	mu        sync.Mutex
	chunks    []model.Chunk
	sent      int
	failAfter int
	closed    bool
}

func (s *stream) Next() (model.Chunk, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return model.Chunk{}, io.EOF
	}
	if s.ctx.Err() != nil {
		return model.Chunk{}, ctxErr(s.ctx)
	}
	if s.failAfter > 0 && s.sent >= s.failAfter {
		return model.Chunk{}, apierr.New(apierr.Upstream, "the scripted model broke the stream (fail_after_chunks)")
	}
	if s.sent >= len(s.chunks) {
		return model.Chunk{}, io.EOF
	}
	c := s.chunks[s.sent]
	s.sent++
	return c, nil
}

func (s *stream) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

// Embed returns HashEmbedding vectors; the model name is ignored. Usage
// counts words.
func (p *Provider) Embed(ctx context.Context, _ string, inputs []string) ([][]float32, model.Usage, error) {
	if ctx.Err() != nil {
		return nil, model.Usage{}, ctxErr(ctx)
	}
	dim := p.EmbedDim
	if dim <= 0 {
		dim = DefaultEmbedDim
	}
	out := make([][]float32, len(inputs))
	var u model.Usage
	for i, s := range inputs {
		out[i] = HashEmbedding(s, dim)
		u.PromptTokens += model.CountTokens(s)
	}
	u.TotalTokens = u.PromptTokens
	return out, u, nil
}
