package agent

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/internal/apierr"
)

// wantErr checks err against an expected loc ("" means no error).
func wantErr(t *testing.T, err error, loc string) {
	t.Helper()
	if loc == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var e *apierr.Error
	if !errors.As(err, &e) {
		t.Fatalf("want a 422 at %s, got %v", loc, err)
	}
	if e.Kind != apierr.Validation || len(e.Fields) != 1 {
		t.Fatalf("want one validation field error, got %+v", e)
	}
	if got := e.Fields[0].Loc; !reflect.DeepEqual(got, apierr.SplitLoc(loc)) {
		t.Errorf("loc %v, want %v", got, apierr.SplitLoc(loc))
	}
	if e.Fields[0].Msg == "" || e.Fields[0].Type == "" {
		t.Errorf("empty msg or type: %+v", e.Fields[0])
	}
}

func tools(t *testing.T, s string) []Tool {
	t.Helper()
	var ts []Tool
	if err := json.Unmarshal([]byte(s), &ts); err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestValidateTools(t *testing.T) {
	fn := func(name, params string) string {
		return `{"type":"function","function":{"name":"` + name + `","parameters":` + params + `}}`
	}
	cases := []struct{ name, tools, loc string }{
		{"none", `[]`, ""},
		{"every built-in", `[{"type":"web_search"},{"type":"web_search_premium"},{"type":"code_interpreter"},{"type":"image_generation"}]`, ""},
		{"function", `[` + fn("get_weather", `{"type":"object","properties":{"city":{"type":"string"}}}`) + `]`, ""},
		{"function empty schema", `[` + fn("f", `{}`) + `]`, ""},
		{"function draft-07 schema", `[` + fn("f", `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object"}`) + `]`, ""},
		{"function local ref", `[` + fn("f", `{"$defs":{"s":{"type":"string"}},"properties":{"a":{"$ref":"#/$defs/s"}}}`) + `]`, ""},
		{"function name 64 chars", `[` + fn(strings.Repeat("a", 64), `{}`) + `]`, ""},
		{"two functions", `[` + fn("a", `{}`) + `,` + fn("b", `{}`) + `]`, ""},
		{"document_library", `[{"type":"document_library","library_ids":["l1","l2"]}]`, ""},
		{"connector", `[{"type":"connector","connector_id":"c","authorization":{"type":"oauth2-token","value":"t"}}]`, ""},
		{"connector null authorization", `[{"type":"connector","connector_id":"c","authorization":null}]`, ""},
		{"tool_configuration", `[{"type":"web_search","tool_configuration":{"include":["a"],"exclude":[],"requires_confirmation":["web_search"]}}]`, ""},

		{"missing type", `[{}]`, "body.tools.0.type"},
		{"unknown type", `[{"type":"web_search"},{"type":"mcp"}]`, "body.tools.1.type"},
		{"type case matters", `[{"type":"Function"}]`, "body.tools.0.type"},
		{"function without function", `[{"type":"function"}]`, "body.tools.0.function"},
		{"function name empty", `[` + fn("", `{}`) + `]`, "body.tools.0.function.name"},
		{"function name with space", `[` + fn("a b", `{}`) + `]`, "body.tools.0.function.name"},
		{"function name with dot", `[` + fn("a.b", `{}`) + `]`, "body.tools.0.function.name"},
		{"function name 65 chars", `[` + fn(strings.Repeat("a", 65), `{}`) + `]`, "body.tools.0.function.name"},
		{"duplicate function", `[` + fn("a", `{}`) + `,` + fn("a", `{}`) + `]`, "body.tools.1.function.name"},
		{"parameters missing", `[{"type":"function","function":{"name":"f"}}]`, "body.tools.0.function.parameters"},
		{"parameters null", `[` + fn("f", `null`) + `]`, "body.tools.0.function.parameters"},
		{"parameters array", `[` + fn("f", `[]`) + `]`, "body.tools.0.function.parameters"},
		{"parameters string", `[` + fn("f", `"object"`) + `]`, "body.tools.0.function.parameters"},
		{"parameters bad type", `[` + fn("f", `{"type":"thing"}`) + `]`, "body.tools.0.function.parameters"},
		{"parameters bad regex", `[` + fn("f", `{"properties":{"a":{"pattern":"(a"}}}`) + `]`, "body.tools.0.function.parameters"},
		{"parameters bad required", `[` + fn("f", `{"required":"a"}`) + `]`, "body.tools.0.function.parameters"},
		{"parameters remote ref", `[` + fn("f", `{"$ref":"https://example.com/s.json"}`) + `]`, "body.tools.0.function.parameters"},
		{"parameters remote $schema", `[` + fn("f", `{"$schema":"https://example.com/meta"}`) + `]`, "body.tools.0.function.parameters"},
		{"parameters dangling ref", `[` + fn("f", `{"$ref":"#/$defs/missing"}`) + `]`, "body.tools.0.function.parameters"},
		{"parameters crash the compiler", `[` + fn("f", `{"multipleOf":1e-100000000}`) + `]`, "body.tools.0.function.parameters"},
		{"document_library no ids", `[{"type":"document_library"}]`, "body.tools.0.library_ids"},
		{"document_library empty ids", `[{"type":"document_library","library_ids":[]}]`, "body.tools.0.library_ids"},
		{"document_library blank id", `[{"type":"document_library","library_ids":["a"," "]}]`, "body.tools.0.library_ids.1"},
		{"connector no id", `[{"type":"connector"}]`, "body.tools.0.connector_id"},
		{"connector blank id", `[{"type":"connector","connector_id":"  "}]`, "body.tools.0.connector_id"},
		{"connector bad auth type", `[{"type":"connector","connector_id":"c","authorization":{"type":"basic","value":"x"}}]`, "body.tools.0.authorization"},
		{"connector auth not object", `[{"type":"connector","connector_id":"c","authorization":"key"}]`, "body.tools.0.authorization"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, ValidateTools("body.tools", tools(t, c.tools)), c.loc)
		})
	}
}

