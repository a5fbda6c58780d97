package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/model"
)

// Connector is a built-in tool that runs server-side (web_search,
// code_interpreter, image_generation, document_library, ...).
type Connector interface {
	// Definition is the function the model sees for this tool as
	// configured on the agent.
	Definition(t agent.Tool) model.ToolDef
	// Execute runs one call. An error is reported to the model and in the
	// tool.execution entry's info; it does not end the run.
	Execute(ctx context.Context, call ToolCall) (*ToolResult, error)
}

// FunctionSet is a connector one agent tool of which offers several
// functions: the "connector" tool type, whose MCP server has many tools.
// The engine asks for them whenever it builds a model request; a call to
// any of them goes to Execute with ToolCall.Name set.
type FunctionSet interface {
	Functions(ctx context.Context, ws string, t agent.Tool) ([]Function, error)
}

// Instructor is a FunctionSet whose tools come with instructions for the
// model (a connector's system_prompt); they follow the actor's own
// instructions in the system message.
type Instructor interface {
	Instructions(ctx context.Context, ws string, t agent.Tool) string
}

// Function is one function a FunctionSet offers.
type Function struct {
	Def model.ToolDef
	// RequiresConfirmation pauses a call for the user's approval, as
	// tool_configuration.requires_confirmation does for other tools.
	RequiresConfirmation bool
}

// ToolCall is one invocation of a connector.
type ToolCall struct {
	Workspace      string
	ConversationID string
	Tool           agent.Tool
	// Name is the function the model called (the tool's type for
	// built-in connectors, the offered name for a FunctionSet).
	Name      string
	Arguments string // JSON text
	// RefOffset is how many citable references earlier tools of this run
	// already produced: a connector numbers its sources from RefOffset+1
	// so that the model's [n] citations stay unambiguous.
	RefOffset int
	// Progress sends a tool.execution.delta with more argument or progress
	// text; it also keeps SSE connections alive.
	Progress func(text string)
}

// ToolResult is a connector's outcome.
type ToolResult struct {
	// Info becomes the tool.execution entry's info (an object).
	Info map[string]any
	// ForModel is what the model reads as the tool's result; if empty the
	// JSON of Info is used.
	ForModel string
	// Chunks are output chunks (tool_reference, tool_file) to attach to the
	// next message.output of the run.
	Chunks []json.RawMessage
	// References are numbered sources the model may cite as [n]; citations
	// in the final text become tool_reference chunks.
	References []Reference
	// ConnectorTokens counts tokens the connector injected.
	ConnectorTokens int
}

// Reference is a citable source.
type Reference struct {
	Tool        string `json:"tool"`
	Title       string `json:"title"`
	URL         string `json:"url,omitempty"`
	Favicon     string `json:"favicon,omitempty"`
	Description string `json:"description,omitempty"`
}

// Connectors maps a built-in tool type to its implementation.
type Connectors map[string]Connector

// builtinDefinition is the function offered for a connector that is not
// configured, so the model can still call it and be told why it failed.
func builtinDefinition(typ string) model.ToolDef {
	params := map[string]string{
		"web_search":         `{"type":"object","properties":{"query":{"type":"string","description":"What to search the web for"}},"required":["query"]}`,
		"web_search_premium": `{"type":"object","properties":{"query":{"type":"string","description":"What to search the web and news for"}},"required":["query"]}`,
		"code_interpreter":   `{"type":"object","properties":{"code":{"type":"string","description":"Python code to run"}},"required":["code"]}`,
		"image_generation":   `{"type":"object","properties":{"prompt":{"type":"string","description":"Description of the image to generate"}},"required":["prompt"]}`,
		"document_library":   `{"type":"object","properties":{"query":{"type":"string","description":"What to search the document libraries for"}},"required":["query"]}`,
	}[typ]
	if params == "" {
		params = `{"type":"object","properties":{}}`
	}
	desc := map[string]string{
		"web_search":         "Search the web for up-to-date information.",
		"web_search_premium": "Search the web and news sources for up-to-date information.",
		"code_interpreter":   "Run Python code in a sandbox and return its output.",
		"image_generation":   "Generate an image from a text description.",
		"document_library":   "Search the user's document libraries.",
	}[typ]
	return model.ToolDef{Name: typ, Description: desc, Parameters: json.RawMessage(params)}
}

// notConfigured is the error a call to a missing connector reports.
func notConfigured(name string) error {
	return fmt.Errorf("the %s connector is not configured on this server (see docs/connectors.md)", name)
}

// Availability reports whether a connector can run now; connectors that
// depend on the host (a sandbox) implement it.
type Availability interface {
	Available() error
}

// Status describes every built-in connector: "available", "not configured"
// or "unavailable: <why>".
func (c Connectors) Status() map[string]string {
	out := map[string]string{}
	for _, name := range []string{"web_search", "web_search_premium", "code_interpreter", "image_generation", "document_library"} {
		conn, ok := c[name]
		switch {
		case !ok:
			out[name] = "not configured"
		default:
			out[name] = "available"
			if a, ok := conn.(Availability); ok {
				if err := a.Available(); err != nil {
					out[name] = "unavailable: " + err.Error()
				}
			}
		}
	}
	return out
}

// QueryArgument reads the arguments of a search-like connector:
// {"query": "..."} (a bare JSON string is tolerated, as some models send
// one).
func QueryArgument(args string) (string, error) {
	var a struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal([]byte(args), &a); err != nil {
		var s string
		if json.Unmarshal([]byte(args), &s) != nil {
			return "", errors.New(`invalid arguments: want {"query": "..."}`)
		}
		a.Query = s
	}
	if a.Query = strings.TrimSpace(a.Query); a.Query == "" {
		return "", errors.New(`missing "query"`)
	}
	return a.Query, nil
}
