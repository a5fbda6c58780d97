package httpapi_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tramontane/tramontane/internal/config"
)

// isoCase says how the isolation sweep exercises one route that takes an
// id: the query and body of a request that would succeed for the owner,
// or why the route is not workspace-scoped.
type isoCase struct {
	query     string // appended to the path
	body      string // JSON body ("" for none)
	multipart bool   // send a small file upload instead of body
	notScoped string // set: the route is not a workspace's resource, and why
}

// isolation classifies every route whose path takes an id. A route added
// to the server without an entry here fails TestIsolationSweep: decide how
// another workspace must see it, and add it.
var isolation = map[string]isoCase{
	"GET /files/signed/{file_id}":                                                      {notScoped: "public link: the HMAC signature is the authorization (tested in files_test.go)"},
	"GET /documents/signed/{document_id}":                                              {notScoped: "public link: the HMAC signature is the authorization"},
	"GET /documents/signed/{document_id}/text":                                         {notScoped: "public link: the HMAC signature is the authorization"},
	"GET /v1/models/{model_id}":                                                        {notScoped: "models are the server's, shared by every workspace"},
	"GET /v1/agents/{agent_id}":                                                        {},
	"PATCH /v1/agents/{agent_id}":                                                      {body: `{"name":"stolen"}`},
	"DELETE /v1/agents/{agent_id}":                                                     {},
	"PATCH /v1/agents/{agent_id}/version":                                              {query: "?version=0"},
	"GET /v1/agents/{agent_id}/versions":                                               {},
	"GET /v1/agents/{agent_id}/versions/{version}":                                     {},
	"PUT /v1/agents/{agent_id}/aliases":                                                {query: "?alias=stolen&version=0"},
	"GET /v1/agents/{agent_id}/aliases":                                                {},
	"DELETE /v1/agents/{agent_id}/aliases":                                             {query: "?alias=prod"},
	"GET /v1/conversations/{conversation_id}":                                          {},
	"DELETE /v1/conversations/{conversation_id}":                                       {},
	"POST /v1/conversations/{conversation_id}":                                         {body: `{"inputs":"hello","stream":false}`},
	"GET /v1/conversations/{conversation_id}/history":                                  {},
	"GET /v1/conversations/{conversation_id}/messages":                                 {},
	"POST /v1/conversations/{conversation_id}/restart":                                 {body: `{"from_entry_id":"{ENTRY}","inputs":"again","stream":false}`},
	"GET /v1/files/{file_id}":                                                          {},
	"DELETE /v1/files/{file_id}":                                                       {},
	"GET /v1/files/{file_id}/content":                                                  {},
	"GET /v1/files/{file_id}/url":                                                      {},
	"GET /v1/libraries/{library_id}":                                                   {},
	"PATCH /v1/libraries/{library_id}":                                                 {body: `{"name":"stolen"}`},
	"PUT /v1/libraries/{library_id}":                                                   {body: `{"name":"stolen"}`},
	"DELETE /v1/libraries/{library_id}":                                                {},
	"GET /v1/libraries/{library_id}/share":                                             {},
	"PUT /v1/libraries/{library_id}/share":                                             {body: `{"level":"Editor","share_with_uuid":"{WSB}","share_with_type":"Workspace"}`},
	"DELETE /v1/libraries/{library_id}/share":                                          {body: `{"share_with_uuid":"{WSB}","share_with_type":"Workspace"}`},
	"GET /v1/libraries/{library_id}/documents":                                         {},
	"POST /v1/libraries/{library_id}/documents":                                        {multipart: true},
	"GET /v1/libraries/{library_id}/documents/{document_id}":                           {},
	"PATCH /v1/libraries/{library_id}/documents/{document_id}":                         {body: `{"name":"stolen"}`},
	"PUT /v1/libraries/{library_id}/documents/{document_id}":                           {body: `{"name":"stolen"}`},
	"DELETE /v1/libraries/{library_id}/documents/{document_id}":                        {},
	"GET /v1/libraries/{library_id}/documents/{document_id}/status":                    {},
	"GET /v1/libraries/{library_id}/documents/{document_id}/text_content":              {},
	"GET /v1/libraries/{library_id}/documents/{document_id}/signed-url":                {},
	"GET /v1/libraries/{library_id}/documents/{document_id}/extracted-text-signed-url": {},
	"POST /v1/libraries/{library_id}/documents/{document_id}/reprocess":                {},
	"GET /v1/connectors/{connector_id}":                                                {},
	"PATCH /v1/connectors/{connector_id}":                                              {body: `{"title":"stolen"}`},
	"DELETE /v1/connectors/{connector_id}":                                             {},
	"GET /v1/connectors/{connector_id}/tools":                                          {},
	"POST /v1/connectors/{connector_id}/tools/{tool_name}/call":                        {body: `{"arguments":{"message":"x"}}`},
	"POST /v1/connectors/{connector_id}/{scope}/credentials":                           {body: `{"name":"stolen","credentials":{"bearer_token":"t"}}`},
	"PATCH /v1/connectors/{connector_id}/{scope}/credentials":                          {body: `{"name":"main","credentials":{"bearer_token":"t"}}`},
	"GET /v1/connectors/{connector_id}/{scope}/credentials":                            {},
	"DELETE /v1/connectors/{connector_id}/{scope}/credentials/{name}":                  {},
	"DELETE /v1/connectors/{connector_id}/{scope}/credentials":                         {},
	"GET /v1/connectors/{connector_id}/auth_url":                                       {notScoped: "unsupported: 400 for the owner, 404 for another workspace (connectors_test.go)"},
	"GET /v1/connectors/{connector_id}/authentication_methods":                         {notScoped: "unsupported: 400 for the owner, 404 for another workspace (connectors_test.go)"},
	"PUT /v1/connectors/{connector_id}/share":                                          {},
	"DELETE /v1/connectors/{connector_id}/share":                                       {},
	"PUT /v1/connectors/{connector_id}/organization/share":                             {},
	"DELETE /v1/connectors/{connector_id}/organization/share":                          {},
	"POST /v1/connectors/{connector_id}/{scope}/activate":                              {},
	"POST /v1/connectors/{connector_id}/{scope}/deactivate":                            {},
}

