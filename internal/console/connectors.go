package console

import (
	"net/http"
	"net/url"
)

// connectorsPage lists the workspace's connectors (MCP servers), with a
// form to add one.
func (c *Console) connectorsPage(w http.ResponseWriter, r *http.Request) {
	var conns struct {
		Items list `json:"items"`
	}
	if err := c.call(r, "GET", "/v1/connectors?page_size=200", nil, &conns); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "connectors", page{Title: "Connectors", Nav: "connectors", Data: obj{"Connectors": conns.Items}})
}

// connectorPage shows one connector and the tools its MCP server offers.
// A server that cannot be reached shows why instead of its tools.
func (c *Console) connectorPage(w http.ResponseWriter, r *http.Request) {
	id := url.PathEscape(r.PathValue("connector_id"))
	var conn obj
	if err := c.call(r, "GET", "/v1/connectors/"+id, nil, &conn); err != nil {
		c.fail(w, r, err)
		return
	}
	d := obj{"Connector": conn}
	var tools list
	path := "/v1/connectors/" + id + "/tools"
	if r.URL.Query().Get("refresh") == "true" {
		path += "?refresh=true"
	}
	if err := c.call(r, "GET", path, nil, &tools); err != nil {
		d["ToolsError"] = errorMessage(err)
	}
	d["Tools"] = tools
	c.render(w, r, http.StatusOK, "connector", page{Title: str(conn["name"]), Nav: "connectors", Data: d})
}
