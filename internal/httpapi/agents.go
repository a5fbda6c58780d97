package httpapi

import (
	"encoding/base64"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/tramontane/tramontane/internal/agent"
	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/store"
)

func (s *Server) createAgent(w http.ResponseWriter, r *http.Request) {
	var req agent.CreateRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	a, err := s.Agents.Create(r.Context(), ws(r), &req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	Annotate(r.Context(), slog.String("agent_id", a.ID))
	writeJSON(w, http.StatusOK, a)
}

// agentFilter reads the list filters shared by /agents and /agents/pages.
func agentFilter(r *http.Request) (store.AgentFilter, error) {
	q := r.URL.Query()
	f := store.AgentFilter{Name: q.Get("name"), Search: q.Get("search"), ID: q.Get("id"), Sources: queryList(r, "sources")}
	var err error
	if f.DeploymentChat, err = queryBool(r, "deployment_chat"); err != nil {
		return f, err
	}
	if f.Metadata, err = queryMetadata(r); err != nil {
		return f, err
	}
	return f, nil
}

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) {
	page, err := queryInt(r, "page", 0, 0, 1<<30)
	if err != nil {
		writeError(w, r, err)
		return
	}
	size, err := queryInt(r, "page_size", 20, 1, 1000)
	if err != nil {
		writeError(w, r, err)
		return
	}
	f, err := agentFilter(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, err := s.Agents.List(r.Context(), ws(r), f, store.Page{Offset: page * size, Limit: size})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

type agentPage struct {
	Object        string         `json:"object"`
	Data          []*agent.Agent `json:"data"`
	NextPageToken *string        `json:"next_page_token"`
}

// listAgentPages is cursor pagination. The token is an opaque encoding of
// the next offset.
func (s *Server) listAgentPages(w http.ResponseWriter, r *http.Request) {
	size, err := queryInt(r, "page_size", 20, 1, 1000)
	if err != nil {
		writeError(w, r, err)
		return
	}
	offset := 0
	if tok := r.URL.Query().Get("page_token"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "o:"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(raw), "o:") || n < 0 {
			writeError(w, r, apierr.Field("query.page_token", "value_error", "invalid page_token"))
			return
		}
		offset = n
	}
	f, err := agentFilter(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	// Fetch one extra to know whether another page exists.
	list, err := s.Agents.List(r.Context(), ws(r), f, store.Page{Offset: offset, Limit: size + 1})
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := agentPage{Object: "list", Data: list}
	if len(list) > size {
		out.Data = list[:size]
		tok := base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset+size)))
		out.NextPageToken = &tok
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getAgent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("agent_id")
	Annotate(r.Context(), slog.String("agent_id", id))
	a, err := s.Agents.Get(r.Context(), ws(r), id, r.URL.Query().Get("agent_version"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) updateAgent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("agent_id")
	Annotate(r.Context(), slog.String("agent_id", id))
	var req agent.UpdateRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	a, err := s.Agents.Update(r.Context(), ws(r), id, &req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) deleteAgent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("agent_id")
	Annotate(r.Context(), slog.String("agent_id", id))
	if err := s.Agents.Delete(r.Context(), ws(r), id); err != nil {
		writeError(w, r, err)
		return
	}
	noContent(w)
}

// updateAgentVersion takes the version as a query parameter (the SDKs) or
// as a JSON body {"version": N} (the docs' curl example).
func (s *Server) updateAgentVersion(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("agent_id")
	Annotate(r.Context(), slog.String("agent_id", id))
	v := r.URL.Query().Get("version")
	if v == "" && r.ContentLength != 0 {
		var body struct {
			Version *int `json:"version"`
		}
		if err := decodeJSON(r, &body); err != nil {
			writeError(w, r, err)
			return
		}
		if body.Version != nil {
			v = strconv.Itoa(*body.Version)
		}
	}
	if v == "" {
		writeError(w, r, apierr.Field("query.version", "missing", "version is required"))
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		writeError(w, r, apierr.Field("query.version", "int_parsing", "version must be an integer"))
		return
	}
	a, err := s.Agents.SetActiveVersion(r.Context(), ws(r), id, n)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) listAgentVersions(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("agent_id")
	page, err := queryInt(r, "page", 0, 0, 1<<30)
	if err != nil {
		writeError(w, r, err)
		return
	}
	size, err := queryInt(r, "page_size", 20, 1, 100)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, err := s.Agents.ListVersions(r.Context(), ws(r), id, store.Page{Offset: page * size, Limit: size})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) getAgentVersion(w http.ResponseWriter, r *http.Request) {
	a, err := s.Agents.GetVersion(r.Context(), ws(r), r.PathValue("agent_id"), r.PathValue("version"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) setAlias(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	alias := q.Get("alias")
	if alias == "" {
		writeError(w, r, apierr.Field("query.alias", "missing", "alias is required"))
		return
	}
	if q.Get("version") == "" {
		writeError(w, r, apierr.Field("query.version", "missing", "version is required"))
		return
	}
	v, err := queryInt(r, "version", 0, 0, 1<<30)
	if err != nil {
		writeError(w, r, err)
		return
	}
	al, err := s.Agents.SetAlias(r.Context(), ws(r), r.PathValue("agent_id"), alias, v)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, al)
}

func (s *Server) listAliases(w http.ResponseWriter, r *http.Request) {
	list, err := s.Agents.ListAliases(r.Context(), ws(r), r.PathValue("agent_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) deleteAlias(w http.ResponseWriter, r *http.Request) {
	alias := r.URL.Query().Get("alias")
	if alias == "" {
		writeError(w, r, apierr.Field("query.alias", "missing", "alias is required"))
		return
	}
	if err := s.Agents.DeleteAlias(r.Context(), ws(r), r.PathValue("agent_id"), alias); err != nil {
		writeError(w, r, err)
		return
	}
	noContent(w)
}
