// Package completion serves Mistral's stateless completion endpoints:
// POST /v1/chat/completions (a model, messages, tools) and
// POST /v1/agents/completions (an agent's model, instructions, function
// tools and completion arguments). Nothing is stored. The call goes through
// the same model router and providers (with their retries) as
// conversations, and reports upstream latency and tokens to the same
// observer.
package completion

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/wire"
)

// Request is the body of both endpoints, in Mistral's shape
// (ChatCompletionRequest and AgentsCompletionRequest of the SDKs).
// Fields the server accepts but does not act on are kept so that a typed
// mistake (say a string for n) is still a 422.
type Request struct {
	Model        *string         `json:"model"`
	AgentID      *string         `json:"agent_id"`
	AgentVersion json.RawMessage `json:"agent_version"`

	Messages          []json.RawMessage `json:"messages"`
	Tools             []json.RawMessage `json:"tools"`
	ToolChoice        json.RawMessage   `json:"tool_choice"`
	Temperature       *float64          `json:"temperature"`
	TopP              *float64          `json:"top_p"`
	MaxTokens         *int              `json:"max_tokens"`
	Stream            bool              `json:"stream"`
	Stop              json.RawMessage   `json:"stop"`
	RandomSeed        *int              `json:"random_seed"`
	ResponseFormat    json.RawMessage   `json:"response_format"`
	PresencePenalty   *float64          `json:"presence_penalty"`
	FrequencyPenalty  *float64          `json:"frequency_penalty"`
	N                 *int              `json:"n"`
	ParallelToolCalls *bool             `json:"parallel_tool_calls"`
	SafePrompt        *bool             `json:"safe_prompt"`
	Guardrails        json.RawMessage   `json:"guardrails"`

	// Accepted and not acted on (see docs/compatibility.md).
	Metadata        json.RawMessage `json:"metadata"`
	Prediction      json.RawMessage `json:"prediction"`
	ReasoningEffort *string         `json:"reasoning_effort"`
	PromptMode      *string         `json:"prompt_mode"`
	PromptCacheKey  *string         `json:"prompt_cache_key"`
	ServiceTier     *string         `json:"service_tier"`
}

// SafePrompt is the system prompt Mistral documents for safe_prompt: true.
const SafePrompt = "Always assist with care, respect, and truth. Respond with utmost utility yet securely. " +
	"Avoid harmful, unethical, prejudiced, or negative content. Ensure replies promote fairness and positivity."

var roles = map[string]bool{model.RoleSystem: true, model.RoleUser: true, model.RoleAssistant: true, model.RoleTool: true}

// messages validates and converts the request's messages.
func messages(raw []json.RawMessage) ([]model.Message, error) {
	if len(raw) == 0 {
		return nil, apierr.Field("body.messages", "missing", "messages must be a non-empty list")
	}
	out := make([]model.Message, 0, len(raw))
	for i, r := range raw {
		at := fmt.Sprintf("body.messages.%d", i)
		var wm wire.Message
		if err := json.Unmarshal(r, &wm); err != nil {
			return nil, apierr.Field(at, "model_attributes_type", "each message must be an object with a role and content: %v", err)
		}
		if !roles[wm.Role] {
			if wm.Role == "" {
				return nil, apierr.Field(at+".role", "missing", "each message needs a role (system, user, assistant or tool)")
			}
			return nil, apierr.Field(at+".role", "literal_error", "unknown role %q; expected system, user, assistant or tool", wm.Role)
		}
		if wm.Content != nil {
			kept := wm.Content.Parts[:0]
			for j, p := range wm.Content.Parts {
				switch p.Type {
				case "text":
				case "image_url":
					if p.ImageURL == nil || p.ImageURL.URL == "" {
						return nil, apierr.Field(fmt.Sprintf("%s.content.%d.image_url", at, j), "missing", "an image_url chunk needs a URL")
					}
				case "thinking":
					continue // reasoning traces are not sent back upstream
				default:
					return nil, apierr.Field(fmt.Sprintf("%s.content.%d.type", at, j), "literal_error",
						"content chunks of type %q are not supported here; send text or image_url chunks", p.Type)
				}
				kept = append(kept, p)
			}
			wm.Content.Parts = kept
		}
		switch wm.Role {
		case model.RoleTool:
			if wm.ToolCallID == "" {
				return nil, apierr.Field(at+".tool_call_id", "missing", "a tool message needs the tool_call_id it answers")
			}
		case model.RoleAssistant:
			if (wm.Content == nil || wm.Content.PlainText() == "" && len(wm.Content.Parts) == 0) && len(wm.ToolCalls) == 0 && !wm.Prefix {
				return nil, apierr.Field(at, "value_error", "an assistant message needs content or tool_calls")
			}
			if wm.Prefix && i != len(raw)-1 {
				return nil, apierr.Field(at+".prefix", "value_error", "only the last message may be an assistant prefix")
			}
			for j, tc := range wm.ToolCalls {
				if tc.Function.Name == "" {
					return nil, apierr.Field(fmt.Sprintf("%s.tool_calls.%d.function.name", at, j), "missing", "a tool call needs a function name")
				}
			}
		default:
			if wm.Prefix {
				return nil, apierr.Field(at+".prefix", "value_error", "only an assistant message can be a prefix")
			}
		}
		m := wm.ToModel()
		for j := range m.ToolCalls {
			if m.ToolCalls[j].ID == "" {
				m.ToolCalls[j].ID = model.NewToolCallID()
			}
		}
		out = append(out, m)
	}
	if last := out[len(out)-1]; last.Role == model.RoleAssistant && !last.Prefix {
		return nil, apierr.Field(fmt.Sprintf("body.messages.%d", len(out)-1), "value_error",
			"the last message must be a user, system or tool message, or an assistant message with prefix: true")
	}
	return out, nil
}

