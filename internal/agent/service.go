package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/store"
)

// Service implements the Agents API on a store.
type Service struct {
	store      store.Store
	now        func() time.Time
	connectors ConnectorChecker
	// checkModel, when set, refuses a model name no route can serve.
	checkModel func(name string) error
	// checkGuardrails, when set, refuses guardrails the server cannot
	// enforce.
	checkGuardrails func(raw json.RawMessage) error
}

// CheckGuardrails makes Create and Update refuse guardrails that check
// rejects (no moderation provider: a 400 naming the setting).
func (s *Service) CheckGuardrails(check func(raw json.RawMessage) error) { s.checkGuardrails = check }

// CheckModels makes Create and Update refuse a model that check rejects
// (the router's Resolve: its error names the setting that routes it).
func (s *Service) CheckModels(check func(name string) error) { s.checkModel = check }

func (s *Service) validModel(name string) error {
	if s.checkModel == nil {
		return nil
	}
	return s.checkModel(name)
}

// ConnectorChecker reports an error unless a workspace may use a
// connector (by id or name), and seals the secrets of connector tools.
type ConnectorChecker interface {
	Check(ctx context.Context, ws, id string) error
	// SealAuthorization encrypts a connector tool's authorization value
	// for storage, bound to the workspace and connector; the result starts
	// with SealedPrefix.
	SealAuthorization(ws, connectorID, value string) (string, error)
}

// SetConnectors makes agent validation check the connector_id of connector
// tools (nil: they are not checked).
func (s *Service) SetConnectors(c ConnectorChecker) { s.connectors = c }

// CheckConnectors reports a 422 for a connector tool whose connector_id the
// workspace cannot see, and seals (in place) the authorization values of
// connector tools for storage. A nil checker checks nothing.
func CheckConnectors(ctx context.Context, c ConnectorChecker, loc, ws string, tools []Tool) error {
	if c == nil {
		return nil
	}
	if err := keepSecrets(loc, tools, nil); err != nil {
		return err // a mask left: nothing to keep it from
	}
	for i, t := range tools {
		if t.Type != "connector" {
			continue
		}
		if err := c.Check(ctx, ws, t.ConnectorID); err != nil {
			if apierr.Is(err, apierr.NotFound) {
				return apierr.Field(fmt.Sprintf("%s.%d.connector_id", loc, i), "value_error", "connector %s not found", t.ConnectorID)
			}
			return err
		}
	}
	return sealTools(c, ws, tools)
}

