package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/tramontane/tramontane/internal/apierr"
)

// ToolTypes lists the tool types an agent may hold.
var ToolTypes = map[string]bool{
	"function": true, "web_search": true, "web_search_premium": true,
	"code_interpreter": true, "image_generation": true,
	"document_library": true, "connector": true,
}

var functionName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// AliasPattern is the rule for version alias names.
var AliasPattern = regexp.MustCompile(`^[a-z]([a-z0-9_-]*[a-z0-9])?$`)

// ValidateTools checks a tool list; loc is the JSON path of the list (for
// example "body.tools").
func ValidateTools(loc string, tools []Tool) error {
	if len(tools) > MaxTools {
		return apierr.Field(loc, "too_long", "%d tools; the limit is %d (max_tools)", len(tools), MaxTools)
	}
	seen := map[string]bool{}
	for i, t := range tools {
		at := fmt.Sprintf("%s.%d", loc, i)
		if !ToolTypes[t.Type] {
			if t.Type == "" {
				return apierr.Field(at+".type", "missing", "each tool needs a 'type'")
			}
			return apierr.Field(at+".type", "literal_error", "unknown tool type %q; expected one of function, web_search, web_search_premium, code_interpreter, image_generation, document_library, connector", t.Type)
		}
		switch t.Type {
		case "function":
			if t.Function == nil {
				return apierr.Field(at+".function", "missing", "a function tool needs a 'function' object")
			}
			if !functionName.MatchString(t.Function.Name) {
				return apierr.Field(at+".function.name", "string_pattern_mismatch", "function name %q must be 1-64 characters of a-z, A-Z, 0-9, '_' or '-'", t.Function.Name)
			}
			if seen[t.Function.Name] {
				return apierr.Field(at+".function.name", "value_error", "function name %q is declared twice", t.Function.Name)
			}
			seen[t.Function.Name] = true
			if err := ValidateSchema(at+".function.parameters", t.Function.Parameters); err != nil {
				return err
			}
		case "document_library":
			if len(t.LibraryIDs) == 0 {
				return apierr.Field(at+".library_ids", "missing", "a document_library tool needs a non-empty 'library_ids' list")
			}
			for j, id := range t.LibraryIDs {
				if strings.TrimSpace(id) == "" {
					return apierr.Field(fmt.Sprintf("%s.library_ids.%d", at, j), "value_error", "library ids must not be empty")
				}
			}
		case "connector":
			if strings.TrimSpace(t.ConnectorID) == "" {
				return apierr.Field(at+".connector_id", "missing", "a connector tool needs a 'connector_id'")
			}
			if len(t.Authorization) > 0 && string(t.Authorization) != "null" {
				var a struct {
					Type  string `json:"type"`
					Value string `json:"value"`
				}
				if err := json.Unmarshal(t.Authorization, &a); err != nil || (a.Type != "api-key" && a.Type != "oauth2-token") {
					return apierr.Field(at+".authorization", "value_error", "authorization must be {type: 'api-key'|'oauth2-token', value}")
				}
			}
		}
	}
	return nil
}

// ValidateSchema checks that raw is a JSON object that compiles as a JSON
// Schema (draft 2020-12 unless $schema says otherwise).
func ValidateSchema(loc string, raw json.RawMessage) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
		return apierr.Field(loc, "missing", "'parameters' is required: a JSON Schema object describing the arguments")
	}
	if err := checkSchemaLimits(loc, raw); err != nil {
		return err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return apierr.Field(loc, "json_invalid", "parameters is not valid JSON: %v", err)
	}
	if _, ok := doc.(map[string]any); !ok {
		return apierr.Field(loc, "dict_type", "parameters must be a JSON Schema object")
	}
	return compileSchema(loc, doc)
}

