package model

import "context"

// Moderation is the classification of one input by a moderation model.
type Moderation struct {
	// Categories tells, per category, whether the model flagged it.
	Categories map[string]bool `json:"categories"`
	// CategoryScores holds each category's score in [0, 1].
	CategoryScores map[string]float64 `json:"category_scores"`
}

// Moderator is implemented by providers that serve a moderation endpoint
// (Mistral's /v1/moderations, OpenAI-compatible /v1/moderations). The
// result has one classification per input, in input order.
type Moderator interface {
	Moderate(ctx context.Context, model string, inputs []string) ([]Moderation, Usage, error)
}
