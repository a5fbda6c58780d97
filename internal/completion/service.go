package completion

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/wire"
	"github.com/tramontane/tramontane/internal/moderation"
	"github.com/tramontane/tramontane/internal/store"
)

// Router resolves public model names to providers (*model.Router).
type Router interface {
	Resolve(name string) (model.Provider, string, error)
}

// Agents reads stored agents (*agent.Service).
type Agents interface {
	ResolveVersion(ctx context.Context, ws, id, version string) (int, error)
	GetRecord(ctx context.Context, ws, id string, version int) (*store.Agent, error)
}

// Observer is told about upstream calls and tokens, for metrics. The
// engine's observer satisfies it.
type Observer interface {
	Upstream(provider, model string, d, ttft time.Duration, err error)
	Tokens(model string, prompt, completion, connector int)
}

// Service prepares and runs stateless completions.
type Service struct {
	router Router
	agents Agents
	obs    Observer
	guard  *moderation.Service
	now    func() time.Time
}

// New returns a service. agents may be nil (agents completions then
// answer 503); obs may be nil; guard enforces guardrails (nil: requests
// with guardrails are refused with a 400 naming the setting).
func New(r Router, agents Agents, obs Observer, guard *moderation.Service) *Service {
	return &Service{router: r, agents: agents, obs: obs, guard: guard, now: time.Now}
}

// Call is a validated completion, ready to run. Nothing has been sent
// upstream yet.
type Call struct {
	// Model is the public model name (echoed in the response).
	Model string
	// AgentID is set for agents completions.
	AgentID string
	// Stream is the request's stream flag.
	Stream bool

	s          *Service
	provider   model.Provider
	req        *model.Request
	guardrails []moderation.Guardrail
	// Guardrails reports the guardrail checks that ran (after Complete
	// or StreamTo).
	Guardrails []moderation.Report
}

// PrepareChat validates a chat completion request and resolves its model.
func (s *Service) PrepareChat(in *Request) (*Call, error) {
	if in.Model == nil || *in.Model == "" {
		return nil, apierr.Field("body.model", "missing", "model is required")
	}
	if in.AgentID != nil {
		return nil, apierr.Field("body.agent_id", "extra_forbidden", "agent_id belongs to POST /v1/agents/completions")
	}
	req := &model.Request{}
	if err := common(in, req); err != nil {
		return nil, err
	}
	tools, err := functionTools("body.tools", in.Tools)
	if err != nil {
		return nil, err
	}
	req.Tools = tools
	if req.ToolChoice, err = toolChoice(in.ToolChoice, tools); err != nil {
		return nil, err
	}
	return s.resolve(*in.Model, "", in, req, nil)
}

// PrepareAgent validates an agents completion request: the agent's model,
// instructions, function tools and completion arguments, overridden by
// the request's own arguments. Another workspace's agent is not found.
func (s *Service) PrepareAgent(ctx context.Context, ws string, in *Request) (*Call, error) {
	if in.AgentID == nil || *in.AgentID == "" {
		return nil, apierr.Field("body.agent_id", "missing", "agent_id is required")
	}
	if in.Model != nil {
		return nil, apierr.Field("body.model", "extra_forbidden", "an agents completion uses the agent's model; leave model out")
	}
	if s.agents == nil {
		return nil, apierr.New(apierr.Unavailable, "agents are not served by this server")
	}
	version, err := agent.VersionRef(in.AgentVersion)
	if err != nil {
		return nil, err
	}
	n, err := s.agents.ResolveVersion(ctx, ws, *in.AgentID, version)
	if err != nil {
		return nil, err
	}
	rec, err := s.agents.GetRecord(ctx, ws, *in.AgentID, n)
	if err != nil {
		return nil, err
	}
	cfg, err := agent.ConfigOf(&rec.Version)
	if err != nil {
		return nil, err
	}
	req := &model.Request{}
	if cfg.Instructions != nil && *cfg.Instructions != "" {
		req.Messages = append(req.Messages, model.Message{Role: model.RoleSystem, Content: *cfg.Instructions})
	}
	applyArgs(req, cfg.CompletionArgs)
	if err := common(in, req); err != nil {
		return nil, err
	}
	tools, err := toolDefs("agent.tools", cfg.Tools)
	if err != nil {
		e := apierr.As(err)
		return nil, apierr.Invalidf("agent %s has a tool that stateless completions cannot run: %s; use POST /v1/conversations with this agent", rec.ID, e.Message)
	}
	extra, err := functionTools("body.tools", in.Tools)
	if err != nil {
		return nil, err
	}
	tools = mergeTools(tools, extra)
	req.Tools = tools
	if tc := bytes.TrimSpace(in.ToolChoice); len(tc) > 0 && string(tc) != "null" {
		if req.ToolChoice, err = toolChoice(tc, tools); err != nil {
			return nil, err
		}
	}
	return s.resolve(rec.Version.Model, rec.ID, in, req, cfg.Guardrails)
}

