package model

// Optional endpoints a provider may serve besides chat: moderation and
// fill-in-the-middle completions.

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

// FIMRequest is a fill-in-the-middle completion: the model writes what
// goes between Prompt and Suffix.
type FIMRequest struct {
	// Model is the UPSTREAM model name.
	Model       string
	Prompt      string
	Suffix      string
	Temperature *float64
	TopP        *float64
	MaxTokens   *int
	MinTokens   *int
	RandomSeed  *int
	Stop        []string
}

// FIMer is implemented by providers that serve fill-in-the-middle
// completions (Mistral's /v1/fim/completions, OpenAI-compatible
// /v1/completions with a suffix).
type FIMer interface {
	FIM(ctx context.Context, req *FIMRequest) (Response, error)
}
