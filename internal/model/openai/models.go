package openai

import (
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/model"
)

// ListModels calls GET /v1/models once (no retries: the caller caches the
// answer and bounds the call with ctx). It reads OpenAI's short entries
// ({id, owned_by, created}) and Mistral's model cards (capabilities,
// max_context_length, aliases, description) alike.
func (c *Client) ListModels(ctx context.Context) ([]model.RemoteModel, error) {
	u, err := Endpoint(c.cfg.BaseURL, "models")
	if err != nil {
		return nil, apierr.Wrap(apierr.Internal, err, "listing the models of upstream %s", c.cfg.Name)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, apierr.Wrap(apierr.Internal, err, "listing the models of upstream %s", c.cfg.Name)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tramontane")
	if c.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, apierr.Wrap(apierr.Upstream, err, "could not reach upstream %s to list its models", c.cfg.Name)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return nil, apierr.Wrap(apierr.Upstream, err, "reading the model list of upstream %s", c.cfg.Name)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, model.StatusError(c.cfg.Name, resp.StatusCode, "GET /models: "+string(data), 0)
	}
	var list struct {
		Data []struct {
			ID               string          `json:"id"`
			OwnedBy          string          `json:"owned_by"`
			Created          int64           `json:"created"`
			Capabilities     map[string]bool `json:"capabilities"`
			MaxContextLength int             `json:"max_context_length"`
			Aliases          []string        `json:"aliases"`
			Description      string          `json:"description"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, apierr.Wrap(apierr.Upstream, err, "upstream %s sent an invalid model list", c.cfg.Name)
	}
	out := make([]model.RemoteModel, 0, len(list.Data))
	for _, m := range list.Data {
		if m.ID == "" {
			continue
		}
		out = append(out, model.RemoteModel{ID: m.ID, OwnedBy: m.OwnedBy, Created: m.Created, Capabilities: m.Capabilities,
			MaxContextLength: m.MaxContextLength, Aliases: m.Aliases, Description: m.Description})
	}
	return out, nil
}
