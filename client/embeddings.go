package client

import "context"

// EmbeddingRequest asks for the embeddings of texts.
type EmbeddingRequest struct {
	Model  string   `json:"model"`
	Inputs []string `json:"input"`
	// OutputDimension truncates (and re-normalises) the vectors (0: the
	// model's size).
	OutputDimension int `json:"output_dimension,omitempty"`
}

// Embedding is the vector of one input.
type Embedding struct {
	Object    string    `json:"object"`
	Embedding []float32 `json:"embedding"`
	Index     int       `json:"index"`
}

// EmbeddingResponse holds one embedding per input, in order.
type EmbeddingResponse struct {
	ID     string      `json:"id"`
	Object string      `json:"object"`
	Model  string      `json:"model"`
	Data   []Embedding `json:"data"`
	Usage  Usage       `json:"usage"`
}

// EmbeddingsService is the embeddings API.
type EmbeddingsService struct{ c *Client }

// Create returns the embeddings of req.Inputs (as float vectors).
func (s *EmbeddingsService) Create(ctx context.Context, req EmbeddingRequest) (*EmbeddingResponse, error) {
	var r EmbeddingResponse
	return &r, s.c.do(ctx, request{method: "POST", path: "/v1/embeddings", body: req}, &r)
}
