package engine

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/conversation"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/moderation"
	"github.com/tramontane/tramontane/internal/store"
)

// Router resolves public model names to providers.
type Router interface {
	Resolve(name string) (model.Provider, string, error)
}

// Options tune the run loop.
type Options struct {
	// MaxModelCalls caps model calls in one run (default 16).
	MaxModelCalls int
	// MaxRepeats stops a run when the model makes the same call (name and
	// arguments) this many times (default 3).
	MaxRepeats int
	// RunLease is how long a run's claim on its conversation lasts unless
	// renewed (default 20s). A running run renews it every quarter lease,
	// so a crashed server's conversations are free again within one lease.
	RunLease time.Duration
	// ToolTimeout bounds one connector execution (default 2 minutes).
	ToolTimeout time.Duration
	// PingInterval is how often a quiet stream gets a keep-alive (default 10s).
	PingInterval time.Duration
	// LocalLocks serialises runs in process instead of with store leases;
	// right only when no other server shares the database (SQLite).
	LocalLocks bool
}

// Observer is told about upstream calls, tokens and tool executions (for
// metrics). Any method may be a no-op.
type Observer interface {
	Upstream(provider, model string, d, ttft time.Duration, err error)
	Tokens(model string, prompt, completion, connector int)
	Tool(name string, ok bool)
}

type nopObserver struct{}

func (nopObserver) Upstream(string, string, time.Duration, time.Duration, error) {}
func (nopObserver) Tokens(string, int, int, int)                                 {}
func (nopObserver) Tool(string, bool)                                            {}

// Engine runs conversations.
type Engine struct {
	store      store.Store
	agents     *agent.Service
	router     Router
	connectors Connectors
	opts       Options
	obs        Observer
	log        *slog.Logger
	now        func() time.Time
	cache      *historyCache
	local      *localLocks // nil: store leases
	guard      *moderation.Service
}

// New returns an engine.
func New(s store.Store, agents *agent.Service, r Router, c Connectors, o Options, obs Observer, log *slog.Logger) *Engine {
	if o.MaxModelCalls <= 0 {
		o.MaxModelCalls = 16
	}
	if o.MaxRepeats <= 0 {
		o.MaxRepeats = 3
	}
	if o.RunLease <= 0 {
		o.RunLease = 20 * time.Second
	}
	if o.ToolTimeout <= 0 {
		o.ToolTimeout = 2 * time.Minute
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 10 * time.Second
	}
	if c == nil {
		c = Connectors{}
	}
	if obs == nil {
		obs = nopObserver{}
	}
	if log == nil {
		log = slog.Default()
	}
	e := &Engine{store: s, agents: agents, router: r, connectors: c, opts: o, obs: obs, log: log,
		now:   func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		cache: newHistoryCache(1024)}
	if o.LocalLocks {
		e.local = &localLocks{busy: map[string]bool{}}
	}
	return e
}

// ConnectorStatus describes the built-in connectors (see Connectors.Status).
func (e *Engine) ConnectorStatus() map[string]string { return e.connectors.Status() }

// actor is who answers: an agent at a version, or a model conversation's
// configuration.
type actor struct {
	AgentID   string
	AgentName string
	Version   int
	Model     string
	Instr     string
	Tools     []agent.Tool
	Args      *agent.CompletionArgs
	Handoffs  []string
	// Guardrails are the agent's or the model conversation's own.
	Guardrails json.RawMessage
}

// Prepared is a run that passed every check and may now execute. Nothing
// has been written yet.
type Prepared struct {
	ConversationID string
	AgentID        string
	Model          string
	// Guardrails reports the guardrail checks that ran on the inputs.
	Guardrails []moderation.Report

	e         *Engine
	ws        string
	conv      *store.Conversation
	isNew     bool
	persist   bool
	mode      string
	override  *agent.CompletionArgs
	history   []conversation.Entry
	inputs    []conversation.Entry
	confirms  []conversation.Confirmation
	actor     *actor
	owner     string
	leased    bool
	sourceID  string
	skipModel bool
	msgs      *msgState // the message builder's state for a prefix of history
}

