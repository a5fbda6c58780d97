// Package connector serves the Connectors API: registered MCP servers
// (remote over Streamable HTTP or legacy SSE, or operator-defined local
// processes on stdio) whose tools agents and conversations use. It keeps the
// registry, seals credentials, pools MCP client sessions, names tools for
// the model and runs calls for the engine.
package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/store"
	"github.com/tramontane/tramontane/internal/tool/fetch"
)

// Store is what the service needs from persistence.
type Store interface {
	store.ConnectorStore
	GetWorkspace(ctx context.Context, id string) (*store.Workspace, error)
	Secret(ctx context.Context, name string, gen func() string) (string, error)
}

// Observer is told about every MCP request (for metrics).
type Observer interface {
	MCPCall(connector, op string, d time.Duration, err error)
}

// Service is the Connectors API and the runtime of connector tools.
type Service struct {
	st    Store
	cfg   Config
	seal  *Sealer
	pool  *pool
	obs   Observer
	log   *slog.Logger
	now   func() time.Time
	ops   map[string]*operator // operator-defined, by name
	cache *toolCache

	statusMu sync.Mutex // guards the /healthz probe's cached result
	status   map[string]string
	statusAt time.Time
}

// operator is an operator-defined connector.
type operator struct {
	id  string
	cfg ServerConfig
	at  time.Time
}

// New builds the service. The sealing key is cfg.SecretKey, else a key
// generated once and kept in the database (like the file-signing key).
func New(ctx context.Context, st Store, cfg Config, obs Observer, log *slog.Logger) (*Service, error) {
	key := cfg.SecretKey
	if key == "" {
		var err error
		if key, err = st.Secret(ctx, "connector_secret_key", NewKey); err != nil {
			return nil, fmt.Errorf("connector: secret key: %w", err)
		}
	}
	sealer, err := NewSealer(key)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Service{st: st, cfg: cfg, seal: sealer, pool: newPool(cfg.Timeout, "1"), obs: obs, log: log,
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }, ops: map[string]*operator{}, cache: newToolCache()}
	started := s.now()
	for _, sc := range cfg.Servers {
		s.ops[sc.Name] = &operator{id: uuid.NewSHA1(uuid.NameSpaceURL, []byte("tramontane-operator-connector:"+sc.Name)).String(), cfg: sc, at: started}
	}
	return s, nil
}

// Close ends every MCP session (and stdio process).
func (s *Service) Close() error { return s.pool.Close() }

// resolved is a connector visible to a workspace.
type resolved struct {
	rec *store.Connector // API-created
	op  *operator        // operator-defined
}

func (r *resolved) id() string {
	if r.op != nil {
		return r.op.id
	}
	return r.rec.ID
}

func (r *resolved) name() string {
	if r.op != nil {
		return r.op.cfg.Name
	}
	return r.rec.Name
}

func notFound(idOrName string) error {
	return apierr.NotFoundf("connector %s not found", idOrName)
}

// visibleTo reports whether an operator connector is listed for ws.
func (s *Service) visibleTo(ctx context.Context, op *operator, ws string) bool {
	name := ""
	for _, w := range op.cfg.Workspaces {
		if w == "*" || w == ws {
			return true
		}
		if name == "" {
			if rec, err := s.st.GetWorkspace(ctx, ws); err == nil {
				name = rec.Name
			} else {
				name = "\x00"
			}
		}
		if w == name {
			return true
		}
	}
	return false
}