// TestIsolationSweep walks the server's real route table. Every route
// whose path takes an id must be classified above; each workspace-scoped
// one is called by workspace beta with workspace alpha's ids and must
// answer 404 (never 403 or 200: another workspace's resources do not
// exist for it), without naming the resource. Then alpha's own GETs must
// succeed, proving the URLs were right.
func TestIsolationSweep(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script.yaml")
	if err := os.WriteFile(script, []byte("default: {reply: \"You said: {{input}}\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *config.Config) {
		c.Raw = []byte("providers: [{name: s, type: scripted, script: " + script + "}]\nmodels: [{name: m1, provider: s}]\n" +
			"connectors: {allow_private: true}\n")
	})
	fixtures(t, e)
	mcpURL := startEchoMCP(t)
	k := e.callJSON("POST", "/v1/connectors", asA, `{"protocol":"mcp","name":"alpha-kb","description":"d","server":"`+mcpURL+`"}`, 201).(map[string]any)
	e.vars["K"] = k["id"].(string)
	e.call("POST", "/v1/connectors/"+e.vars["K"]+"/workspace/credentials", asA, `{"name":"main","credentials":{"bearer_token":"t"}}`, 200)
	conv := e.callJSON("POST", "/v1/conversations", asA, `{"model":"m1","inputs":"secret-conversation","stream":false}`, 200).(map[string]any)
	e.vars["C"] = conv["conversation_id"].(string)
	e.vars["ENTRY"] = conv["outputs"].([]any)[0].(map[string]any)["id"].(string)
	body, ct := multipartBody(t, "secret-doc.txt", []byte("alpha's document"), nil)
	rec := e.request("POST", "/v1/libraries/"+e.vars["LA"]+"/documents", asA, body, map[string]string{"Content-Type": ct})
	if rec.Code != 200 {
		t.Fatalf("document upload: %d %s", rec.Code, rec.Body)
	}
	e.vars["D"] = decode[map[string]any](t, rec)["id"].(string)
	e.vars["WSB"] = e.wsB
	ids := strings.NewReplacer("{agent_id}", e.vars["A"], "{conversation_id}", e.vars["C"], "{file_id}", e.vars["FA"],
		"{library_id}", e.vars["LA"], "{document_id}", e.vars["D"], "{version}", "0", "{model_id}", "m1",
		"{connector_id}", e.vars["K"], "{tool_name}", "echo", "{scope}", "workspace", "{name}", "main")

	routes := e.app.Handler.Routes()
	checked := 0
	var owned []string // alpha's GET routes, checked afterwards
	for _, r := range routes {
		if !strings.Contains(strings.ReplaceAll(r.Pattern, "{$}", ""), "{") {
			continue // no id in the path ({$} only anchors it)
		}
		c, ok := isolation[r.Pattern]
		if !ok {
			t.Errorf("route %q takes an id but is not classified in the isolation table (isolation_test.go): decide what another workspace gets, and add it", r.Pattern)
			continue
		}
		if c.notScoped != "" {
			continue
		}
		if r.Public {
			t.Errorf("route %q is public but classified as workspace-scoped", r.Pattern)
			continue
		}
		method, path, _ := strings.Cut(r.Pattern, " ")
		target := ids.Replace(path) + c.query
		var hdr map[string]string
		var payload *bytes.Buffer
		switch {
		case c.multipart:
			payload, ct = multipartBody(t, "x.txt", []byte("beta's"), nil)
			hdr = map[string]string{"Content-Type": ct}
		case c.body != "":
			payload = bytes.NewBufferString(e.expand(c.body))
			hdr = map[string]string{"Content-Type": "application/json"}
		default:
			payload = &bytes.Buffer{}
		}
		rec := e.request(method, target, asB, payload, hdr)
		checked++
		if rec.Code != 404 {
			t.Errorf("%s %s as another workspace: %d, want 404: %s", method, target, rec.Code, rec.Body)
			continue
		}
		checkErrorBody(t, rec.Code, rec.Body.Bytes())
		for _, secret := range []string{"alpha-agent", "secret-conversation", "secret-doc", "alpha-lib", "train.jsonl"} {
			if strings.Contains(rec.Body.String(), secret) {
				t.Errorf("%s %s leaks %q: %s", method, target, secret, rec.Body)
			}
		}
		if method == "GET" {
			owned = append(owned, target)
		}
	}
	for _, target := range owned {
		if rec := e.request("GET", target, asA, nil, nil); rec.Code >= 400 {
			t.Errorf("GET %s as the owner: %d %s (the sweep's URL is wrong)", target, rec.Code, rec.Body)
		}
	}
	for p := range isolation {
		found := false
		for _, r := range routes {
			found = found || r.Pattern == p
		}
		if !found {
			t.Errorf("the isolation table lists %q, which is no longer a route", p)
		}
	}
	t.Logf("isolation sweep: %d routes taking an id called by another workspace, all 404", checked)
}
