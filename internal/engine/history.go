package engine

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/model"
)

type toolKind int

const (
	kindUnknown toolKind = iota
	kindFunction
	kindConnector
	kindHandoff
)

// handoffTarget is an agent the current one may transfer to.
type handoffTarget struct {
	ID, Name string
}

// toolSet is what the current actor offers the model.
type toolSet struct {
	defs       []model.ToolDef
	functions  map[string]agent.Tool
	connectors map[string]agent.Tool
	handoffs   map[string]handoffTarget
	confirm    map[string]bool
	// instructions are added to the system message by the tools offered
	// (connectors' system prompts).
	instructions []string
}

func (t *toolSet) kind(name string) toolKind {
	switch {
	case t.functions[name].Type != "":
		return kindFunction
	case t.connectors[name].Type != "":
		return kindConnector
	case t.handoffs[name].ID != "":
		return kindHandoff
	}
	return kindUnknown
}

func (t *toolSet) needsConfirmation(name string) bool { return t.confirm[name] }

// tools builds the actor's tool set: its functions, its connectors (as
// functions named after them) and one transfer function per handoff.
func (r *run) tools() *toolSet {
	ts := &toolSet{functions: map[string]agent.Tool{}, connectors: map[string]agent.Tool{}, handoffs: map[string]handoffTarget{}, confirm: map[string]bool{}}
	for _, t := range r.actor.Tools {
		var def model.ToolDef
		switch t.Type {
		case "function":
			if t.Function == nil {
				continue
			}
			def = model.ToolDef{Name: t.Function.Name, Description: t.Function.Description, Parameters: t.Function.Parameters, Strict: t.Function.Strict}
			ts.functions[def.Name] = t
		case "connector":
			r.addFunctionSet(ts, t)
			continue
		default:
			if c, ok := r.e.connectors[t.Type]; ok {
				def = c.Definition(t)
			} else {
				def = builtinDefinition(t.Type)
			}
			if _, dup := ts.connectors[def.Name]; dup {
				continue
			}
			ts.connectors[def.Name] = t
		}
		if tc := t.ToolConfiguration; tc != nil {
			if len(tc.Include) > 0 && !slices.Contains(tc.Include, def.Name) || slices.Contains(tc.Exclude, def.Name) {
				delete(ts.functions, def.Name)
				delete(ts.connectors, def.Name)
				continue
			}
			if slices.Contains(tc.RequiresConfirmation, def.Name) {
				ts.confirm[def.Name] = true
			}
		}
		ts.defs = append(ts.defs, def)
	}
	for _, id := range r.actor.Handoffs {
		a, err := r.e.agents.GetRecord(r.ctx, r.ws, id, -1)
		if err != nil {
			continue // a deleted target is simply no longer offered
		}
		name := model.HandoffToolName(a.Version.Name)
		cfg, _ := agent.ConfigOf(&a.Version)
		desc := "Hand the conversation over to the agent " + a.Version.Name + "."
		if cfg != nil && cfg.Description != nil && *cfg.Description != "" {
			desc += " " + *cfg.Description
		}
		ts.handoffs[name] = handoffTarget{ID: a.ID, Name: a.Version.Name}
		ts.defs = append(ts.defs, model.ToolDef{Name: name, Description: desc, Parameters: json.RawMessage(`{"type":"object","properties":{}}`)})
	}
	return ts
}

// addFunctionSet offers the functions of a connector tool (an MCP server's
// tools). A server that cannot be reached offers nothing this turn; the
// failure is logged.
func (r *run) addFunctionSet(ts *toolSet, t agent.Tool) {
	fs, ok := r.e.connectors[t.Type].(FunctionSet)
	if !ok {
		return
	}
	fns, err := fs.Functions(r.ctx, r.ws, t)
	if err != nil {
		r.e.log.Warn("connector tools unavailable", "connector_id", t.ConnectorID, "conversation_id", r.conv.ID, "error", err)
		return
	}
	if in, ok := fs.(Instructor); ok && len(fns) > 0 {
		if text := in.Instructions(r.ctx, r.ws, t); text != "" {
			ts.instructions = append(ts.instructions, text)
		}
	}
	for _, f := range fns {
		if ts.kind(f.Def.Name) != kindUnknown {
			continue // the first tool of a name wins
		}
		ts.connectors[f.Def.Name] = t
		if f.RequiresConfirmation {
			ts.confirm[f.Def.Name] = true
		}
		ts.defs = append(ts.defs, f.Def)
	}
}

// request builds the model request from the history.
func (r *run) request(upstream string) (*model.Request, *toolSet) {
	ts := r.tools()
	// The conversation id lets the provider reuse the encoded history
	// (model.Request.CacheKey); r.messages never changes a slice it
	// handed out.
	req := &model.Request{Model: upstream, Tools: ts.defs, CacheKey: r.conv.ID, Messages: r.messages()}
	if len(ts.instructions) > 0 {
		req.Messages = withInstructions(req.Messages, r.actor.Instr, ts.instructions)
	}
	applyArgs(req, r.actor.Args)
	applyArgs(req, r.override)
	if len(req.Tools) == 0 {
		req.ToolChoice = ""
	}
	return req, ts
}

// withInstructions adds the tools' instructions (connectors' system
// prompts) after the actor's own in the system message. msgs is not
// modified: it may be shared with the history cache.
func withInstructions(msgs []model.Message, instr string, extra []string) []model.Message {
	text := strings.TrimSpace(strings.Join(append([]string{instr}, extra...), "\n\n"))
	if instr != "" && len(msgs) > 0 && msgs[0].Role == "system" {
		out := slices.Clone(msgs)
		out[0].Content = text
		return out
	}
	return append([]model.Message{{Role: "system", Content: text}}, msgs...)
}

func applyArgs(req *model.Request, a *agent.CompletionArgs) {
	if a == nil {
		return
	}
	if a.Temperature != nil {
		req.Temperature = a.Temperature
	}
	if a.TopP != nil {
		req.TopP = a.TopP
	}
	if a.MaxTokens != nil {
		req.MaxTokens = a.MaxTokens
	}
	if a.RandomSeed != nil {
		req.RandomSeed = a.RandomSeed
	}
	if a.PresencePenalty != nil {
		req.PresencePenalty = a.PresencePenalty
	}
	if a.FrequencyPenalty != nil {
		req.FrequencyPenalty = a.FrequencyPenalty
	}
	if a.ToolChoice != "" {
		req.ToolChoice = a.ToolChoice
	}
	if len(a.ResponseFormat) > 0 && string(a.ResponseFormat) != "null" {
		req.ResponseFormat = a.ResponseFormat
	}
	if len(a.Stop) > 0 && string(a.Stop) != "null" {
		var one string
		if json.Unmarshal(a.Stop, &one) == nil {
			req.Stop = []string{one}
		} else {
			_ = json.Unmarshal(a.Stop, &req.Stop)
		}
	}
}

func orEmpty(args string) string {
	if args == "" {
		return "{}"
	}
	return args
}