// resolve finds a connector by id or name in ws: the workspace's own first,
// then the operator-defined ones it may see.
func (s *Service) resolve(ctx context.Context, ws, idOrName string) (*resolved, error) {
	rec, err := s.st.GetConnector(ctx, ws, idOrName)
	if err == nil {
		return &resolved{rec: rec}, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	for _, op := range s.ops {
		if (op.id == idOrName || op.cfg.Name == idOrName) && s.visibleTo(ctx, op, ws) {
			return &resolved{op: op}, nil
		}
	}
	return nil, notFound(idOrName)
}

// Check reports a 4xx error unless ws can use the connector id (agents and
// conversations call it for their connector tools).
func (s *Service) Check(ctx context.Context, ws, id string) error {
	_, err := s.resolve(ctx, ws, id)
	return err
}

func (s *Service) toWire(ctx context.Context, r *resolved) Wire {
	active := true
	if r.op != nil {
		sc := r.op.cfg
		w := Wire{ID: r.op.id, Name: sc.Name, Description: sc.Description, CreatedAt: r.op.at, ModifiedAt: r.op.at,
			OwnerType: "system", Visibility: "shared_global", Active: &active, SupportsMCP: true, Protocol: "mcp"}
		if sc.Title != "" {
			w.Title = &sc.Title
		}
		if sc.URL != "" {
			u := sc.URL
			w.Server = &u
		}
		return w
	}
	c := r.rec
	server, owner := c.Server, c.WorkspaceID
	w := Wire{ID: c.ID, Name: c.Name, Title: c.Title, Description: c.Description, CreatedAt: c.CreatedAt, ModifiedAt: c.UpdatedAt,
		Server: &server, IconURL: c.IconURL, OwnerID: &owner, OwnerType: "workspace", Visibility: c.Visibility,
		SystemPrompt: c.SystemPrompt, Active: &active, SupportsMCP: true, Protocol: "mcp"}
	if creds, err := s.st.ListCredentials(ctx, c.WorkspaceID, c.ID); err == nil {
		for _, cr := range creds {
			w.ConnectionCredentials = append(w.ConnectionCredentials, credWire(cr))
		}
	}
	return w
}

func credWire(cr store.ConnectorCredential) CredentialWire {
	return CredentialWire{Name: cr.Name, Title: cr.Title, AuthenticationType: cr.AuthType, Scope: "workspace", IsDefault: cr.IsDefault}
}

// checkServer validates an API-created connector's URL: http(s), no user
// info, and (unless allow_private) no private address literal or local name.
func (s *Service) checkServer(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", apierr.Field("body.server", "url_parsing", "server must be an absolute http(s) URL of the MCP endpoint")
	}
	if err := fetch.CheckURL(u, s.privateAllowed(u)); err != nil {
		if errors.Is(err, fetch.ErrBlocked) && !s.cfg.AllowPrivate {
			return "", apierr.Field("body.server", "value_error", "server %s is refused: %v. Private, loopback and link-local addresses are refused "+
				"unless the operator sets connectors.allow_private: true in the config file", raw, err)
		}
		return "", apierr.Field("body.server", "value_error", "server %s is refused: %v", raw, err)
	}
	return raw, nil
}

// privateAllowed reports whether u may reach a private address: with
// allow_private, or when its host:port is in allow_private_hosts.
func (s *Service) privateAllowed(u *url.URL) bool {
	if s.cfg.AllowPrivate {
		return true
	}
	host := u.Host
	if u.Port() == "" {
		host = u.Hostname() + map[string]string{"https": ":443"}[u.Scheme]
		if u.Scheme == "http" {
			host = u.Hostname() + ":80"
		}
	}
	return slices.Contains(s.cfg.AllowPrivateHosts, host)
}

func unsupported(what string) error {
	return apierr.New(apierr.Invalid, "%s is not supported by Tramontane (see docs/compatibility.md)", what)
}

func present(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null" && string(raw) != "{}" && string(raw) != "[]"
}

// checkAuthMethods accepts the "none" and "bearer" methods; OAuth flows are
// not supported.
func checkAuthMethods(list []json.RawMessage) error {
	for _, raw := range list {
		var m struct {
			MethodType string `json:"method_type"`
		}
		_ = json.Unmarshal(raw, &m)
		if m.MethodType != "none" && m.MethodType != "bearer" {
			return unsupported("auth method " + fmt.Sprintf("%q", m.MethodType) + " (OAuth flows)")
		}
	}
	return nil
}

func headerMap(loc string, in map[string]any) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range in {
		str, ok := v.(string)
		if !ok || strings.TrimSpace(k) == "" || strings.ContainsAny(k, " \r\n:") || strings.ContainsAny(str, "\r\n") {
			return nil, apierr.Field(loc+"."+k, "string_type", "headers must map header names to string values")
		}
		out[k] = str
	}
	return out, nil
}