func TestValidateCompletionArgs(t *testing.T) {
	cases := []struct{ name, args, loc string }{
		{"nil", ``, ""},
		{"empty", `{}`, ""},
		{"bounds inclusive", `{"temperature":0,"top_p":1,"presence_penalty":-2,"frequency_penalty":2,"max_tokens":0,"random_seed":0}`, ""},
		{"upper bounds", `{"temperature":2,"top_p":0,"presence_penalty":2,"frequency_penalty":-2}`, ""},
		{"stop string", `{"stop":"END"}`, ""},
		{"stop list", `{"stop":["a","b"]}`, ""},
		{"stop null", `{"stop":null}`, ""},
		{"every tool_choice", `{"tool_choice":"required"}`, ""},
		{"every effort", `{"reasoning_effort":"minimal"}`, ""},
		{"response_format text", `{"response_format":{"type":"text"}}`, ""},
		{"response_format no type", `{"response_format":{}}`, ""},
		{"response_format null", `{"response_format":null}`, ""},
		{"json_schema", `{"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"},"strict":true}}}`, ""},

		{"temperature high", `{"temperature":2.01}`, "body.completion_args.temperature"},
		{"temperature negative", `{"temperature":-0.1}`, "body.completion_args.temperature"},
		{"top_p high", `{"top_p":1.5}`, "body.completion_args.top_p"},
		{"presence_penalty low", `{"presence_penalty":-2.5}`, "body.completion_args.presence_penalty"},
		{"frequency_penalty high", `{"frequency_penalty":3}`, "body.completion_args.frequency_penalty"},
		{"max_tokens negative", `{"max_tokens":-1}`, "body.completion_args.max_tokens"},
		{"random_seed negative", `{"random_seed":-1}`, "body.completion_args.random_seed"},
		{"tool_choice unknown", `{"tool_choice":"always"}`, "body.completion_args.tool_choice"},
		{"tool_choice case", `{"tool_choice":"Auto"}`, "body.completion_args.tool_choice"},
		{"reasoning_effort unknown", `{"reasoning_effort":"max"}`, "body.completion_args.reasoning_effort"},
		{"stop number", `{"stop":5}`, "body.completion_args.stop"},
		{"stop mixed list", `{"stop":["a",1]}`, "body.completion_args.stop"},
		{"response_format string", `{"response_format":"json"}`, "body.completion_args.response_format"},
		{"response_format bad type", `{"response_format":{"type":"xml"}}`, "body.completion_args.response_format.type"},
		{"json_schema no name", `{"response_format":{"type":"json_schema","json_schema":{"schema":{}}}}`, "body.completion_args.response_format.json_schema.name"},
		{"json_schema no schema", `{"response_format":{"type":"json_schema","json_schema":{"name":"x"}}}`, "body.completion_args.response_format.json_schema.schema"},
		{"json_schema bad schema", `{"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":1}}}}`, "body.completion_args.response_format.json_schema.schema"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ca *CompletionArgs
			if c.args != "" {
				ca = &CompletionArgs{}
				if err := json.Unmarshal([]byte(c.args), ca); err != nil {
					t.Fatal(err)
				}
			}
			wantErr(t, ValidateCompletionArgs("body.completion_args", ca), c.loc)
		})
	}
}

