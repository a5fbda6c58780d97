package connector

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/engine"
	"github.com/tramontane/tramontane/internal/model"
)

// Runtime is the engine's view of the service: the "connector" tool type.
// It offers each MCP tool as a function (see FunctionName) and runs calls.
type Runtime struct{ s *Service }

// Runtime returns the engine connector of the "connector" tool type.
func (s *Service) Runtime() *Runtime { return &Runtime{s: s} }

var (
	_ engine.Connector   = (*Runtime)(nil)
	_ engine.FunctionSet = (*Runtime)(nil)
	_ engine.Instructor  = (*Runtime)(nil)
)

// Instructions is the connector's system_prompt, which the model reads
// after the agent's instructions.
func (rt *Runtime) Instructions(ctx context.Context, ws string, t agent.Tool) string {
	r, err := rt.s.resolve(ctx, ws, t.ConnectorID)
	if err != nil || r.rec == nil || r.rec.SystemPrompt == nil {
		return ""
	}
	return *r.rec.SystemPrompt
}

// Definition is not used for function sets (see Functions); it describes
// the connector as a whole.
func (rt *Runtime) Definition(t agent.Tool) model.ToolDef {
	return model.ToolDef{Name: "connector", Parameters: json.RawMessage(`{"type":"object","properties":{}}`)}
}

// Check reports a 404 unless ws may use the connector id (or name).
func (rt *Runtime) Check(ctx context.Context, ws, id string) error { return rt.s.Check(ctx, ws, id) }

// SealAuthorization implements agent.ConnectorChecker.
func (rt *Runtime) SealAuthorization(ws, connectorID, value string) (string, error) {
	return rt.s.SealAuthorization(ws, connectorID, value)
}

// SealAuthorization encrypts the authorization value of a connector tool
// (in an agent or a conversation) for storage, bound to the workspace and
// the connector reference: agent.SealedPrefix, then the sealed bytes in
// base64.
func (s *Service) SealAuthorization(ws, connectorID, value string) (string, error) {
	return agent.SealedPrefix + base64.RawURLEncoding.EncodeToString(s.seal.Seal([]byte(value), toolSecretAD(ws, connectorID))), nil
}

func toolSecretAD(ws, connectorID string) string { return "agent-tool:" + ws + ":" + connectorID }

// authorizationOf returns the authorization value of tool t, opening it if
// sealed (values stored before sealing existed are used as they are).
func (s *Service) authorizationOf(ws string, t agent.Tool) (string, error) {
	if len(t.Authorization) == 0 {
		return "", nil
	}
	var a struct {
		Value string `json:"value"`
	}
	_ = json.Unmarshal(t.Authorization, &a)
	rest, sealed := strings.CutPrefix(a.Value, agent.SealedPrefix)
	if !sealed {
		return a.Value, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", errors.New("the connector tool's stored authorization is damaged")
	}
	plain, err := s.seal.Open(b, toolSecretAD(ws, t.ConnectorID))
	if err != nil {
		return "", fmt.Errorf("the connector tool's authorization: %w", err)
	}
	return string(plain), nil
}

// Functions lists the functions of the connector tool t in workspace ws,
// filtered by its tool_configuration.
func (rt *Runtime) Functions(ctx context.Context, ws string, t agent.Tool) ([]engine.Function, error) {
	r, err := rt.s.resolve(ctx, ws, t.ConnectorID)
	if err != nil {
		return nil, err
	}
	auth, err := rt.s.authorizationOf(ws, t)
	if err != nil {
		return nil, err
	}
	ep, err := rt.s.endpoint(ctx, ws, r, "", auth)
	if err != nil {
		return nil, err
	}
	tools, err := rt.s.tools(ctx, r, ep, false)
	if err != nil {
		return nil, err
	}
	var out []engine.Function
	for _, tl := range tools {
		fn := FunctionName(r.name(), tl.Name)
		if !selected(t.ToolConfiguration, tl.Name, fn) {
			continue
		}
		params, err := json.Marshal(tl.InputSchema)
		if err != nil || string(params) == "null" {
			params = []byte(`{"type":"object","properties":{}}`)
		}
		desc := tl.Description
		if tl.Title != "" && desc == "" {
			desc = tl.Title
		}
		out = append(out, engine.Function{Def: model.ToolDef{Name: fn, Description: desc, Parameters: params},
			RequiresConfirmation: needsConfirmation(t.ToolConfiguration, tl.Name, fn)})
	}
	return out, nil
}

// Execute runs a call of one of the connector's functions. Failures (an
// unreachable server, a timeout, an MCP error result) become the entry's
// info.error and a result the model reads; they never end the run.
func (rt *Runtime) Execute(ctx context.Context, call engine.ToolCall) (*engine.ToolResult, error) {
	info := map[string]any{"connector_id": call.Tool.ConnectorID}
	fail := func(err error) (*engine.ToolResult, error) {
		info["error"] = err.Error()
		return &engine.ToolResult{Info: info, ForModel: "The tool failed: " + err.Error()}, nil
	}
	r, err := rt.s.resolve(ctx, call.Workspace, call.Tool.ConnectorID)
	if err != nil {
		return fail(err)
	}
	info["connector_id"], info["connector_name"] = r.id(), r.name()
	auth, err := rt.s.authorizationOf(call.Workspace, call.Tool)
	if err != nil {
		return fail(err)
	}
	ep, err := rt.s.endpoint(ctx, call.Workspace, r, "", auth)
	if err != nil {
		return fail(err)
	}
	tools, err := rt.s.tools(ctx, r, ep, false)
	if err != nil {
		return fail(err)
	}
	var tool *mcp.Tool
	for _, tl := range tools {
		if FunctionName(r.name(), tl.Name) == call.Name && selected(call.Tool.ToolConfiguration, tl.Name, call.Name) {
			tool = tl
		}
	}
	if tool == nil {
		return fail(fmt.Errorf("connector %s offers no tool %s", r.name(), call.Name))
	}
	info["tool"] = tool.Name
	var args map[string]any
	if strings.TrimSpace(call.Arguments) != "" {
		if err := json.Unmarshal([]byte(call.Arguments), &args); err != nil {
			return fail(fmt.Errorf("the arguments are not a JSON object: %v", err))
		}
	}
	res, err := rt.s.call(ctx, r, ep, tool.Name, args)
	if err != nil {
		if ctx.Err() != nil {
			return fail(fmt.Errorf("the MCP server did not answer in time: %v", ctx.Err()))
		}
		return fail(err)
	}
	info["result"] = res
	text := textOf(res)
	if res.IsError {
		info["error"] = "the tool reported an error: " + truncate(text, 500)
		text = "The tool reported an error: " + text
	}
	return &engine.ToolResult{Info: info, ForModel: text, ConnectorTokens: (len(text) + 3) / 4}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Status describes the operator-defined connectors for /healthz: "ok (N
// tools)" or "unavailable: <why>".
func (s *Service) Status(ctx context.Context) map[string]string {
	if len(s.ops) == 0 {
		return nil
	}
	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	// Probing spawns processes and opens sessions: at most every 15s.
	if s.status != nil && time.Since(s.statusAt) < 15*time.Second {
		return s.status
	}
	out := map[string]string{}
	for name, op := range s.ops {
		r := &resolved{op: op}
		ep, _ := s.endpoint(ctx, "", r, "", "")
		tools, err := s.tools(ctx, r, ep, false)
		if err != nil {
			out[name] = "unavailable: " + err.Error()
			continue
		}
		out[name] = fmt.Sprintf("ok (%d tools)", len(tools))
	}
	s.status, s.statusAt = out, time.Now()
	return out
}