// compileSchema compiles doc. The compiler panics on some inputs (for
// example {"multipleOf":1e-100000000}, whose number big.Rat cannot parse);
// a panic there is the client's invalid schema, not a server error.
func compileSchema(loc string, doc any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = apierr.Field(loc, "value_error", "parameters is not a valid JSON Schema: unsupported value")
		}
	}()
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	if err := c.AddResource("mem:///parameters.json", doc); err != nil {
		return apierr.Field(loc, "value_error", "parameters is not a valid JSON Schema: %v", err)
	}
	if _, err := c.Compile("mem:///parameters.json"); err != nil {
		return apierr.Field(loc, "value_error", "parameters is not a valid JSON Schema: %s", schemaMsg(err))
	}
	return nil
}

// noLoader refuses remote $refs: a tool schema must be self-contained, and
// the server must never fetch URLs named by a client.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("external $ref %q is not allowed", url)
}

func schemaMsg(err error) string {
	s := err.Error()
	s = strings.ReplaceAll(s, "mem:///parameters.json", "parameters")
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}

var toolChoices = map[string]bool{"auto": true, "none": true, "any": true, "required": true}
var reasoningEfforts = map[string]bool{"none": true, "minimal": true, "low": true, "medium": true, "high": true, "xhigh": true}

// ValidateCompletionArgs checks ranges and enums of completion_args.
func ValidateCompletionArgs(loc string, c *CompletionArgs) error {
	if c == nil {
		return nil
	}
	rng := func(name string, v *float64, lo, hi float64) error {
		if v != nil && (math.IsNaN(*v) || *v < lo || *v > hi) {
			return apierr.Field(loc+"."+name, "value_error", "%s must be between %g and %g", name, lo, hi)
		}
		return nil
	}
	for _, err := range []error{
		rng("temperature", c.Temperature, 0, 2),
		rng("top_p", c.TopP, 0, 1),
		rng("presence_penalty", c.PresencePenalty, -2, 2),
		rng("frequency_penalty", c.FrequencyPenalty, -2, 2),
	} {
		if err != nil {
			return err
		}
	}
	if c.MaxTokens != nil && *c.MaxTokens < 0 {
		return apierr.Field(loc+".max_tokens", "greater_than_equal", "max_tokens must be >= 0")
	}
	if c.RandomSeed != nil && *c.RandomSeed < 0 {
		return apierr.Field(loc+".random_seed", "greater_than_equal", "random_seed must be >= 0")
	}
	if c.ToolChoice != "" && !toolChoices[c.ToolChoice] {
		return apierr.Field(loc+".tool_choice", "enum", "tool_choice must be one of auto, none, any, required")
	}
	if c.ReasoningEffort != nil && !reasoningEfforts[*c.ReasoningEffort] {
		return apierr.Field(loc+".reasoning_effort", "enum", "reasoning_effort must be one of none, minimal, low, medium, high, xhigh")
	}
	if len(c.Stop) > 0 && string(c.Stop) != "null" {
		var one string
		var many []string
		if json.Unmarshal(c.Stop, &one) != nil && json.Unmarshal(c.Stop, &many) != nil {
			return apierr.Field(loc+".stop", "type_error", "stop must be a string or a list of strings")
		}
	}
	if len(c.ResponseFormat) > 0 && string(c.ResponseFormat) != "null" {
		var rf struct {
			Type       *string `json:"type"`
			JSONSchema *struct {
				Name   string          `json:"name"`
				Schema json.RawMessage `json:"schema"`
			} `json:"json_schema"`
		}
		if err := json.Unmarshal(c.ResponseFormat, &rf); err != nil {
			return apierr.Field(loc+".response_format", "type_error", "response_format must be an object")
		}
		if rf.Type != nil && *rf.Type != "text" && *rf.Type != "json_object" && *rf.Type != "json_schema" {
			return apierr.Field(loc+".response_format.type", "enum", "response_format.type must be text, json_object or json_schema")
		}
		if rf.JSONSchema != nil {
			if rf.JSONSchema.Name == "" {
				return apierr.Field(loc+".response_format.json_schema.name", "missing", "json_schema needs a name")
			}
			if err := ValidateSchema(loc+".response_format.json_schema.schema", rf.JSONSchema.Schema); err != nil {
				return err
			}
		}
	}
	return nil
}

