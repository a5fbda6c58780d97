package httpapi_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/config"
	"github.com/tramontane/tramontane/internal/model/fakeupstream"
)

func modelIDs(t *testing.T, e *env) []string {
	t.Helper()
	m := e.callJSON("GET", "/v1/models", asA, "", 200).(map[string]any)
	var ids []string
	for _, it := range m["data"].([]any) {
		ids = append(ids, it.(map[string]any)["id"].(string))
	}
	return ids
}

// With only TRAMONTANE_UPSTREAM_URL set, /v1/models lists what the upstream
// reports, and any name it would serve can be retrieved.
func TestModelsFromFallbackUpstream(t *testing.T) {
	srv := httptest.NewServer(fakeupstream.New(fakeupstream.Options{}))
	t.Cleanup(srv.Close)
	e := newEnv(t, func(c *config.Config) { c.Raw = nil; c.UpstreamURL = srv.URL + "/v1" })
	if ids := modelIDs(t, e); len(ids) != 1 || ids[0] != "scripted" {
		t.Fatalf("models = %v", ids)
	}
	card := e.callJSON("GET", "/v1/models/scripted", asA, "", 200).(map[string]any)
	if card["owned_by"] != "fakeupstream" || card["capabilities"].(map[string]any)["completion_chat"] != true {
		t.Errorf("card = %v", card)
	}
	// A name the upstream does not list is still routed (passed through), so it is described.
	card = e.callJSON("GET", "/v1/models/mistral-medium-latest", asA, "", 200).(map[string]any)
	if card["id"] != "mistral-medium-latest" || card["type"] != "base" {
		t.Errorf("card = %v", card)
	}
}

// An upstream that is down leaves the configured models listed, quickly.
func TestModelsWithUpstreamDown(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.UpstreamURL = "http://127.0.0.1:1/v1" })
	start := time.Now()
	if ids := modelIDs(t, e); strings.Join(ids, ",") != "m1,m2" {
		t.Fatalf("models = %v", ids)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("listing took %s", d)
	}
	e.call("GET", "/v1/models/some-local-model", asA, "", 200)
}

// Without a fallback, an unrouted model is refused at agent creation and
// update with the setting that would route it.
func TestAgentWithUnroutableModel(t *testing.T) {
	e := newEnv(t)
	body := string(e.call("POST", "/v1/agents", asA, `{"model":"nope-model","name":"n"}`, 400))
	if !strings.Contains(body, "TRAMONTANE_UPSTREAM_URL") || !strings.Contains(body, `"param":"model"`) {
		t.Errorf("body = %s", body)
	}
	id := e.createAgent(asA, `{"model":"m1","name":"n"}`)
	e.call("PATCH", "/v1/agents/"+id, asA, `{"model":"nope-model"}`, 400)
	e.call("PATCH", "/v1/agents/"+id, asA, `{"model":"m1-latest"}`, 200)
	e.call("GET", "/v1/models/nope-model", asA, "", 404)
}
