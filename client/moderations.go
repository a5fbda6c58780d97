package client

import "context"

// ModerationRequest asks a moderation model to classify texts.
type ModerationRequest struct {
	Model  string   `json:"model"`
	Inputs []string `json:"input"`
}

// Moderation is the classification of one input.
type Moderation struct {
	// Categories tells, per category, whether the input was flagged.
	Categories map[string]bool `json:"categories"`
	// CategoryScores holds each category's score in [0, 1].
	CategoryScores map[string]float64 `json:"category_scores"`
}

// Flagged reports whether any category was flagged.
func (m Moderation) Flagged() bool {
	for _, f := range m.Categories {
		if f {
			return true
		}
	}
	return false
}

// ModerationResponse holds one result per input, in order.
type ModerationResponse struct {
	ID      string       `json:"id"`
	Model   string       `json:"model"`
	Results []Moderation `json:"results"`
}

// ModerationsService is the moderation API.
type ModerationsService struct{ c *Client }

// Create classifies req.Inputs (POST /v1/moderations).
func (s *ModerationsService) Create(ctx context.Context, req ModerationRequest) (*ModerationResponse, error) {
	var r ModerationResponse
	return &r, s.c.do(ctx, request{method: "POST", path: "/v1/moderations", body: req}, &r)
}