func transportOf(loc string, p *string) (string, error) {
	if p == nil || *p == "" || *p == "streamable" {
		return "", nil
	}
	if *p == "sse" {
		return "sse", nil
	}
	return "", apierr.Field(loc, "enum", "transport must be streamable or sse")
}

// Create registers a connector in ws.
func (s *Service) Create(ctx context.Context, ws string, req *CreateRequest) (*Wire, error) {
	if req.Protocol != nil && *req.Protocol != "mcp" {
		if *req.Protocol == "http" {
			return nil, unsupported("the http connector protocol (OpenAPI connectors)")
		}
		return nil, apierr.Field("body.protocol", "literal_error", "protocol must be 'mcp'")
	}
	if req.Name == nil || !namePattern.MatchString(*req.Name) {
		return nil, apierr.Field("body.name", "string_pattern_mismatch", "name is required: 1-64 characters of A-Z, a-z, 0-9, '_' or '-'")
	}
	if req.Description == nil {
		return nil, apierr.Field("body.description", "missing", "description is required")
	}
	if req.Server == nil {
		return nil, apierr.Field("body.server", "missing", "server is required: the URL of the MCP endpoint")
	}
	switch {
	case present(req.AuthData), present(req.OAuth2ServerMetadata), present(req.OAuth2ServerMetadataURL):
		return nil, unsupported("OAuth (auth_data, oauth2_server_metadata)")
	case present(req.GlobalHeaders):
		return nil, unsupported("global_headers")
	}
	if err := checkAuthMethods(req.AuthMethods); err != nil {
		return nil, err
	}
	vis := "private"
	if req.Visibility != nil {
		switch *req.Visibility {
		case "private", "shared_workspace":
			vis = *req.Visibility
		case "shared_org":
			return nil, unsupported("organization sharing (visibility shared_org)")
		default:
			return nil, apierr.Field("body.visibility", "enum", "visibility must be private or shared_workspace")
		}
	}
	if _, ok := s.ops[*req.Name]; ok {
		return nil, apierr.New(apierr.Conflict, "the name %s is taken by an operator-defined connector", *req.Name)
	}
	server, err := s.checkServer(*req.Server)
	if err != nil {
		return nil, err
	}
	headers, err := headerMap("body.headers", req.Headers)
	if err != nil {
		return nil, err
	}
	transport, err := transportOf("body.transport", req.Transport)
	if err != nil {
		return nil, err
	}
	now := s.now()
	c := &store.Connector{ID: uuid.Must(uuid.NewV7()).String(), WorkspaceID: ws, Name: *req.Name, Title: req.Title, Description: *req.Description,
		Server: server, IconURL: req.IconURL, SystemPrompt: req.SystemPrompt, Visibility: vis, Transport: transport, CreatedAt: now, UpdatedAt: now}
	if len(headers) > 0 {
		b, _ := json.Marshal(headers)
		c.Headers = s.seal.Seal(b, "connector:"+c.ID)
	}
	if err := s.st.CreateConnector(ctx, c); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, apierr.New(apierr.Conflict, "a connector named %s already exists in this workspace", c.Name)
		}
		return nil, fmt.Errorf("connector.Create: %w", err)
	}
	w := s.toWire(ctx, &resolved{rec: c})
	return &w, nil
}

// Get returns a connector by id or name.
func (s *Service) Get(ctx context.Context, ws, idOrName string) (*Wire, error) {
	r, err := s.resolve(ctx, ws, idOrName)
	if err != nil {
		return nil, err
	}
	w := s.toWire(ctx, r)
	return &w, nil
}

