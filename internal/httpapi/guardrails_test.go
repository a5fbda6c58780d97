package httpapi_test

import (
	"strings"
	"testing"

	"github.com/tramontane/tramontane/internal/config"
)

const modGuard = `[{"block_on_error":false,"moderation_llm_v2":{"model_name":"mistral-moderation-2603","custom_category_thresholds":{"violence_and_threats":0.5}}}]`

// moderated routes m1/m2 to the fake upstream and moderates with it.
func moderated(t *testing.T) (*env, func() int) {
	t.Helper()
	up, routes := convUpstream(t)
	e := newEnv(t, routes, func(c *config.Config) {
		c.Raw = append(c.Raw, []byte("moderation: {provider: fake, model: fake-moderation}\n")...)
	})
	chats := func() int { return len(up.ChatRequests()) }
	return e, chats
}

func TestModerationsEndpoints(t *testing.T) {
	e, _ := moderated(t)
	m := e.callJSON("POST", "/v1/moderations", asA, `{"model":"mistral-moderation-latest","input":["hello","conf-unsafe text"]}`, 200).(map[string]any)
	res := m["results"].([]any)
	if m["model"] != "mistral-moderation-latest" || len(res) != 2 {
		t.Fatalf("response = %v", m)
	}
	if c := res[1].(map[string]any)["categories"].(map[string]any); c["violence_and_threats"] != true {
		t.Errorf("second result = %v", res[1])
	}
	if c := res[0].(map[string]any)["categories"].(map[string]any); c["violence_and_threats"] != false {
		t.Errorf("first result = %v", res[0])
	}
	m = e.callJSON("POST", "/v1/chat/moderations", asA, `{"model":"mistral-moderation-latest","input":[{"role":"user","content":"flag-pii here"}]}`, 200).(map[string]any)
	if c := m["results"].([]any)[0].(map[string]any)["categories"].(map[string]any); c["pii"] != true {
		t.Errorf("chat moderation = %v", m)
	}
	e.call("POST", "/v1/moderations", asA, `{"model":"x"}`, 422)
	e.call("POST", "/v1/moderations", asNone, `{"model":"x","input":"y"}`, 401)
	// Without a moderation provider: 503 naming the setting.
	plain := newEnv(t, func(c *config.Config) { c.Raw = nil })
	if body := string(plain.call("POST", "/v1/moderations", asA, `{"model":"x","input":"y"}`, 503)); !strings.Contains(body, "moderation section") {
		t.Errorf("unconfigured: %s", body)
	}
}

func TestGuardrailsConversations(t *testing.T) {
	e, chats := moderated(t)
	// A model conversation with guardrails: a clean input runs and reports them.
	m := e.callJSON("POST", "/v1/conversations", asA, `{"model":"m1","inputs":"hello","stream":false,"guardrails":`+modGuard+`}`, 200).(map[string]any)
	g, ok := m["guardrails"].([]any)
	if !ok || len(g) != 1 || g[0].(map[string]any)["blocked"] != false || g[0].(map[string]any)["type"] != "moderation_llm_v2" {
		t.Fatalf("guardrails = %v", m["guardrails"])
	}
	conv := m["conversation_id"].(string)
	// An unsafe append is refused with 403 before the model sees it, and nothing is stored.
	before := chats()
	body := string(e.call("POST", "/v1/conversations/"+conv, asA, `{"inputs":"conf-unsafe now","stream":true}`, 403))
	if !strings.Contains(body, "violence_and_threats") || !strings.Contains(body, `"object":"error"`) {
		t.Errorf("blocked append: %s", body)
	}
	if chats() != before {
		t.Error("a blocked input reached the model")
	}
	h := e.callJSON("GET", "/v1/conversations/"+conv+"/history", asA, "", 200).(map[string]any)
	if n := len(h["entries"].([]any)); n != 2 {
		t.Errorf("history has %d entries after a blocked append", n)
	}
	// An agent's guardrails apply to its conversations.
	ag := e.createAgent(asA, `{"model":"m1","name":"guarded","guardrails":`+modGuard+`}`)
	e.call("POST", "/v1/conversations", asA, `{"agent_id":"`+ag+`","inputs":"conf-unsafe please","stream":false}`, 403)
	e.call("POST", "/v1/conversations", asA, `{"agent_id":"`+ag+`","inputs":"fine","stream":false}`, 200)
	// Chat and agents completions too.
	e.call("POST", "/v1/chat/completions", asA, `{"model":"m1","messages":[{"role":"user","content":"conf-unsafe"}],"guardrails":`+modGuard+`}`, 403)
	e.call("POST", "/v1/agents/completions", asA, `{"agent_id":"`+ag+`","messages":[{"role":"user","content":"conf-unsafe"}]}`, 403)
	done := e.callJSON("POST", "/v1/agents/completions", asA, `{"agent_id":"`+ag+`","messages":[{"role":"user","content":"fine"}]}`, 200).(map[string]any)
	if g, ok := done["guardrails"].([]any); !ok || len(g) != 1 || done["object"] != "chat.completion" {
		t.Errorf("agents completion with guardrails = %v", done)
	}
	// action none reports without blocking.
	m = e.callJSON("POST", "/v1/conversations", asA, `{"model":"m1","inputs":"conf-unsafe","stream":false,"guardrails":[{"moderation_llm_v1":{"model_name":"x","action":"none"}}]}`, 200).(map[string]any)
	if g := m["guardrails"].([]any)[0].(map[string]any); g["blocked"] != false || len(g["flagged_categories"].([]any)) != 1 {
		t.Errorf("action none: %v", g)
	}
	// Moderation failing: block_on_error decides.
	e.call("POST", "/v1/conversations", asA, `{"model":"m1","inputs":"conf-moderation-error","stream":false,"guardrails":[{"block_on_error":true,"moderation_llm_v2":{"model_name":"x"}}]}`, 403)
	e.call("POST", "/v1/conversations", asA, `{"model":"m1","inputs":"conf-moderation-error","stream":false,"guardrails":[{"block_on_error":false,"moderation_llm_v2":{"model_name":"x"}}]}`, 200)
}

// Guardrails without a moderation provider are refused at creation.
func TestGuardrailsWithoutProvider(t *testing.T) {
	_, routes := convUpstream(t)
	e := newEnv(t, routes)
	for _, c := range []struct{ path, body string }{
		{"/v1/agents", `{"model":"m1","name":"g","guardrails":` + modGuard + `}`},
		{"/v1/conversations", `{"model":"m1","inputs":"hi","stream":false,"guardrails":` + modGuard + `}`},
		{"/v1/chat/completions", `{"model":"m1","messages":[{"role":"user","content":"hi"}],"guardrails":` + modGuard + `}`},
	} {
		if body := string(e.call("POST", c.path, asA, c.body, 400)); !strings.Contains(body, "moderation section") {
			t.Errorf("%s: %s", c.path, body)
		}
	}
	// An empty list is no guardrail.
	e.call("POST", "/v1/agents", asA, `{"model":"m1","name":"g","guardrails":[]}`, 200)
}
