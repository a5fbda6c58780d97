package openai

import (
	"context"
	"encoding/json"
	"io"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/wire"
)

// Embed calls POST /v1/embeddings and returns one vector per input, in
// input order. Retries and error mapping are those of Chat.
func (c *Client) Embed(ctx context.Context, modelName string, inputs []string) ([][]float32, model.Usage, error) {
	if len(inputs) == 0 {
		return nil, model.Usage{}, nil
	}
	body, err := json.Marshal(wire.EmbeddingsRequest{Model: modelName, Input: inputs})
	if err != nil {
		return nil, model.Usage{}, apierr.Wrap(apierr.Internal, err, "encoding the embeddings request")
	}
	callCtx, cancel, touch := c.callContext(ctx)
	defer cancel()
	resp, err := c.send(ctx, callCtx, touch, c.embedURL, body, false, false)
	if err != nil {
		return nil, model.Usage{}, err
	}
	defer resp.Body.Close()
	resp.Body = idleBody{resp.Body, touch}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return nil, model.Usage{}, c.readError(ctx, callCtx, err)
	}
	var er wire.EmbeddingsResponse
	if err := json.Unmarshal(data, &er); err != nil {
		return nil, model.Usage{}, apierr.Wrap(apierr.Upstream, err, "upstream %s sent an invalid embeddings response", c.cfg.Name)
	}
	if len(er.Data) != len(inputs) {
		return nil, model.Usage{}, apierr.New(apierr.Upstream,
			"upstream %s returned %d embeddings for %d inputs", c.cfg.Name, len(er.Data), len(inputs))
	}
	out := make([][]float32, len(inputs))
	for i, d := range er.Data {
		idx := d.Index
		if idx < 0 || idx >= len(out) || out[idx] != nil {
			idx = i // tolerate servers that number oddly
		}
		out[idx] = d.Embedding
	}
	var u model.Usage
	if er.Usage != nil {
		u = er.Usage.ToModel()
	}
	return out, u, nil
}