// List returns a page of ws's connectors. The first page (no cursor) also
// holds the operator-defined connectors ws may use.
func (s *Service) List(ctx context.Context, ws, cursor string, pageSize int) (*Page, error) {
	if pageSize <= 0 || pageSize > 1000 {
		pageSize = 100
	}
	out := &Page{Items: []Wire{}, Pagination: Pagination{PageSize: pageSize}}
	if cursor == "" {
		for _, sc := range s.cfg.Servers {
			if op := s.ops[sc.Name]; s.visibleTo(ctx, op, ws) {
				out.Items = append(out.Items, s.toWire(ctx, &resolved{op: op}))
			}
		}
	}
	recs, err := s.st.ListConnectors(ctx, ws, cursor, pageSize+1)
	if err != nil {
		return nil, fmt.Errorf("connector.List: %w", err)
	}
	if len(recs) > pageSize {
		recs = recs[:pageSize]
		next := recs[len(recs)-1].ID
		out.Pagination.NextCursor = &next
	}
	for i := range recs {
		out.Items = append(out.Items, s.toWire(ctx, &resolved{rec: &recs[i]}))
	}
	return out, nil
}

// own resolves a connector ws may change: operator-defined ones answer 403.
func (s *Service) own(ctx context.Context, ws, idOrName string) (*store.Connector, error) {
	r, err := s.resolve(ctx, ws, idOrName)
	if err != nil {
		return nil, err
	}
	if r.op != nil {
		return nil, apierr.New(apierr.Forbidden, "connector %s is defined by the server's operator (config file); it cannot be changed through the API", r.op.cfg.Name)
	}
	return r.rec, nil
}

// Update changes a connector's fields.
func (s *Service) Update(ctx context.Context, ws, id string, req *UpdateRequest) (*Wire, error) {
	c, err := s.own(ctx, ws, id)
	if err != nil {
		return nil, err
	}
	if req.Protocol != nil && *req.Protocol != "mcp" {
		return nil, apierr.Field("body.protocol", "literal_error", "protocol must be 'mcp'")
	}
	if err := checkAuthMethods(req.AuthMethods); err != nil {
		return nil, err
	}
	if req.Name != nil {
		if !namePattern.MatchString(*req.Name) {
			return nil, apierr.Field("body.name", "string_pattern_mismatch", "name must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'")
		}
		if _, ok := s.ops[*req.Name]; ok {
			return nil, apierr.New(apierr.Conflict, "the name %s is taken by an operator-defined connector", *req.Name)
		}
		c.Name = *req.Name
	}
	if req.Title != nil {
		c.Title = req.Title
	}
	if req.Description != nil {
		c.Description = *req.Description
	}
	if req.IconURL != nil {
		c.IconURL = req.IconURL
	}
	if req.SystemPrompt != nil {
		c.SystemPrompt = req.SystemPrompt
	}
	if req.Server != nil {
		if c.Server, err = s.checkServer(*req.Server); err != nil {
			return nil, err
		}
	}
	if req.Transport != nil {
		if c.Transport, err = transportOf("body.transport", req.Transport); err != nil {
			return nil, err
		}
	}
	if req.Headers != nil {
		headers, err := headerMap("body.headers", req.Headers)
		if err != nil {
			return nil, err
		}
		c.Headers = nil
		if len(headers) > 0 {
			b, _ := json.Marshal(headers)
			c.Headers = s.seal.Seal(b, "connector:"+c.ID)
		}
	}
	c.UpdatedAt = s.now()
	if err := s.st.UpdateConnector(ctx, c); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, apierr.New(apierr.Conflict, "a connector named %s already exists in this workspace", c.Name)
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound(id)
		}
		return nil, fmt.Errorf("connector.Update: %w", err)
	}
	s.forget(c.ID)
	w := s.toWire(ctx, &resolved{rec: c})
	return &w, nil
}

// forget drops what is cached of a connector: its tool lists and sessions.
func (s *Service) forget(connectorID string) {
	s.cache.forget(connectorID)
	s.pool.forget(connectorID)
}

// Delete removes a connector and its credentials.
func (s *Service) Delete(ctx context.Context, ws, id string) error {
	c, err := s.own(ctx, ws, id)
	if err != nil {
		return err
	}
	if err := s.st.DeleteConnector(ctx, ws, c.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound(id)
		}
		return fmt.Errorf("connector.Delete: %w", err)
	}
	s.forget(c.ID)
	return nil
}
