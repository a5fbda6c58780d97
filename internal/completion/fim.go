package completion

import (
	"context"
	"encoding/json"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/wire"
)

// FIMRequest is the body of POST /v1/fim/completions (Mistral's
// FIMCompletionRequest).
type FIMRequest struct {
	Model       *string         `json:"model"`
	Prompt      *string         `json:"prompt"`
	Suffix      *string         `json:"suffix"`
	Temperature *float64        `json:"temperature"`
	TopP        *float64        `json:"top_p"`
	MaxTokens   *int            `json:"max_tokens"`
	MinTokens   *int            `json:"min_tokens"`
	Stream      bool            `json:"stream"`
	Stop        json.RawMessage `json:"stop"`
	RandomSeed  *int            `json:"random_seed"`
	// Accepted and not acted on.
	Metadata       json.RawMessage `json:"metadata"`
	PromptCacheKey *string         `json:"prompt_cache_key"`
}

// FIMCall is a validated FIM completion.
type FIMCall struct {
	// Model is the public model name; Stream the request's flag.
	Model  string
	Stream bool

	s   *Service
	fim model.FIMer
	p   model.Provider
	req *model.FIMRequest
}

// PrepareFIM validates a FIM request and checks that its model's provider
// serves FIM (Mistral, or an OpenAI-compatible /v1/completions).
func (s *Service) PrepareFIM(in *FIMRequest) (*FIMCall, error) {
	if in.Model == nil || *in.Model == "" {
		return nil, apierr.Field("body.model", "missing", "model is required")
	}
	if in.Prompt == nil {
		return nil, apierr.Field("body.prompt", "missing", "prompt is required")
	}
	if in.MaxTokens != nil && *in.MaxTokens < 0 {
		return nil, apierr.Field("body.max_tokens", "greater_than_equal", "max_tokens must not be negative")
	}
	st, err := stop(in.Stop)
	if err != nil {
		return nil, err
	}
	p, upstream, err := s.router.Resolve(*in.Model)
	if err != nil {
		return nil, err
	}
	f, ok := p.(model.FIMer)
	if !ok {
		e := apierr.Invalidf("model %q is served by provider %q, which has no fill-in-the-middle endpoint: route it to a mistral or openai provider", *in.Model, p.Name())
		e.Param = "model"
		return nil, e
	}
	req := &model.FIMRequest{Model: upstream, Prompt: *in.Prompt, Temperature: in.Temperature, TopP: in.TopP,
		MaxTokens: in.MaxTokens, MinTokens: in.MinTokens, RandomSeed: in.RandomSeed, Stop: st}
	if in.Suffix != nil {
		req.Suffix = *in.Suffix
	}
	return &FIMCall{Model: *in.Model, Stream: in.Stream, s: s, fim: f, p: p, req: req}, nil
}

// Run calls the upstream once and returns the answer in the chat
// completion shape, and its chunks for a stream: the text, then the
// finish reason and usage (the upstream call itself does not stream).
func (c *FIMCall) Run(ctx context.Context) (*Result, []wire.ChatResponse, error) {
	start := time.Now()
	resp, err := c.fim.FIM(ctx, c.req)
	if obs := c.s.obs; obs != nil {
		obs.Upstream(c.p.Name(), c.Model, time.Since(start), 0, err)
		if err == nil {
			obs.Tokens(c.Model, resp.Usage.PromptTokens, resp.Usage.CompletionTokens, 0)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	id, created := NewID(), c.s.now().Unix()
	chunks := []wire.ChatResponse{
		wire.EncodeChunk(model.Chunk{Content: resp.Message.Content}, id, c.Model, created, true, false),
		wire.EncodeChunk(model.Chunk{FinishReason: resp.FinishReason, Usage: &resp.Usage}, id, c.Model, created, false, true),
	}
	return &Result{Response: wire.EncodeResponse(resp, id, c.Model, created), Usage: resp.Usage}, chunks, nil
}
