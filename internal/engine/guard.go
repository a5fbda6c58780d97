package engine

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/tramontane/tramontane/internal/conversation"
	"github.com/tramontane/tramontane/internal/moderation"
)

// SetGuard makes the engine enforce guardrails with g (nil: guardrails
// are refused with a 400 naming the setting that enables them).
func (e *Engine) SetGuard(g *moderation.Service) { e.guard = g }

// guardInputs runs the guardrails of the actor (the agent's, or the model
// conversation's) and of the request over the run's new user inputs,
// before anything is written or sent to the model. A hit is a 403; what
// ran is kept in p.Guardrails.
func (p *Prepared) guardInputs(ctx context.Context, request json.RawMessage) error {
	own := p.actor.Guardrails
	if bytes.Equal(bytes.TrimSpace(request), bytes.TrimSpace(own)) {
		request = nil // a model conversation's own guardrails are the request's
	}
	gs, err := moderation.Parse("body.guardrails", request, own)
	if err != nil || len(gs) == 0 {
		return err
	}
	if err := p.e.guard.Require(gs); err != nil {
		return err
	}
	var texts []string
	for _, in := range p.inputs {
		if in.Type == conversation.MessageInput && in.Role == "user" {
			texts = append(texts, conversation.TextOf(in.Content))
		}
	}
	p.Guardrails, err = p.e.guard.Check(ctx, gs, texts)
	return err
}
