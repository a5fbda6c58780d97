package engine_test

import (
	"strings"
	"testing"
)

// TestAgentVersionPinning: a conversation keeps the agent version it
// started with, across appends; a restart may choose another version.
// Completion args come from the agent, overridden per request.
func TestAgentVersionPinning(t *testing.T) {
	e := newEnv(t, echoScript)
	a := e.createAgent(`{"model":"m1","name":"Pinned","instructions":"version zero","completion_args":{"temperature":0.3}}`)
	e.call("PATCH", "/v1/agents/"+a, `{"instructions":"version one"}`, 200)

	c0 := e.start(`{"agent_id":"` + a + `","agent_version":0,"inputs":"hi","stream":false,"completion_args":{"temperature":0.9,"max_tokens":50}}`)
	if o := c0.Outputs[0]; o.str("agent_id") != a || o.str("model") != "m1" {
		t.Errorf("output = %v", o)
	}
	e.appendTo(c0.ConversationID, `{"inputs":"again","stream":false}`)
	e.start(`{"agent_id":"` + a + `","inputs":"hi","stream":false}`) // the active version
	reqs := e.chats()
	for i, want := range []string{"version zero", "version zero", "version one"} {
		if got := systemOf(reqs[i]); got != want {
			t.Errorf("request %d system = %q, want %q", i, got, want)
		}
	}
	if r := reqs[0]; r.Temperature == nil || *r.Temperature != 0.9 || r.MaxTokens == nil || *r.MaxTokens != 50 {
		t.Errorf("request 0 did not apply the override: %s", jsonOf(r))
	}
	if r := reqs[1]; r.Temperature == nil || *r.Temperature != 0.3 || r.MaxTokens != nil {
		t.Errorf("request 1 = temperature %v max_tokens %v, want the agent's 0.3 and none", r.Temperature, r.MaxTokens)
	}
	conv := e.call("GET", "/v1/conversations/"+c0.ConversationID, "", 200)
	if !strings.Contains(string(conv.Body), `"agent_version":0`) {
		t.Errorf("conversation = %s", conv.Body)
	}

	hist, _ := e.history(c0.ConversationID)
	r := decodeResponse(t, e.call("POST", "/v1/conversations/"+c0.ConversationID+"/restart",
		`{"from_entry_id":"`+hist[1].str("id")+`","inputs":"newer","stream":false,"agent_version":1}`, 200).Body)
	if got := systemOf(e.chats()[3]); got != "version one" {
		t.Errorf("restart with agent_version 1 used %q", got)
	}
	conv = e.call("GET", "/v1/conversations/"+r.ConversationID, "", 200)
	if !strings.Contains(string(conv.Body), `"agent_version":1`) {
		t.Errorf("restarted conversation = %s", conv.Body)
	}
	e.call("POST", "/v1/conversations/"+c0.ConversationID+"/restart",
		`{"from_entry_id":"`+hist[1].str("id")+`","inputs":"x","stream":false,"agent_version":7}`, 404)
}

func TestAgentVersionUnknown(t *testing.T) {
	e := newEnv(t, echoScript)
	a := e.createAgent(`{"model":"m1","name":"Solo"}`)
	e.call("POST", "/v1/conversations", `{"agent_id":"`+a+`","agent_version":7,"inputs":"hi","stream":false}`, 404)
	e.call("POST", "/v1/conversations", `{"agent_id":"`+a+`","agent_version":"nope","inputs":"hi","stream":false}`, 404)
	e.call("POST", "/v1/conversations", `{"agent_id":"`+a+`","agent_version":-1,"inputs":"hi","stream":false}`, 422)
	if ids := e.listIDs(); len(ids) != 0 {
		t.Errorf("stored %v", ids)
	}
}
