package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/connector"
)

// connectorRoutes are the Connectors API's routes (client.beta.connectors).
func (s *Server) connectorRoutes() []route {
	c := s.needConnectors
	return []route{
		{pattern: "POST /v1/connectors", h: c(s.createConnector)},
		{pattern: "GET /v1/connectors", h: c(s.listConnectors)},
		{pattern: "GET /v1/connectors/{connector_id}", h: c(s.getConnector)},
		{pattern: "PATCH /v1/connectors/{connector_id}", h: c(s.updateConnector)},
		{pattern: "DELETE /v1/connectors/{connector_id}", h: c(s.deleteConnector)},
		{pattern: "GET /v1/connectors/{connector_id}/tools", h: c(s.listConnectorTools)},
		{pattern: "POST /v1/connectors/{connector_id}/tools/{tool_name}/call", h: c(s.callConnectorTool)},
		{pattern: "POST /v1/connectors/{connector_id}/{scope}/credentials", h: c(s.putConnectorCredentials(false))},
		{pattern: "PATCH /v1/connectors/{connector_id}/{scope}/credentials", h: c(s.putConnectorCredentials(true))},
		{pattern: "GET /v1/connectors/{connector_id}/{scope}/credentials", h: c(s.listConnectorCredentials)},
		{pattern: "DELETE /v1/connectors/{connector_id}/{scope}/credentials/{name}", h: c(s.deleteConnectorCredentials)},
		{pattern: "DELETE /v1/connectors/{connector_id}/{scope}/credentials", h: c(s.unsupportedConnectorRoute("deleting every user credential (Tramontane has no users)"))},
		{pattern: "GET /v1/connectors/{connector_id}/auth_url", h: c(s.unsupportedConnectorRoute("OAuth authorization (auth_url)"))},
		{pattern: "GET /v1/connectors/{connector_id}/authentication_methods", h: c(s.unsupportedConnectorRoute("authentication_methods (OAuth flows)"))},
		{pattern: "PUT /v1/connectors/{connector_id}/share", h: c(s.unsupportedConnectorRoute("connector sharing"))},
		{pattern: "DELETE /v1/connectors/{connector_id}/share", h: c(s.unsupportedConnectorRoute("connector sharing"))},
		{pattern: "PUT /v1/connectors/{connector_id}/organization/share", h: c(s.unsupportedConnectorRoute("organization sharing"))},
		{pattern: "DELETE /v1/connectors/{connector_id}/organization/share", h: c(s.unsupportedConnectorRoute("organization sharing"))},
		{pattern: "POST /v1/connectors/{connector_id}/{scope}/activate", h: c(s.unsupportedConnectorRoute("activating connectors per consumer"))},
		{pattern: "POST /v1/connectors/{connector_id}/{scope}/deactivate", h: c(s.unsupportedConnectorRoute("deactivating connectors per consumer"))},
	}
}

// needConnectors answers 503 when no connector service is wired.
func (s *Server) needConnectors(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Connectors == nil {
			writeError(w, r, apierr.New(apierr.Unavailable, "connectors are not enabled on this server"))
			return
		}
		h(w, r)
	}
}

// unsupportedConnectorRoute answers 400 for a feature Tramontane does not
// have, once the connector is known to exist in the workspace (another
// workspace's connector is 404, as everywhere).
func (s *Server) unsupportedConnectorRoute(what string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.Connectors.Get(r.Context(), ws(r), r.PathValue("connector_id")); err != nil {
			writeError(w, r, err)
			return
		}
		writeError(w, r, apierr.New(apierr.Invalid, "%s is not supported by Tramontane (see docs/compatibility.md)", what))
	}
}

type messageResponse struct {
	Message string `json:"message"`
}

func (s *Server) createConnector(w http.ResponseWriter, r *http.Request) {
	var req connector.CreateRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	c, err := s.Connectors.Create(r.Context(), ws(r), &req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) listConnectors(w http.ResponseWriter, r *http.Request) {
	size, err := queryInt(r, "page_size", 100, 1, 1000)
	if err != nil {
		writeError(w, r, err)
		return
	}
	// query_filters (the SDKs explode it into the query): every connector
	// Tramontane serves is an MCP server.
	mcpOnly, err := queryBool(r, "supports_mcp")
	if err != nil {
		writeError(w, r, err)
		return
	}
	page, err := s.Connectors.List(r.Context(), ws(r), r.URL.Query().Get("cursor"), size)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if mcpOnly != nil && !*mcpOnly {
		page.Items, page.Pagination.NextCursor = []connector.Wire{}, nil
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) getConnector(w http.ResponseWriter, r *http.Request) {
	c, err := s.Connectors.Get(r.Context(), ws(r), r.PathValue("connector_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) updateConnector(w http.ResponseWriter, r *http.Request) {
	var req connector.UpdateRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	c, err := s.Connectors.Update(r.Context(), ws(r), r.PathValue("connector_id"), &req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) deleteConnector(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("connector_id")
	if err := s.Connectors.Delete(r.Context(), ws(r), id); err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, messageResponse{Message: "connector " + id + " deleted"})
}

func (s *Server) listConnectorTools(w http.ResponseWriter, r *http.Request) {
	page, err := queryInt(r, "page", 1, 0, 1<<20)
	if err != nil {
		writeError(w, r, err)
		return
	}
	size, err := queryInt(r, "page_size", 100, 1, 1000)
	if err != nil {
		writeError(w, r, err)
		return
	}
	refresh, err := queryBool(r, "refresh")
	if err != nil {
		writeError(w, r, err)
		return
	}
	tools, err := s.Connectors.ListTools(r.Context(), ws(r), r.PathValue("connector_id"), r.URL.Query().Get("credentials_name"),
		refresh != nil && *refresh, page, size)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tools)
}

func (s *Server) callConnectorTool(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Arguments json.RawMessage `json:"arguments"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	var args map[string]any
	if len(req.Arguments) > 0 && string(req.Arguments) != "null" {
		if err := json.Unmarshal(req.Arguments, &args); err != nil {
			writeError(w, r, apierr.Field("body.arguments", "dict_type", "arguments must be a JSON object"))
			return
		}
	}
	res, err := s.Connectors.CallTool(r.Context(), ws(r), r.PathValue("connector_id"), r.URL.Query().Get("credentials_name"), r.PathValue("tool_name"), args)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) putConnectorCredentials(replace bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req connector.CredentialsRequest
		if err := decodeJSON(r, &req); err != nil {
			writeError(w, r, err)
			return
		}
		if err := s.Connectors.PutCredentials(r.Context(), ws(r), r.PathValue("connector_id"), r.PathValue("scope"), &req, replace); err != nil {
			writeError(w, r, err)
			return
		}
		verb := "created"
		if replace {
			verb = "updated"
		}
		writeJSON(w, http.StatusOK, messageResponse{Message: "credentials " + verb})
	}
}

func (s *Server) listConnectorCredentials(w http.ResponseWriter, r *http.Request) {
	out, err := s.Connectors.ListCredentials(r.Context(), ws(r), r.PathValue("connector_id"), r.PathValue("scope"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteConnectorCredentials(w http.ResponseWriter, r *http.Request) {
	if err := s.Connectors.DeleteCredentials(r.Context(), ws(r), r.PathValue("connector_id"), r.PathValue("scope"), r.PathValue("name")); err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, messageResponse{Message: "credentials deleted"})
}
