// Package mistral is the provider for Mistral's chat completions API. It
// reuses the OpenAI-compatible client with the Mistral dialect:
// tool_choice "any" and random_seed pass through, a final assistant
// message may carry prefix: true, no stream_options are sent (Mistral
// rejects unknown fields), and safe_prompt is never sent. Tool-call ids in
// the history that do not match Mistral's ^[a-zA-Z0-9]{9}$ (ids made by
// another upstream or by a client) are mapped to valid ids, consistently
// within a request.
package mistral

import (
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/openai"
	"github.com/tramontane/tramontane/internal/model/wire"
)

// DefaultBaseURL is Mistral's API.
const DefaultBaseURL = "https://api.mistral.ai"

// Config configures the Mistral provider.
type Config struct {
	// Name is the provider's name (default "mistral").
	Name string
	// BaseURL defaults to https://api.mistral.ai.
	BaseURL string
	// APIKey is required. It is never logged.
	APIKey      string
	Timeout     time.Duration
	IdleTimeout time.Duration
	MaxAttempts int
	// StreamTools is "auto" (default), "on" or "off". Mistral itself
	// streams tool calls fine; the setting matters for compatible proxies.
	StreamTools string
	HTTPClient  *http.Client
	Logger      *slog.Logger
}

// New returns a Mistral provider. The result implements model.Provider
// and model.Embedder.
func New(cfg Config) (*openai.Client, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("the Mistral provider needs an API key (set MISTRAL_API_KEY, api_key or api_key_env)")
	}
	if cfg.Name == "" {
		cfg.Name = "mistral"
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	return openai.New(openai.Config{
		Name:            cfg.Name,
		BaseURL:         cfg.BaseURL,
		APIKey:          cfg.APIKey,
		Timeout:         cfg.Timeout,
		IdleTimeout:     cfg.IdleTimeout,
		MaxAttempts:     cfg.MaxAttempts,
		StreamTools:     cfg.StreamTools,
		Dialect:         wire.Mistral,
		RewriteMessages: MapToolCallIDs,
		HTTPClient:      cfg.HTTPClient,
		Logger:          cfg.Logger,
	})
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// MapToolCallIDs returns msgs with every tool-call id (in assistant
// tool_calls and in tool messages' tool_call_id) that is not a valid
// Mistral id replaced by a valid one. The same id always maps to the same
// replacement (derived from a hash of it), replacements never collide with
// other ids of the request, and valid ids are left alone. msgs is not
// modified; if nothing needs mapping it is returned as is.
func MapToolCallIDs(msgs []model.Message) []model.Message {
	taken := map[string]bool{}
	need := false
	for _, m := range msgs {
		for _, tc := range m.ToolCalls {
			if model.IsMistralToolCallID(tc.ID) {
				taken[tc.ID] = true
			} else {
				need = true
			}
		}
		if m.ToolCallID != "" {
			if model.IsMistralToolCallID(m.ToolCallID) {
				taken[m.ToolCallID] = true
			} else {
				need = true
			}
		}
	}
	if !need {
		return msgs
	}
	mapped := map[string]string{}
	mapID := func(id string) string {
		if model.IsMistralToolCallID(id) {
			return id
		}
		if v, ok := mapped[id]; ok {
			return v
		}
		for salt := 0; ; salt++ {
			v := hashID(id, salt)
			if !taken[v] {
				taken[v] = true
				mapped[id] = v
				return v
			}
		}
	}
	out := make([]model.Message, len(msgs))
	for i, m := range msgs {
		if len(m.ToolCalls) > 0 {
			calls := make([]model.ToolCall, len(m.ToolCalls))
			for j, tc := range m.ToolCalls {
				tc.ID = mapID(tc.ID)
				calls[j] = tc
			}
			m.ToolCalls = calls
		}
		if m.ToolCallID != "" {
			m.ToolCallID = mapID(m.ToolCallID)
		}
		out[i] = m
	}
	return out
}

// hashID derives a 9-character alphanumeric id from id and salt.
func hashID(id string, salt int) string {
	key := id
	if salt > 0 {
		key = id + "#" + strconv.Itoa(salt)
	}
	d := sha256.Sum256([]byte(key))
	var b [9]byte
	for i := range b {
		b[i] = idAlphabet[int(d[i])%len(idAlphabet)]
	}
	return string(b[:])
}
