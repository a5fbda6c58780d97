package openai

import (
	"context"
	"encoding/json"
	"io"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/model"
)

// Moderate calls POST /v1/moderations (Mistral's and OpenAI's shape:
// {model, input: [...]} → {results: [{categories, category_scores}]}).
// Retries and error mapping are those of Chat.
func (c *Client) Moderate(ctx context.Context, modelName string, inputs []string) ([]model.Moderation, model.Usage, error) {
	if len(inputs) == 0 {
		return nil, model.Usage{}, nil
	}
	u, err := Endpoint(c.cfg.BaseURL, "moderations")
	if err != nil {
		return nil, model.Usage{}, apierr.Wrap(apierr.Internal, err, "moderating with upstream %s", c.cfg.Name)
	}
	body, err := json.Marshal(map[string]any{"model": modelName, "input": inputs})
	if err != nil {
		return nil, model.Usage{}, apierr.Wrap(apierr.Internal, err, "encoding the moderation request")
	}
	callCtx, cancel, touch := c.callContext(ctx)
	defer cancel()
	resp, err := c.send(ctx, callCtx, touch, u, body, false, false)
	if err != nil {
		return nil, model.Usage{}, err
	}
	defer resp.Body.Close()
	resp.Body = idleBody{resp.Body, touch}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return nil, model.Usage{}, c.readError(ctx, callCtx, err)
	}
	var mr struct {
		Results []model.Moderation `json:"results"`
		Usage   *struct {
			PromptTokens int `json:"prompt_tokens"`
			TotalTokens  int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(data, &mr); err != nil {
		return nil, model.Usage{}, apierr.Wrap(apierr.Upstream, err, "upstream %s sent an invalid moderation response", c.cfg.Name)
	}
	if len(mr.Results) != len(inputs) {
		return nil, model.Usage{}, apierr.New(apierr.Upstream, "upstream %s returned %d moderation results for %d inputs", c.cfg.Name, len(mr.Results), len(inputs))
	}
	var usage model.Usage
	if mr.Usage != nil {
		usage = model.Usage{PromptTokens: mr.Usage.PromptTokens, TotalTokens: mr.Usage.TotalTokens}
	}
	return mr.Results, usage, nil
}
