package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// obj and list are decoded API JSON.
type (
	obj  = map[string]any
	list = []any
)

func (c *Console) agentsPage(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	var agents list
	path := "/v1/agents?page_size=200"
	if q != "" {
		path += "&search=" + url.QueryEscape(q)
	}
	if err := c.call(r, "GET", path, nil, &agents); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "agents", page{Title: "Agents", Nav: "agents", Data: obj{"Agents": agents, "Q": q}})
}

func (c *Console) agentPage(w http.ResponseWriter, r *http.Request) {
	id := url.PathEscape(r.PathValue("agent_id"))
	var a obj
	var versions, aliases list
	if err := c.call(r, "GET", "/v1/agents/"+id, nil, &a); err != nil {
		c.fail(w, r, err)
		return
	}
	if err := c.call(r, "GET", "/v1/agents/"+id+"/versions?page_size=100", nil, &versions); err != nil {
		c.fail(w, r, err)
		return
	}
	if err := c.call(r, "GET", "/v1/agents/"+id+"/aliases", nil, &aliases); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "agent", page{Title: str(a["name"]), Nav: "agents",
		Data: obj{"Agent": a, "Versions": versions, "Aliases": aliases}})
}

// agentEditPage is the agent builder, for a new agent or a new version.
func (c *Console) agentEditPage(w http.ResponseWriter, r *http.Request) {
	d := obj{}
	if id := r.PathValue("agent_id"); id != "" {
		var a obj
		if err := c.call(r, "GET", "/v1/agents/"+url.PathEscape(id), nil, &a); err != nil {
			c.fail(w, r, err)
			return
		}
		d["Agent"] = a
	}
	var models struct {
		Data list `json:"data"`
	}
	var agents list
	var libs struct {
		Data list `json:"data"`
	}
	if err := c.call(r, "GET", "/v1/models", nil, &models); err != nil {
		c.fail(w, r, err)
		return
	}
	if err := c.call(r, "GET", "/v1/agents?page_size=200", nil, &agents); err != nil {
		c.fail(w, r, err)
		return
	}
	if c.Libraries != nil {
		if err := c.call(r, "GET", "/v1/libraries?page_size=100", nil, &libs); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	var conns struct {
		Items list `json:"items"`
	}
	// A server without connectors still edits agents: the picker is empty.
	_ = c.call(r, "GET", "/v1/connectors?page_size=200", nil, &conns)
	d["Models"], d["Agents"], d["Libraries"], d["Connectors"] = models.Data, agents, libs.Data, conns.Items
	title := "New agent"
	if d["Agent"] != nil {
		title = "Edit " + str(d["Agent"].(obj)["name"])
	}
	c.render(w, r, http.StatusOK, "agent_edit", page{Title: title, Nav: "agents", Data: d})
}

// agentDiffPage shows two versions' configurations side by side as a
// line diff of their JSON.
func (c *Console) agentDiffPage(w http.ResponseWriter, r *http.Request) {
	id := url.PathEscape(r.PathValue("agent_id"))
	va, vb := r.URL.Query().Get("a"), r.URL.Query().Get("b")
	var a, b obj
	if err := c.call(r, "GET", "/v1/agents/"+id+"/versions/"+url.PathEscape(va), nil, &a); err != nil {
		c.fail(w, r, err)
		return
	}
	if err := c.call(r, "GET", "/v1/agents/"+id+"/versions/"+url.PathEscape(vb), nil, &b); err != nil {
		c.fail(w, r, err)
		return
	}
	lines := diffLines(configLines(a), configLines(b))
	c.render(w, r, http.StatusOK, "agent_diff", page{Title: "Diff of " + str(a["name"]), Nav: "agents",
		Data: obj{"A": a, "B": b, "Lines": lines}})
}

// configLines is an agent version's JSON without the fields that differ
// between every version anyway.
func configLines(a obj) []string {
	cp := obj{}
	for k, v := range a {
		switch k {
		case "created_at", "updated_at", "version", "versions":
			continue
		}
		cp[k] = v
	}
	b, _ := json.MarshalIndent(cp, "", "  ")
	return strings.Split(string(b), "\n")
}

func (c *Console) playgroundPage(w http.ResponseWriter, r *http.Request) {
	var agents list
	var models struct {
		Data list `json:"data"`
	}
	if err := c.call(r, "GET", "/v1/agents?page_size=200", nil, &agents); err != nil {
		c.fail(w, r, err)
		return
	}
	if err := c.call(r, "GET", "/v1/models", nil, &models); err != nil {
		c.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	c.render(w, r, http.StatusOK, "playground", page{Title: "Playground", Nav: "playground", Data: obj{
		"Agents": agents, "Models": models.Data, "AgentID": q.Get("agent_id"), "Version": q.Get("version"),
		"Model": q.Get("model"), "ConversationID": q.Get("conversation_id"),
	}})
}

func (c *Console) conversationsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	path := "/v1/conversations?page_size=500"
	metaKey, metaValue := strings.TrimSpace(q.Get("meta_key")), strings.TrimSpace(q.Get("meta_value"))
	if metaKey != "" {
		m, _ := json.Marshal(map[string]string{metaKey: metaValue})
		path += "&metadata=" + url.QueryEscape(string(m))
	}
	var all list
	if err := c.call(r, "GET", path, nil, &all); err != nil {
		c.fail(w, r, err)
		return
	}
	agentID := q.Get("agent_id")
	from, _ := time.Parse("2006-01-02", q.Get("from"))
	to, _ := time.Parse("2006-01-02", q.Get("to"))
	var shown list
	for _, x := range all {
		cv, _ := x.(obj)
		if agentID != "" && str(cv["agent_id"]) != agentID {
			continue
		}
		created, _ := time.Parse(time.RFC3339Nano, str(cv["created_at"]))
		if !from.IsZero() && created.Before(from) || !to.IsZero() && !created.Before(to.AddDate(0, 0, 1)) {
			continue
		}
		shown = append(shown, cv)
	}
	var agents list
	if err := c.call(r, "GET", "/v1/agents?page_size=200", nil, &agents); err != nil {
		c.fail(w, r, err)
		return
	}
	names := map[string]string{}
	for _, a := range agents {
		if m, ok := a.(obj); ok {
			names[str(m["id"])] = str(m["name"])
		}
	}
	c.render(w, r, http.StatusOK, "conversations", page{Title: "Conversations", Nav: "conversations", Data: obj{
		"Conversations": shown, "Agents": agents, "Names": names, "AgentID": agentID,
		"MetaKey": metaKey, "MetaValue": metaValue, "From": q.Get("from"), "To": q.Get("to"),
	}})
}

func (c *Console) conversationPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("conversation_id")
	var cv, hist obj
	if err := c.call(r, "GET", "/v1/conversations/"+url.PathEscape(id), nil, &cv); err != nil {
		c.fail(w, r, err)
		return
	}
	if err := c.call(r, "GET", "/v1/conversations/"+url.PathEscape(id)+"/history", nil, &hist); err != nil {
		c.fail(w, r, err)
		return
	}
	m, _ := json.Marshal(map[string]string{"branched_from": id})
	var branches list
	if err := c.call(r, "GET", "/v1/conversations?page_size=100&metadata="+url.QueryEscape(string(m)), nil, &branches); err != nil {
		c.fail(w, r, err)
		return
	}
	agentName := ""
	if aid := str(cv["agent_id"]); aid != "" {
		var a obj
		if err := c.call(r, "GET", "/v1/agents/"+url.PathEscape(aid), nil, &a); err == nil {
			agentName = str(a["name"]) // a deleted agent leaves its id alone
		}
	}
	c.render(w, r, http.StatusOK, "conversation", page{Title: "Conversation " + id, Nav: "conversations", Data: obj{
		"Conversation": cv, "Entries": hist["entries"], "Branches": branches, "AgentName": agentName,
	}})
}

func (c *Console) filesPage(w http.ResponseWriter, r *http.Request) {
	var files struct {
		Data list `json:"data"`
	}
	if err := c.call(r, "GET", "/v1/files?page_size=200", nil, &files); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "files", page{Title: "Files", Nav: "files", Data: obj{"Files": files.Data}})
}

// str is a JSON value as text ("" for null).
func str(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