// NewService returns a Service over s.
func NewService(s store.Store) *Service {
	return &Service{store: s, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// NewID returns a fresh agent id: "ag_" + 32 hex digits (time-ordered).
func NewID() string {
	return "ag_" + strings.ReplaceAll(uuid.Must(uuid.NewV7()).String(), "-", "")
}

// Create validates req and stores a new agent at version 0.
func (s *Service) Create(ctx context.Context, ws string, req *CreateRequest) (*Agent, error) {
	if req.Model == nil || strings.TrimSpace(*req.Model) == "" {
		return nil, apierr.Field("body.model", "missing", "'model' is required")
	}
	if req.Name == nil || strings.TrimSpace(*req.Name) == "" {
		return nil, apierr.Field("body.name", "missing", "'name' is required")
	}
	cfg := Config{
		Instructions: req.Instructions, Tools: req.Tools, CompletionArgs: req.CompletionArgs,
		Guardrails: req.Guardrails, Description: req.Description, Handoffs: req.Handoffs,
		Metadata: req.Metadata, VersionMessage: req.VersionMessage,
	}
	id := NewID()
	if err := s.validModel(*req.Model); err != nil {
		return nil, err
	}
	if err := s.validate(ctx, ws, id, &cfg); err != nil {
		return nil, err
	}
	now := s.now()
	a := &store.Agent{ID: id, WorkspaceID: ws, CreatedAt: now, UpdatedAt: now}
	v, err := makeVersion(0, *req.Name, *req.Model, &cfg, now)
	if err != nil {
		return nil, err
	}
	a.Version = *v
	if err := s.store.CreateAgent(ctx, a); err != nil {
		return nil, err
	}
	a.ActiveVersion, a.Versions = 0, []int{0}
	return ToWire(a)
}

func makeVersion(n int, name, model string, cfg *Config, now time.Time) (*store.AgentVersion, error) {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	v := &store.AgentVersion{Version: n, Name: name, Model: model, Source: "api", Config: raw, CreatedAt: now}
	if len(cfg.Metadata) > 0 && string(cfg.Metadata) != "null" {
		v.Metadata = cfg.Metadata
	}
	return v, nil
}

func (s *Service) validate(ctx context.Context, ws, self string, cfg *Config) error {
	defer Normalize(cfg.CompletionArgs, &cfg.Guardrails)
	if err := ValidateInstructions("body.instructions", cfg.Instructions); err != nil {
		return err
	}
	if err := ValidateTools("body.tools", cfg.Tools); err != nil {
		return err
	}
	if err := CheckConnectors(ctx, s.connectors, "body.tools", ws, cfg.Tools); err != nil {
		return err
	}
	if err := s.checkLibraries(ctx, ws, cfg.Tools); err != nil {
		return err
	}
	if err := ValidateCompletionArgs("body.completion_args", cfg.CompletionArgs); err != nil {
		return err
	}
	if err := ValidateGuardrails("body.guardrails", cfg.Guardrails); err != nil {
		return err
	}
	if s.checkGuardrails != nil {
		if err := s.checkGuardrails(cfg.Guardrails); err != nil {
			return err
		}
	}
	if err := ValidateMetadata("body.metadata", cfg.Metadata); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, h := range cfg.Handoffs {
		loc := fmt.Sprintf("body.handoffs.%d", i)
		if h == self {
			return apierr.Field(loc, "value_error", "an agent cannot hand off to itself")
		}
		if seen[h] {
			return apierr.Field(loc, "value_error", "handoff %q is listed twice", h)
		}
		seen[h] = true
		if _, err := s.store.GetAgent(ctx, ws, h, -1); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return apierr.Field(loc, "value_error", "handoff target %q is not an agent of this workspace", h)
			}
			return err
		}
	}
	return nil
}

// Get returns an agent at a version given as a number or alias ("" = active).
func (s *Service) Get(ctx context.Context, ws, id, version string) (*Agent, error) {
	n, err := s.ResolveVersion(ctx, ws, id, version)
	if err != nil {
		return nil, err
	}
	a, err := s.store.GetAgent(ctx, ws, id, n)
	if err != nil {
		return nil, s.notFound(err, id, version)
	}
	return ToWire(a)
}

// GetRecord returns the stored agent at a resolved version (-1 = active).
func (s *Service) GetRecord(ctx context.Context, ws, id string, version int) (*store.Agent, error) {
	a, err := s.store.GetAgent(ctx, ws, id, version)
	if err != nil {
		return nil, s.notFound(err, id, strconv.Itoa(version))
	}
	return a, nil
}

// ResolveVersion turns "", a number or an alias into a version number (-1
// for the active version).
func (s *Service) ResolveVersion(ctx context.Context, ws, id, version string) (int, error) {
	version = strings.TrimSpace(version)
	if version == "" {
		return -1, nil
	}
	if n, err := strconv.Atoi(version); err == nil {
		if n < 0 {
			return 0, apierr.Field("query.agent_version", "greater_than_equal", "agent_version must be >= 0")
		}
		return n, nil
	}
	al, err := s.store.GetAlias(ctx, ws, id, version)
	if errors.Is(err, store.ErrNotFound) {
		if _, err := s.store.GetAgent(ctx, ws, id, -1); err != nil {
			return 0, s.notFound(err, id, "")
		}
		return 0, apierr.NotFoundf("agent %s has no version or alias %q", id, version)
	}
	if err != nil {
		return 0, err
	}
	return al.Version, nil
}

func (s *Service) notFound(err error, id, version string) error {
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if version != "" && version != "-1" {
		return apierr.NotFoundf("agent %s (version %s) not found", id, version)
	}
	return apierr.NotFoundf("agent %s not found", id)
}