func TestValidateGuardrailsAndMetadata(t *testing.T) {
	guard := []struct{ name, raw, loc string }{
		{"absent", ``, ""},
		{"null", `null`, ""},
		{"empty list", `[]`, ""},
		{"full", `[{"block_on_error":true,"moderation_llm_v1":{"model_name":"m","action":"block"},"moderation_llm_v2":null}]`, ""},
		{"object", `{"block_on_error":true}`, "body.guardrails"},
		{"list of numbers", `[1]`, "body.guardrails"},
		{"block_on_error string", `[{},{"block_on_error":"yes"}]`, "body.guardrails.1.block_on_error"},
		{"moderation not object", `[{"moderation_llm_v2":"on"}]`, "body.guardrails.0.moderation_llm_v2"},
	}
	for _, c := range guard {
		t.Run("guardrails/"+c.name, func(t *testing.T) {
			wantErr(t, ValidateGuardrails("body.guardrails", json.RawMessage(c.raw)), c.loc)
		})
	}
	meta := []struct{ name, raw, loc string }{
		{"absent", ``, ""},
		{"null", `null`, ""},
		{"object", `{"a":1,"b":{"c":[true]}}`, ""},
		{"list", `[1]`, "body.metadata"},
		{"string", `"x"`, "body.metadata"},
		{"number", `1`, "body.metadata"},
	}
	for _, c := range meta {
		t.Run("metadata/"+c.name, func(t *testing.T) {
			wantErr(t, ValidateMetadata("body.metadata", json.RawMessage(c.raw)), c.loc)
		})
	}
}

func TestAliasPattern(t *testing.T) {
	for alias, ok := range map[string]bool{
		"a": true, "prod": true, "v1": true, "stable-2024_01": true, "a-b-c": true, "a_1": true,
		"": false, "A": false, "Prod": false, "1a": false, "-a": false, "_a": false, "a-": false,
		"a_": false, "a b": false, "a.b": false, "é": false, "prod\n": false,
	} {
		if got := AliasPattern.MatchString(alias); got != ok {
			t.Errorf("AliasPattern(%q) = %v, want %v", alias, got, ok)
		}
	}
}

// TestToolJSON: document_library tools always carry library_ids, other
// tools never carry empty optional keys (the SDKs reject null there).
func TestToolJSON(t *testing.T) {
	cases := map[string]Tool{
		`{"type":"document_library","library_ids":[]}`: {Type: "document_library"},
		`{"type":"web_search"}`:                        {Type: "web_search"},
		`{"type":"function","function":{"name":"f","parameters":{}}}`: {Type: "function",
			Function: &Function{Name: "f", Parameters: json.RawMessage(`{}`)}},
		`{"type":"connector","connector_id":"c","tool_configuration":{"include":["x"]}}`: {Type: "connector",
			ConnectorID: "c", ToolConfiguration: &ToolConfiguration{Include: []string{"x"}}},
	}
	for want, tool := range cases {
		b, err := json.Marshal(tool)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Errorf("Marshal = %s, want %s", b, want)
		}
	}
	// completion_args never emits a null tool_choice
	b, _ := json.Marshal(CompletionArgs{})
	if string(b) != `{}` {
		t.Errorf("empty completion args: %s", b)
	}
}
