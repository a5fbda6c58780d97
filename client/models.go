package client

import "context"

// Model is a model the server can route to.
type Model struct {
	ID               string          `json:"id"`
	Object           string          `json:"object"`
	Created          int64           `json:"created,omitempty"`
	OwnedBy          string          `json:"owned_by"`
	Type             string          `json:"type"`
	Name             string          `json:"name,omitempty"`
	Description      string          `json:"description,omitempty"`
	MaxContextLength int             `json:"max_context_length,omitempty"`
	Aliases          []string        `json:"aliases,omitempty"`
	Capabilities     map[string]bool `json:"capabilities"`
}

// ModelsService is the models API.
type ModelsService struct{ c *Client }

// List returns the models the server serves.
func (s *ModelsService) List(ctx context.Context) ([]Model, error) {
	var out struct {
		Data []Model `json:"data"`
	}
	err := s.c.do(ctx, request{method: "GET", path: "/v1/models"}, &out)
	return out.Data, err
}

// Get returns one model by id or alias.
func (s *ModelsService) Get(ctx context.Context, modelID string) (*Model, error) {
	var m Model
	return &m, s.c.do(ctx, request{method: "GET", path: pathf("/v1/models/%s", modelID)}, &m)
}