// Update applies a partial update as a new active version.
func (s *Service) Update(ctx context.Context, ws, id string, req *UpdateRequest) (*Agent, error) {
	for attempt := 0; ; attempt++ {
		cur, err := s.store.GetAgent(ctx, ws, id, -1)
		if err != nil {
			return nil, s.notFound(err, id, "")
		}
		var cfg Config
		if err := json.Unmarshal(cur.Version.Config, &cfg); err != nil {
			return nil, err
		}
		cfg.VersionMessage = req.VersionMessage
		name, model := cur.Version.Name, cur.Version.Model
		if req.Name != nil {
			if strings.TrimSpace(*req.Name) == "" {
				return nil, apierr.Field("body.name", "value_error", "name must not be empty")
			}
			name = *req.Name
		}
		if req.Model != nil {
			if strings.TrimSpace(*req.Model) == "" {
				return nil, apierr.Field("body.model", "value_error", "model must not be empty")
			}
			model = *req.Model
			if err := s.validModel(model); err != nil {
				return nil, err
			}
		}
		if req.Instructions != nil {
			cfg.Instructions = req.Instructions
		}
		if req.Tools != nil {
			prev := cfg.Tools
			cfg.Tools = append([]Tool(nil), *req.Tools...)
			if err := keepSecrets("body.tools", cfg.Tools, prev); err != nil {
				return nil, err
			}
		}
		if req.CompletionArgs != nil {
			cfg.CompletionArgs = req.CompletionArgs
		}
		if len(req.Guardrails) > 0 && string(req.Guardrails) != "null" {
			cfg.Guardrails = req.Guardrails
		}
		if req.Description != nil {
			cfg.Description = req.Description
		}
		if req.Handoffs != nil {
			cfg.Handoffs = *req.Handoffs
		}
		if len(req.Metadata) > 0 && string(req.Metadata) != "null" {
			cfg.Metadata = req.Metadata
		}
		if req.DeploymentChat != nil {
			cfg.DeploymentChat = *req.DeploymentChat
		}
		if err := s.validate(ctx, ws, id, &cfg); err != nil {
			return nil, err
		}
		next := cur.Versions[len(cur.Versions)-1] + 1
		v, err := makeVersion(next, name, model, &cfg, s.now())
		if err != nil {
			return nil, err
		}
		err = s.store.AddAgentVersion(ctx, ws, id, v)
		if errors.Is(err, store.ErrConflict) && attempt < 3 {
			continue // a concurrent update took this number; rebuild on top of it
		}
		if err != nil {
			return nil, s.notFound(err, id, "")
		}
		return s.Get(ctx, ws, id, "")
	}
}

// SetActiveVersion switches the active version.
func (s *Service) SetActiveVersion(ctx context.Context, ws, id string, version int) (*Agent, error) {
	if version < 0 {
		return nil, apierr.Field("query.version", "greater_than_equal", "version must be >= 0")
	}
	if err := s.store.SetActiveVersion(ctx, ws, id, version, s.now()); err != nil {
		return nil, s.versionNotFound(ctx, ws, id, version, err)
	}
	return s.Get(ctx, ws, id, "")
}

func (s *Service) versionNotFound(ctx context.Context, ws, id string, version int, err error) error {
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if _, e := s.store.GetAgent(ctx, ws, id, -1); e == nil {
		return apierr.NotFoundf("agent %s has no version %d", id, version)
	}
	return apierr.NotFoundf("agent %s not found", id)
}

// List lists agents.
func (s *Service) List(ctx context.Context, ws string, f store.AgentFilter, p store.Page) ([]*Agent, error) {
	list, err := s.store.ListAgents(ctx, ws, f, p)
	if err != nil {
		return nil, err
	}
	return toWireList(list)
}

// ListVersions lists an agent's versions, newest first.
func (s *Service) ListVersions(ctx context.Context, ws, id string, p store.Page) ([]*Agent, error) {
	list, err := s.store.ListAgentVersions(ctx, ws, id, p)
	if err != nil {
		return nil, s.notFound(err, id, "")
	}
	return toWireList(list)
}