// functionTools converts a tool list. Only function tools are served by
// stateless completions: built-in connectors run inside conversations.
func functionTools(loc string, raw []json.RawMessage) ([]model.ToolDef, error) {
	tools := make([]agent.Tool, 0, len(raw))
	for i, r := range raw {
		var t agent.Tool
		if err := json.Unmarshal(r, &t); err != nil {
			return nil, apierr.Field(fmt.Sprintf("%s.%d", loc, i), "model_attributes_type", "each tool must be an object with a type: %v", err)
		}
		if t.Type == "" && t.Function != nil {
			t.Type = "function"
		}
		tools = append(tools, t)
	}
	if err := agent.ValidateTools(loc, tools); err != nil {
		return nil, err
	}
	return toolDefs(loc, tools)
}

func toolDefs(loc string, tools []agent.Tool) ([]model.ToolDef, error) {
	var defs []model.ToolDef
	for i, t := range tools {
		if t.Type != "function" {
			return nil, apierr.Field(fmt.Sprintf("%s.%d.type", loc, i), "value_error",
				"the %s tool runs only in conversations (POST /v1/conversations); stateless completions accept function tools", t.Type)
		}
		defs = append(defs, model.ToolDef{Name: t.Function.Name, Description: t.Function.Description,
			Parameters: t.Function.Parameters, Strict: t.Function.Strict})
	}
	return defs, nil
}

// toolChoice reads "auto" | "none" | "any" | "required" or
// {"type": "function", "function": {"name": ...}}.
func toolChoice(raw json.RawMessage, tools []model.ToolDef) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case model.ToolChoiceAuto, model.ToolChoiceNone, model.ToolChoiceAny, model.ToolChoiceRequired:
			return s, nil
		}
		return "", apierr.Field("body.tool_choice", "enum", "tool_choice must be auto, none, any, required or {type: function, function: {name}}")
	}
	var obj struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if json.Unmarshal(raw, &obj) != nil || obj.Function.Name == "" {
		return "", apierr.Field("body.tool_choice", "value_error", "tool_choice must be auto, none, any, required or {type: function, function: {name}}")
	}
	for _, t := range tools {
		if t.Name == obj.Function.Name {
			return t.Name, nil
		}
	}
	return "", apierr.Field("body.tool_choice.function.name", "value_error", "tool_choice names %q, which is not among the tools", obj.Function.Name)
}

// stop reads a string or a list of strings.
func stop(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var l wire.StringList
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, apierr.Field("body.stop", "value_error", "stop must be a string or a list of strings")
	}
	return l, nil
}

// common validates the fields both endpoints share and fills req.
func common(in *Request, req *model.Request) error {
	if in.N != nil && *in.N != 1 {
		return apierr.Field("body.n", "value_error", "n must be 1: this server returns one choice per completion")
	}
	if in.MaxTokens != nil && *in.MaxTokens < 0 {
		return apierr.Field("body.max_tokens", "greater_than_equal", "max_tokens must not be negative")
	}
	if in.Temperature != nil && (*in.Temperature < 0 || *in.Temperature > 2) {
		return apierr.Field("body.temperature", "value_error", "temperature must be between 0 and 2")
	}
	if in.TopP != nil && (*in.TopP < 0 || *in.TopP > 1) {
		return apierr.Field("body.top_p", "value_error", "top_p must be between 0 and 1")
	}
	if rf := bytes.TrimSpace(in.ResponseFormat); len(rf) > 0 && string(rf) != "null" {
		var f struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(rf, &f) != nil {
			return apierr.Field("body.response_format", "model_attributes_type", "response_format must be an object such as {\"type\": \"json_object\"}")
		}
		switch f.Type {
		case "", "text", "json_object", "json_schema":
		default:
			return apierr.Field("body.response_format.type", "enum", "response_format.type must be text, json_object or json_schema")
		}
		req.ResponseFormat = rf
	}
	msgs, err := messages(in.Messages)
	if err != nil {
		return err
	}
	if in.SafePrompt != nil && *in.SafePrompt {
		msgs = withSafePrompt(msgs)
	}
	req.Messages = append(req.Messages, msgs...)
	st, err := stop(in.Stop)
	if err != nil {
		return err
	}
	if st != nil {
		req.Stop = st
	}
	for _, p := range []struct {
		v   *float64
		dst **float64
	}{{in.Temperature, &req.Temperature}, {in.TopP, &req.TopP}, {in.PresencePenalty, &req.PresencePenalty}, {in.FrequencyPenalty, &req.FrequencyPenalty}} {
		if p.v != nil {
			*p.dst = p.v
		}
	}
	if in.MaxTokens != nil {
		req.MaxTokens = in.MaxTokens
	}
	if in.RandomSeed != nil {
		req.RandomSeed = in.RandomSeed
	}
	if in.ParallelToolCalls != nil {
		req.ParallelToolCalls = in.ParallelToolCalls
	}
	return nil
}

// withSafePrompt prepends Mistral's safety prompt to the first system
// message, or adds one.
func withSafePrompt(msgs []model.Message) []model.Message {
	if len(msgs) > 0 && msgs[0].Role == model.RoleSystem {
		msgs[0].Content = strings.TrimSpace(SafePrompt + "\n\n" + msgs[0].Content)
		return msgs
	}
	return append([]model.Message{{Role: model.RoleSystem, Content: SafePrompt}}, msgs...)
}
