package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/store"
)

// secret is the clear form of a credential: headers sent to the server.
type secret struct {
	Headers     map[string]string `json:"headers,omitempty"`
	BearerToken string            `json:"bearer_token,omitempty"`
}

// checkScope accepts the workspace scope; Tramontane has no users nor
// organizations to hold credentials.
func checkScope(scope string) error {
	switch scope {
	case "workspace":
		return nil
	case "user", "organization":
		return unsupported("the " + scope + " credentials scope (Tramontane keeps credentials per workspace: use the workspace scope)")
	}
	return apierr.NotFoundf("no credentials scope %q; use workspace", scope)
}

// PutCredentials creates (or, with replace, updates) a named credential of
// a connector in ws. The secret is sealed before it is stored.
func (s *Service) PutCredentials(ctx context.Context, ws, idOrName, scope string, req *CredentialsRequest, replace bool) error {
	if err := checkScope(scope); err != nil {
		return err
	}
	c, err := s.own(ctx, ws, idOrName)
	if err != nil {
		return err
	}
	if req.Name == nil || !namePattern.MatchString(*req.Name) {
		return apierr.Field("body.name", "string_pattern_mismatch", "name is required: 1-64 characters of A-Z, a-z, 0-9, '_' or '-'")
	}
	var sec secret
	authType := "none"
	if cr := req.Credentials; cr != nil {
		if present(cr.OAuth) {
			return unsupported("OAuth client credentials")
		}
		for k, v := range cr.Headers {
			if strings.TrimSpace(k) == "" || strings.ContainsAny(k, " \r\n:") || strings.ContainsAny(v, "\r\n") {
				return apierr.Field("body.credentials.headers."+k, "value_error", "invalid header %q", k)
			}
		}
		sec.Headers = cr.Headers
		if cr.BearerToken != nil && *cr.BearerToken != "" {
			if strings.ContainsAny(*cr.BearerToken, "\r\n") {
				return apierr.Field("body.credentials.bearer_token", "value_error", "bearer_token must be one line")
			}
			sec.BearerToken = *cr.BearerToken
			authType = "bearer"
		}
	}
	now := s.now()
	rec := &store.ConnectorCredential{ConnectorID: c.ID, WorkspaceID: ws, Name: *req.Name, Title: req.Title, AuthType: authType,
		IsDefault: req.IsDefault != nil && *req.IsDefault, CreatedAt: now, UpdatedAt: now}
	if !rec.IsDefault && !replace {
		if existing, err := s.st.ListCredentials(ctx, ws, c.ID); err == nil && len(existing) == 0 {
			rec.IsDefault = true // the first credential is the default one
		}
	}
	b, _ := json.Marshal(sec)
	rec.Secret = s.seal.Seal(b, "credential:"+c.ID+":"+rec.Name)
	if err := s.st.PutCredential(ctx, rec, replace); err != nil {
		switch {
		case errors.Is(err, store.ErrConflict):
			return apierr.New(apierr.Conflict, "connector %s already has credentials named %s; update them with PATCH", c.Name, rec.Name)
		case errors.Is(err, store.ErrNotFound):
			return apierr.NotFoundf("connector %s has no credentials named %s", c.Name, rec.Name)
		}
		return fmt.Errorf("connector.PutCredentials: %w", err)
	}
	s.forget(c.ID)
	return nil
}

// ListCredentials lists a connector's credentials in ws, without secrets.
func (s *Service) ListCredentials(ctx context.Context, ws, idOrName, scope string) (*CredentialsResponse, error) {
	if err := checkScope(scope); err != nil {
		return nil, err
	}
	r, err := s.resolve(ctx, ws, idOrName)
	if err != nil {
		return nil, err
	}
	out := &CredentialsResponse{Credentials: []CredentialWire{}}
	if r.op != nil {
		return out, nil
	}
	list, err := s.st.ListCredentials(ctx, ws, r.rec.ID)
	if err != nil {
		return nil, fmt.Errorf("connector.ListCredentials: %w", err)
	}
	for _, cr := range list {
		out.Credentials = append(out.Credentials, credWire(cr))
	}
	return out, nil
}

// DeleteCredentials removes a named credential.
func (s *Service) DeleteCredentials(ctx context.Context, ws, idOrName, scope, name string) error {
	if err := checkScope(scope); err != nil {
		return err
	}
	c, err := s.own(ctx, ws, idOrName)
	if err != nil {
		return err
	}
	if err := s.st.DeleteCredential(ctx, ws, c.ID, name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return apierr.NotFoundf("connector %s has no credentials named %s", c.Name, name)
		}
		return fmt.Errorf("connector.DeleteCredentials: %w", err)
	}
	s.forget(c.ID)
	return nil
}

// endpoint builds how to reach r: its headers, then the chosen credential
// (by name, else the default one), then an authorization given on the
// agent's tool.
func (s *Service) endpoint(ctx context.Context, ws string, r *resolved, credName, authorization string) (*endpoint, error) {
	if r.op != nil {
		sc := r.op.cfg
		ep := &endpoint{key: "op:" + r.op.id, url: sc.URL, transport: sc.Transport, headers: map[string]string{}, trusted: true,
			command: sc.Command, args: sc.Args, env: sc.Env}
		for k, v := range sc.Headers {
			ep.headers[k] = v
		}
		if authorization != "" {
			ep.headers["Authorization"] = "Bearer " + authorization
			ep.key += ":auth:" + hashKey(authorization)
		}
		return ep, nil
	}
	c := r.rec
	ep := &endpoint{url: c.Server, transport: c.Transport, headers: map[string]string{}}
	if u, err := url.Parse(c.Server); err == nil {
		ep.trusted = s.privateAllowed(u)
	}
	if ep.transport == "" && strings.HasSuffix(strings.TrimRight(c.Server, "/"), "/sse") {
		ep.transport = "sse"
	}
	if len(c.Headers) > 0 {
		plain, err := s.seal.Open(c.Headers, "connector:"+c.ID)
		if err != nil {
			return nil, err
		}
		_ = json.Unmarshal(plain, &ep.headers)
	}
	key := fmt.Sprintf("%s@%d", c.ID, c.UpdatedAt.UnixMicro())
	creds, err := s.st.ListCredentials(ctx, ws, c.ID)
	if err != nil {
		return nil, fmt.Errorf("connector credentials: %w", err)
	}
	var chosen *store.ConnectorCredential
	for i := range creds {
		if credName != "" && creds[i].Name == credName || credName == "" && creds[i].IsDefault {
			chosen = &creds[i]
		}
	}
	if credName != "" && chosen == nil {
		return nil, apierr.NotFoundf("connector %s has no credentials named %s", c.Name, credName)
	}
	if chosen != nil {
		plain, err := s.seal.Open(chosen.Secret, "credential:"+c.ID+":"+chosen.Name)
		if err != nil {
			return nil, err
		}
		var sec secret
		_ = json.Unmarshal(plain, &sec)
		for k, v := range sec.Headers {
			ep.headers[k] = v
		}
		if sec.BearerToken != "" {
			ep.headers["Authorization"] = "Bearer " + sec.BearerToken
		}
		key += fmt.Sprintf(":cred:%s@%d", chosen.Name, chosen.UpdatedAt.UnixMicro())
	}
	if authorization != "" {
		ep.headers["Authorization"] = "Bearer " + authorization
		key += ":auth:" + hashKey(authorization)
	}
	ep.key = key
	return ep, nil
}