func (s *Service) resolve(name, agentID string, in *Request, req *model.Request, agentGuardrails json.RawMessage) (*Call, error) {
	if len(req.Tools) == 0 {
		req.ToolChoice = ""
	}
	guardrails, err := moderation.Parse("body.guardrails", in.Guardrails, agentGuardrails)
	if err != nil {
		return nil, err
	}
	if err := s.guard.Require(guardrails); err != nil {
		return nil, err
	}
	p, upstream, err := s.router.Resolve(name)
	if err != nil {
		return nil, err
	}
	req.Model = upstream
	return &Call{Model: name, AgentID: agentID, Stream: in.Stream, s: s, provider: p, req: req, guardrails: guardrails}, nil
}

// mergeTools adds the request's tools to the agent's; a request tool with
// the same name replaces the agent's.
func mergeTools(base, extra []model.ToolDef) []model.ToolDef {
	out := append([]model.ToolDef(nil), base...)
	for _, t := range extra {
		replaced := false
		for i := range out {
			if out[i].Name == t.Name {
				out[i], replaced = t, true
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	return out
}

func applyArgs(req *model.Request, a *agent.CompletionArgs) {
	if a == nil {
		return
	}
	req.Temperature, req.TopP, req.MaxTokens, req.RandomSeed = a.Temperature, a.TopP, a.MaxTokens, a.RandomSeed
	req.PresencePenalty, req.FrequencyPenalty, req.ToolChoice = a.PresencePenalty, a.FrequencyPenalty, a.ToolChoice
	if len(a.ResponseFormat) > 0 && string(a.ResponseFormat) != "null" {
		req.ResponseFormat = a.ResponseFormat
	}
	if st, err := stop(a.Stop); err == nil {
		req.Stop = st
	}
}

// Result is a finished completion.
type Result struct {
	// Response is the whole answer in Mistral's chat.completion shape.
	Response wire.ChatResponse
	Usage    model.Usage
}

// Complete runs the call and returns the whole answer.
func (c *Call) Complete(ctx context.Context) (*Result, error) {
	var res *Result
	err := c.run(ctx, nil, func(r *Result) { res = r })
	return res, err
}

// StreamTo runs the call, giving emit each chunk in Mistral's
// chat.completion.chunk shape: the text as it arrives, then one last
// chunk with the tool calls (whole, as Mistral streams them), the finish
// reason and the usage. It returns the usage and the error that ended the
// run; an error from emit stops the run.
func (c *Call) StreamTo(ctx context.Context, emit func(wire.ChatResponse) error) (model.Usage, error) {
	var u model.Usage
	err := c.run(ctx, emit, func(r *Result) { u = r.Usage })
	return u, err
}

func (c *Call) run(ctx context.Context, emit func(wire.ChatResponse) error, done func(*Result)) error {
	id := NewID()
	created := c.s.now().Unix()
	start := time.Now()
	obs := c.s.obs
	if len(c.guardrails) > 0 {
		var texts []string
		for _, m := range c.req.Messages {
			if m.Role == model.RoleUser {
				texts = append(texts, m.Text())
			}
		}
		reps, err := c.s.guard.Check(ctx, c.guardrails, texts)
		c.Guardrails = reps
		if err != nil {
			return err
		}
	}
	stream, err := c.provider.Chat(ctx, c.req)
	if err != nil {
		if obs != nil {
			obs.Upstream(c.provider.Name(), c.Model, time.Since(start), 0, err)
		}
		return err
	}
	defer stream.Close()
	var acc model.Accumulator
	var ttft time.Duration
	first := true
	for {
		ch, err := stream.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if obs != nil {
				obs.Upstream(c.provider.Name(), c.Model, time.Since(start), ttft, err)
			}
			return err
		}
		if ttft == 0 && (ch.Content != "" || len(ch.ToolCalls) > 0) {
			ttft = time.Since(start)
		}
		acc.Add(ch)
		if emit != nil && ch.Content != "" {
			if err := emit(wire.EncodeChunk(model.Chunk{Content: ch.Content}, id, c.Model, created, first, false)); err != nil {
				return err
			}
			first = false
		}
	}
	resp := acc.Response()
	for i := range resp.Message.ToolCalls {
		if resp.Message.ToolCalls[i].ID == "" {
			resp.Message.ToolCalls[i].ID = model.NewToolCallID()
		}
	}
	if obs != nil {
		obs.Upstream(c.provider.Name(), c.Model, time.Since(start), ttft, nil)
		obs.Tokens(c.Model, resp.Usage.PromptTokens, resp.Usage.CompletionTokens, 0)
	}
	if emit != nil {
		last := model.Chunk{FinishReason: resp.FinishReason, Usage: &resp.Usage}
		for i, tc := range resp.Message.ToolCalls {
			last.ToolCalls = append(last.ToolCalls, model.ToolCallDelta{Index: i, ID: tc.ID, Name: tc.Name, Arguments: tc.Arguments})
		}
		if err := emit(wire.EncodeChunk(last, id, c.Model, created, first, true)); err != nil {
			return err
		}
	}
	done(&Result{Response: wire.EncodeResponse(resp, id, c.Model, created), Usage: resp.Usage})
	return nil
}

// NewID returns a completion id: 32 hex digits, as Mistral's.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