// GetVersion returns one version (a number, or an alias name).
func (s *Service) GetVersion(ctx context.Context, ws, id, version string) (*Agent, error) {
	if strings.TrimSpace(version) == "" {
		return nil, apierr.Field("path.version", "missing", "version is required")
	}
	return s.Get(ctx, ws, id, version)
}

// Delete removes an agent.
func (s *Service) Delete(ctx context.Context, ws, id string) error {
	if err := s.store.DeleteAgent(ctx, ws, id); err != nil {
		return s.notFound(err, id, "")
	}
	return nil
}

// SetAlias creates or re-points an alias.
func (s *Service) SetAlias(ctx context.Context, ws, id, alias string, version int) (*Alias, error) {
	if len(alias) < 1 || len(alias) > 64 || !AliasPattern.MatchString(alias) {
		return nil, apierr.Field("query.alias", "string_pattern_mismatch", "alias must be 1-64 characters matching ^[a-z]([a-z0-9_-]*[a-z0-9])?$")
	}
	if version < 0 {
		return nil, apierr.Field("query.version", "greater_than_equal", "version must be >= 0")
	}
	now := s.now()
	al := &store.AgentAlias{AgentID: id, Alias: alias, Version: version, CreatedAt: now, UpdatedAt: now}
	if err := s.store.UpsertAlias(ctx, ws, al); err != nil {
		return nil, s.versionNotFound(ctx, ws, id, version, err)
	}
	return &Alias{Alias: al.Alias, Version: al.Version, CreatedAt: al.CreatedAt, UpdatedAt: al.UpdatedAt}, nil
}

// ListAliases lists an agent's aliases.
func (s *Service) ListAliases(ctx context.Context, ws, id string) ([]Alias, error) {
	list, err := s.store.ListAliases(ctx, ws, id)
	if err != nil {
		return nil, s.notFound(err, id, "")
	}
	out := make([]Alias, 0, len(list))
	for _, al := range list {
		out = append(out, Alias{Alias: al.Alias, Version: al.Version, CreatedAt: al.CreatedAt, UpdatedAt: al.UpdatedAt})
	}
	return out, nil
}

// DeleteAlias removes an alias.
func (s *Service) DeleteAlias(ctx context.Context, ws, id, alias string) error {
	if err := s.store.DeleteAlias(ctx, ws, id, alias); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			if _, e := s.store.GetAgent(ctx, ws, id, -1); e == nil {
				return apierr.NotFoundf("agent %s has no alias %q", id, alias)
			}
			return apierr.NotFoundf("agent %s not found", id)
		}
		return err
	}
	return nil
}

func toWireList(list []store.Agent) ([]*Agent, error) {
	out := make([]*Agent, 0, len(list))
	for i := range list {
		a, err := ToWire(&list[i])
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// ToWire converts a stored agent to its wire shape.
func ToWire(a *store.Agent) (*Agent, error) {
	var cfg Config
	if err := json.Unmarshal(a.Version.Config, &cfg); err != nil {
		return nil, fmt.Errorf("agent %s version %d: bad config: %w", a.ID, a.Version.Version, err)
	}
	w := &Agent{
		Object: "agent", ID: a.ID, Model: a.Version.Model, Name: a.Version.Name,
		Version: a.Version.Version, Versions: a.Versions,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
		DeploymentChat: cfg.DeploymentChat, Source: a.Version.Source,
		Instructions: cfg.Instructions, Tools: MaskTools(cfg.Tools), Guardrails: cfg.Guardrails,
		Description: cfg.Description, Handoffs: cfg.Handoffs, Metadata: cfg.Metadata,
		VersionMessage: cfg.VersionMessage,
	}
	if w.Versions == nil {
		w.Versions = []int{a.Version.Version}
	}
	if w.Tools == nil {
		w.Tools = []Tool{}
	}
	if cfg.CompletionArgs != nil {
		w.CompletionArgs = *cfg.CompletionArgs
	}
	return w, nil
}

// ConfigOf decodes a stored version's configuration.
func ConfigOf(v *store.AgentVersion) (*Config, error) {
	var cfg Config
	if err := json.Unmarshal(v.Config, &cfg); err != nil {
		return nil, err
	}
	return &cfg, nil
}