// Release gives up the run lease of a prepared run that will not execute.
func (p *Prepared) Release() {
	if !p.leased {
		return
	}
	p.leased = false
	if p.e.local != nil {
		p.e.local.unlock(p.conv.ID)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.e.store.ReleaseRun(ctx, p.ws, p.conv.ID, p.owner)
}

func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

func handoffMode(p *string) (string, error) {
	if p == nil || *p == "" {
		return "server", nil
	}
	if *p != "server" && *p != "client" {
		return "", apierr.Field("body.handoff_execution", "enum", "handoff_execution must be 'server' or 'client'")
	}
	return *p, nil
}

// versionRef reads agent_version: a number or an alias string.
func versionRef(raw json.RawMessage) (string, error) { return agent.VersionRef(raw) }

// NewConversationID returns "conv_" + 32 hex digits, time-ordered.
func NewConversationID() string {
	return "conv_" + strings.ReplaceAll(uuid.Must(uuid.NewV7()).String(), "-", "")
}

// PrepareStart checks a start request.
func (e *Engine) PrepareStart(ctx context.Context, ws string, req *conversation.StartRequest) (*Prepared, error) {
	hasAgent := req.AgentID != nil && *req.AgentID != ""
	hasModel := req.Model != nil && *req.Model != ""
	if hasAgent == hasModel {
		return nil, apierr.Field("body.agent_id", "value_error", "give exactly one of agent_id or model")
	}
	mode, err := handoffMode(req.HandoffExecution)
	if err != nil {
		return nil, err
	}
	now := e.now()
	inputs, err := conversation.ParseInputs(req.Inputs, now)
	if err != nil {
		return nil, err
	}
	if len(inputs) == 0 {
		return nil, apierr.Field("body.inputs", "missing", "inputs is required: a string or a list of entries")
	}
	if err := checkStartResults(inputs); err != nil {
		return nil, err
	}
	if err := agent.ValidateCompletionArgs("body.completion_args", req.CompletionArgs); err != nil {
		return nil, err
	}
	if err := agent.ValidateGuardrails("body.guardrails", req.Guardrails); err != nil {
		return nil, err
	}
	if err := agent.ValidateMetadata("body.metadata", req.Metadata); err != nil {
		return nil, err
	}
	agent.Normalize(req.CompletionArgs, &req.Guardrails)
	c := &store.Conversation{ID: NewConversationID(), WorkspaceID: ws, Name: req.Name, Description: req.Description, CreatedAt: now, UpdatedAt: now}
	if len(req.Metadata) > 0 && string(req.Metadata) != "null" {
		c.Metadata = req.Metadata
	}
	p := &Prepared{e: e, ws: ws, conv: c, isNew: true, persist: boolOr(req.Store, true), mode: mode, inputs: inputs}
	if hasAgent {
		if len(req.Tools) > 0 || req.Instructions != nil {
			return nil, apierr.Field("body.tools", "value_error", "tools and instructions belong to the agent; update the agent instead")
		}
		ref, err := versionRef(req.AgentVersion)
		if err != nil {
			return nil, err
		}
		n, err := e.agents.ResolveVersion(ctx, ws, *req.AgentID, ref)
		if err != nil {
			return nil, err
		}
		a, err := e.agents.GetRecord(ctx, ws, *req.AgentID, n)
		if err != nil {
			return nil, err
		}
		v := a.Version.Version
		c.AgentID, c.AgentVersion = a.ID, &v
		if p.actor, err = actorOf(a); err != nil {
			return nil, err
		}
		p.override = req.CompletionArgs
	} else {
		if err := agent.ValidateInstructions("body.instructions", req.Instructions); err != nil {
			return nil, err
		}
		if err := agent.ValidateTools("body.tools", req.Tools); err != nil {
			return nil, err
		}
		checker, _ := e.connectors["connector"].(agent.ConnectorChecker)
		if err := agent.CheckConnectors(ctx, checker, "body.tools", ws, req.Tools); err != nil {
			return nil, err
		}
		mc := conversation.ModelConfig{Instructions: req.Instructions, Tools: req.Tools, CompletionArgs: req.CompletionArgs, Guardrails: req.Guardrails}
		cfg, err := json.Marshal(mc)
		if err != nil {
			return nil, err
		}
		c.Model, c.Config = *req.Model, cfg
		p.actor = modelActor(c.Model, &mc)
	}
	if err := p.checkRoute(); err != nil {
		return nil, err
	}
	if err := p.guardInputs(ctx, req.Guardrails); err != nil {
		return nil, err
	}
	p.history = inputs
	p.fill()
	return p, nil
}

func (p *Prepared) fill() {
	p.ConversationID = p.conv.ID
	p.AgentID = p.actor.AgentID
	p.Model = p.actor.Model
}

func (p *Prepared) checkRoute() error {
	_, _, err := p.e.router.Resolve(p.actor.Model)
	return err
}

func actorOf(a *store.Agent) (*actor, error) {
	cfg, err := agent.ConfigOf(&a.Version)
	if err != nil {
		return nil, err
	}
	ac := &actor{AgentID: a.ID, AgentName: a.Version.Name, Version: a.Version.Version, Model: a.Version.Model,
		Tools: cfg.Tools, Args: cfg.CompletionArgs, Handoffs: cfg.Handoffs, Guardrails: cfg.Guardrails}
	if cfg.Instructions != nil {
		ac.Instr = *cfg.Instructions
	}
	return ac, nil
}

func modelActor(name string, mc *conversation.ModelConfig) *actor {
	ac := &actor{Model: name, Tools: mc.Tools, Args: mc.CompletionArgs, Guardrails: mc.Guardrails}
	if mc.Instructions != nil {
		ac.Instr = *mc.Instructions
	}
	return ac
}

// load reads a conversation and its entries, and works out who answers
// next: the last handoff's target, else the conversation's own agent (at
// its pinned version) or model configuration.
func (e *Engine) load(ctx context.Context, ws, id string, upToSeq int, version string) (*store.Conversation, []conversation.Entry, *actor, error) {
	c, err := e.store.GetConversation(ctx, ws, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil, apierr.NotFoundf("conversation %s not found", id)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	history, ok := []conversation.Entry(nil), false
	if upToSeq < 0 {
		history, ok = e.cache.get(id, c.NextSeq)
	}
	if !ok {
		rows, err := e.store.ListEntries(ctx, ws, id, upToSeq)
		if err != nil {
			return nil, nil, nil, err
		}
		if history, err = conversation.EntriesFromStore(rows); err != nil {
			return nil, nil, nil, err
		}
		if upToSeq < 0 && len(history) == c.NextSeq {
			e.cache.put(id, history, nil)
		}
	}
	ac, err := e.currentActor(ctx, ws, c, history, version)
	if err != nil {
		return nil, nil, nil, err
	}
	return c, history, ac, nil
}

func (e *Engine) currentActor(ctx context.Context, ws string, c *store.Conversation, history []conversation.Entry, version string) (*actor, error) {
	if c.AgentID == "" {
		var mc conversation.ModelConfig
		if len(c.Config) > 0 {
			if err := json.Unmarshal(c.Config, &mc); err != nil {
				return nil, err
			}
		}
		return modelActor(c.Model, &mc), nil
	}
	for i := len(history) - 1; i >= 0; i-- {
		if h := history[i]; h.Type == conversation.AgentHandoff && h.NextAgentID != c.AgentID {
			a, err := e.agents.GetRecord(ctx, ws, h.NextAgentID, -1)
			if err != nil {
				if apierr.Is(err, apierr.NotFound) {
					return nil, apierr.New(apierr.Conflict, "the conversation was handed off to agent %s, which no longer exists", h.NextAgentID)
				}
				return nil, err
			}
			return actorOf(a)
		} else if h.Type == conversation.AgentHandoff {
			break
		}
	}
	n := -1
	if version != "" {
		var err error
		if n, err = e.agents.ResolveVersion(ctx, ws, c.AgentID, version); err != nil {
			return nil, err
		}
	} else if c.AgentVersion != nil {
		n = *c.AgentVersion
	}
	a, err := e.agents.GetRecord(ctx, ws, c.AgentID, n)
	if err != nil {
		if apierr.Is(err, apierr.NotFound) && version == "" { // a version the client asked for is simply not found
			return nil, apierr.New(apierr.Conflict, "the conversation's agent %s (version %d) no longer exists", c.AgentID, n)
		}
		return nil, err
	}
	return actorOf(a)
}

func (e *Engine) lease(ctx context.Context, p *Prepared) error {
	p.owner = "run_" + uuid.NewString()
	if e.local != nil {
		if !e.local.tryLock(p.conv.ID) {
			return apierr.New(apierr.Conflict, "conversation %s is already running; wait for that run to finish", p.conv.ID)
		}
		p.leased = true
		return nil
	}
	err := e.store.ClaimRun(ctx, p.ws, p.conv.ID, p.owner, e.now().Add(e.opts.RunLease))
	if errors.Is(err, store.ErrConflict) {
		return apierr.New(apierr.Conflict, "conversation %s is already running; wait for that run to finish", p.conv.ID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return apierr.NotFoundf("conversation %s not found", p.conv.ID)
	}
	if err != nil {
		return err
	}
	p.leased = true
	return nil
}