// ValidateGuardrails checks that guardrails is null or a list of objects.
func ValidateGuardrails(loc string, raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return apierr.Field(loc, "list_type", "guardrails must be a list of objects")
	}
	for i, g := range list {
		if b, ok := g["block_on_error"]; ok {
			var v bool
			if json.Unmarshal(b, &v) != nil {
				return apierr.Field(fmt.Sprintf("%s.%d.block_on_error", loc, i), "bool_type", "block_on_error must be a boolean")
			}
		}
		for _, k := range []string{"moderation_llm_v1", "moderation_llm_v2"} {
			if b, ok := g[k]; ok && string(b) != "null" {
				var m map[string]any
				if json.Unmarshal(b, &m) != nil {
					return apierr.Field(fmt.Sprintf("%s.%d.%s", loc, i, k), "dict_type", "%s must be an object", k)
				}
			}
		}
	}
	return nil
}

// ValidateMetadata checks that metadata is null or a JSON object.
func ValidateMetadata(loc string, raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return apierr.Field(loc, "dict_type", "metadata must be a JSON object")
	}
	return nil
}

// dropNullKeys removes the keys whose value is null from a JSON object,
// and, for each key named in nested, from that key's object value too.
func dropNullKeys(raw json.RawMessage, nested ...string) json.RawMessage {
	var m map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &m) != nil {
		return raw
	}
	for k, v := range m {
		if string(bytes.TrimSpace(v)) == "null" {
			delete(m, k)
		}
	}
	for _, k := range nested {
		if v, ok := m[k]; ok {
			m[k] = dropNullKeys(v)
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return raw
	}
	return out
}

// Normalize drops nulls a client sent in keys that the TypeScript SDK
// accepts only absent (response_format.type, json_schema.strict,
// guardrails' block_on_error and moderation settings). Absent and null mean
// the same there, and echoing null would make the SDK reject the object.
// The JSON schema inside json_schema.schema is left untouched.
func Normalize(args *CompletionArgs, guardrails *json.RawMessage) {
	if args != nil && len(args.ResponseFormat) > 0 && string(args.ResponseFormat) != "null" {
		rf := dropNullKeys(args.ResponseFormat)
		var m map[string]json.RawMessage
		if json.Unmarshal(rf, &m) == nil {
			if js, ok := m["json_schema"]; ok {
				var inner map[string]json.RawMessage
				if json.Unmarshal(js, &inner) == nil {
					schema, hasSchema := inner["schema"]
					cleaned := dropNullKeys(js)
					if hasSchema {
						fresh := map[string]json.RawMessage{}
						_ = json.Unmarshal(cleaned, &fresh)
						fresh["schema"] = schema
						cleaned, _ = json.Marshal(fresh)
					}
					m["json_schema"] = cleaned
					rf, _ = json.Marshal(m)
				}
			}
		}
		args.ResponseFormat = rf
	}
	if guardrails == nil || len(*guardrails) == 0 || string(*guardrails) == "null" {
		return
	}
	var list []json.RawMessage
	if json.Unmarshal(*guardrails, &list) != nil {
		return
	}
	for i, g := range list {
		list[i] = dropNullKeys(g, "moderation_llm_v1", "moderation_llm_v2")
	}
	if out, err := json.Marshal(list); err == nil {
		*guardrails = out
	}
}

// VersionRef reads a request's agent_version: a version number or an
// alias name ("" when absent or null), as ResolveVersion takes it.
func VersionRef(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var n int
	if json.Unmarshal(raw, &n) == nil {
		return strconv.Itoa(n), nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	return "", apierr.Field("body.agent_version", "type_error", "agent_version must be a version number or an alias name")
}
