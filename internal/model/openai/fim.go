package openai

import (
	"context"
	"encoding/json"
	"io"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/wire"
)

// FIM runs a fill-in-the-middle completion, without streaming: Mistral's
// POST /v1/fim/completions (answered in the chat completion shape) in the
// Mistral dialect, POST /v1/completions with "suffix" (answered with
// choices[].text) in the OpenAI dialect. Retries and error mapping are
// those of Chat.
func (c *Client) FIM(ctx context.Context, req *model.FIMRequest) (model.Response, error) {
	path := "completions"
	body := map[string]any{"model": req.Model, "prompt": req.Prompt, "stream": false}
	if req.Suffix != "" {
		body["suffix"] = req.Suffix
	}
	for k, v := range map[string]any{"temperature": req.Temperature, "top_p": req.TopP, "max_tokens": req.MaxTokens} {
		if !isNil(v) {
			body[k] = v
		}
	}
	if len(req.Stop) > 0 {
		body["stop"] = req.Stop
	}
	if c.cfg.Dialect == wire.Mistral {
		path = "fim/completions"
		if req.RandomSeed != nil {
			body["random_seed"] = *req.RandomSeed
		}
		if req.MinTokens != nil {
			body["min_tokens"] = *req.MinTokens
		}
	} else if req.RandomSeed != nil {
		body["seed"] = *req.RandomSeed
	}
	u, err := Endpoint(c.cfg.BaseURL, path)
	if err != nil {
		return model.Response{}, apierr.Wrap(apierr.Internal, err, "FIM with upstream %s", c.cfg.Name)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return model.Response{}, apierr.Wrap(apierr.Internal, err, "encoding the FIM request")
	}
	callCtx, cancel, touch := c.callContext(ctx)
	defer cancel()
	resp, err := c.send(ctx, callCtx, touch, u, raw, false, false)
	if err != nil {
		return model.Response{}, err
	}
	defer resp.Body.Close()
	resp.Body = idleBody{resp.Body, touch}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return model.Response{}, c.readError(ctx, callCtx, err)
	}
	var cr struct {
		wire.ChatResponse
		Choices []struct {
			Text         *string       `json:"text"`
			Message      *wire.Message `json:"message"`
			FinishReason *string       `json:"finish_reason"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(data, &cr); err != nil || len(cr.Choices) == 0 {
		return model.Response{}, apierr.New(apierr.Upstream, "upstream %s sent an invalid FIM response", c.cfg.Name)
	}
	out := model.Response{Message: model.Message{Role: model.RoleAssistant}, FinishReason: model.FinishStop}
	ch := cr.Choices[0]
	switch {
	case ch.Message != nil:
		out.Message.Content = ch.Message.Content.PlainText()
	case ch.Text != nil:
		out.Message.Content = *ch.Text
	}
	if ch.FinishReason != nil && *ch.FinishReason != "" {
		out.FinishReason = *ch.FinishReason
	}
	if cr.Usage != nil {
		out.Usage = cr.Usage.ToModel()
	}
	return out, nil
}

func isNil(v any) bool {
	switch p := v.(type) {
	case *float64:
		return p == nil
	case *int:
		return p == nil
	}
	return v == nil
}
