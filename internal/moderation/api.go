package moderation

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/wire"
)

// Request is the body of POST /v1/moderations (input: a string or a list
// of strings) and of POST /v1/chat/moderations (input: a list of messages,
// or a list of such lists).
type Request struct {
	Model *string         `json:"model"`
	Input json.RawMessage `json:"input"`
}

// Response is Mistral's ModerationResponse.
type Response struct {
	ID      string             `json:"id"`
	Model   string             `json:"model"`
	Results []model.Moderation `json:"results"`
}

// Moderate serves POST /v1/moderations. The configured moderation model
// runs; the response echoes the requested model name.
func (s *Service) Moderate(ctx context.Context, req *Request) (*Response, model.Usage, error) {
	if req.Model == nil || *req.Model == "" {
		return nil, model.Usage{}, apierr.Field("body.model", "missing", "model is required")
	}
	raw := bytes.TrimSpace(req.Input)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, model.Usage{}, apierr.Field("body.input", "missing", "input is required: a string or a list of strings")
	}
	var inputs wire.StringList
	if err := json.Unmarshal(raw, &inputs); err != nil || len(inputs) == 0 {
		return nil, model.Usage{}, apierr.Field("body.input", "string_type", "input must be a string or a non-empty list of strings")
	}
	return s.respond(ctx, *req.Model, inputs)
}

// ModerateChat serves POST /v1/chat/moderations: each conversation (a
// list of messages) is classified as one text, its messages' roles and
// contents one per line.
func (s *Service) ModerateChat(ctx context.Context, req *Request) (*Response, model.Usage, error) {
	if req.Model == nil || *req.Model == "" {
		return nil, model.Usage{}, apierr.Field("body.model", "missing", "model is required")
	}
	var convs [][]wire.Message
	raw := bytes.TrimSpace(req.Input)
	var one []wire.Message
	if err := json.Unmarshal(raw, &one); err == nil && len(one) > 0 && one[0].Role != "" {
		convs = [][]wire.Message{one}
	} else if err := json.Unmarshal(raw, &convs); err != nil || len(convs) == 0 {
		return nil, model.Usage{}, apierr.Field("body.input", "list_type", "input must be a list of messages or a list of conversations (lists of messages)")
	}
	inputs := make([]string, len(convs))
	for i, c := range convs {
		if len(c) == 0 {
			return nil, model.Usage{}, apierr.Field(fmt.Sprintf("body.input.%d", i), "too_short", "a conversation needs at least one message")
		}
		var b strings.Builder
		for _, m := range c {
			fmt.Fprintf(&b, "%s: %s\n", m.Role, m.Content.PlainText())
		}
		inputs[i] = b.String()
	}
	return s.respond(ctx, *req.Model, inputs)
}

func (s *Service) respond(ctx context.Context, name string, inputs []string) (*Response, model.Usage, error) {
	results, usage, err := s.Classify(ctx, inputs)
	if err != nil {
		return nil, usage, err
	}
	for i := range results {
		if results[i].Categories == nil {
			results[i].Categories = map[string]bool{}
		}
		if results[i].CategoryScores == nil {
			results[i].CategoryScores = map[string]float64{}
		}
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	return &Response{ID: hex.EncodeToString(id[:]), Model: name, Results: results}, usage, nil
}
