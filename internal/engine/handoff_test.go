package engine_test

import (
	"reflect"
	"strings"
	"testing"
)

// Agents are told apart by their instructions (the system prompt).
const handoffScript = `
rules:
  - system: triage
    handoff: Billing Agent
  - system: billing
    handoff: Specialist
  - system: specialist
    reply: "Specialist here: {{last_user}}"
  - system: front desk
    handoff: Invoice Agent
  - system: invoicing
    tool: lookup_invoice
    reply: "Invoice total: {{tool_result}}"
  - system: invoicing
    tool_calls:
      - {name: lookup_invoice, arguments: {number: "7"}, id: call_inv}
`

type chain struct{ triage, billing, specialist string }

// chainAgents makes Triage → Billing Agent → Specialist.
func chainAgents(e *tenv) chain {
	var c chain
	c.specialist = e.createAgent(`{"model":"m1","name":"Specialist","instructions":"You are the specialist."}`)
	c.billing = e.createAgent(`{"model":"m1","name":"Billing Agent","instructions":"You are billing.","handoffs":["` + c.specialist + `"]}`)
	c.triage = e.createAgent(`{"model":"m1","name":"Triage","instructions":"You are triage.","handoffs":["` + c.billing + `"]}`)
	return c
}

func checkHandoff(t *testing.T, en entry, fromID, fromName, toID, toName string) {
	t.Helper()
	if en.str("type") != "agent.handoff" || en.str("previous_agent_id") != fromID || en.str("previous_agent_name") != fromName ||
		en.str("next_agent_id") != toID || en.str("next_agent_name") != toName {
		t.Errorf("handoff = %v, want %s(%s) → %s(%s)", en, fromName, fromID, toName, toID)
	}
}

// checkSystems checks the system prompt of each upstream request from the
// n-th on.
func checkSystems(t *testing.T, e *tenv, from int, want ...string) {
	t.Helper()
	reqs := e.chats()
	if len(reqs) != from+len(want) {
		t.Fatalf("%d upstream requests, want %d", len(reqs), from+len(want))
	}
	for i, w := range want {
		if got := systemOf(reqs[from+i]); !strings.Contains(strings.ToLower(got), w) {
			t.Errorf("request %d system prompt %q, want one containing %q", from+i, got, w)
		}
	}
}

func TestHandoffChainServer(t *testing.T) {
	e := newEnv(t, handoffScript)
	c := chainAgents(e)
	cr := e.start(`{"agent_id":"` + c.triage + `","inputs":"I need a refund","stream":false}`)
	wantTypes(t, "outputs", cr.Outputs, "agent.handoff", "agent.handoff", "message.output")
	checkHandoff(t, cr.Outputs[0], c.triage, "Triage", c.billing, "Billing Agent")
	checkHandoff(t, cr.Outputs[1], c.billing, "Billing Agent", c.specialist, "Specialist")
	msg := cr.Outputs[2]
	if msg.str("agent_id") != c.specialist || contentText(msg) != "Specialist here: I need a refund" {
		t.Errorf("final message = %v", msg)
	}
	e.checkOutputsStored(cr.ConversationID, cr.RawOutputs)
	checkSystems(t, e, 0, "triage", "billing", "specialist")
	reqs := e.chats()
	if got := toolNames(reqs[0]); !reflect.DeepEqual(got, []string{"transfer_to_billing_agent"}) {
		t.Errorf("triage offered %v", got)
	}
	if got := toolNames(reqs[1]); !reflect.DeepEqual(got, []string{"transfer_to_specialist"}) {
		t.Errorf("billing offered %v", got)
	}
	if got := toolNames(reqs[2]); len(got) != 0 {
		t.Errorf("specialist offered %v", got)
	}
	// The conversation still belongs to the agent it started with, but
	// the next turn is answered by the agent it was handed to.
	conv := e.call("GET", "/v1/conversations/"+cr.ConversationID, "", 200)
	if !strings.Contains(string(conv.Body), `"agent_id":"`+c.triage+`"`) {
		t.Errorf("conversation = %s", conv.Body)
	}
	cr2 := e.appendTo(cr.ConversationID, `{"inputs":"thanks","stream":false}`)
	wantTypes(t, "outputs", cr2.Outputs, "message.output")
	if cr2.Outputs[0].str("agent_id") != c.specialist {
		t.Errorf("next turn answered by %s", cr2.Outputs[0].str("agent_id"))
	}
	checkSystems(t, e, 3, "specialist")
}

func TestHandoffChainServerStream(t *testing.T) {
	e := newEnv(t, handoffScript)
	c := chainAgents(e)
	events := e.stream("/v1/conversations", `{"agent_id":"`+c.triage+`","inputs":"refund please","stream":true}`)
	lastDone(t, events)
	ids := outputGroups(t, events)
	hist, _ := e.history(events[0].str("conversation_id"))
	wantTypes(t, "history", hist, "message.input", "agent.handoff", "agent.handoff", "message.output")
	for i, id := range ids {
		if hist[i+1].str("id") != id {
			t.Errorf("output %d: stream id %s, history id %s", i, id, hist[i+1].str("id"))
		}
	}
	var got []string
	for _, ev := range events {
		switch ev.Name {
		case "agent.handoff.started":
			got = append(got, ev.Name+":"+ev.str("previous_agent_name")+":"+ev.str("previous_agent_id"))
		case "agent.handoff.done":
			got = append(got, ev.Name+":"+ev.str("next_agent_name")+":"+ev.str("next_agent_id"))
		case "message.output.delta":
			if ev.str("agent_id") != c.specialist {
				t.Errorf("delta from agent %s", ev.str("agent_id"))
			}
		}
	}
	want := []string{
		"agent.handoff.started:Triage:" + c.triage, "agent.handoff.done:Billing Agent:" + c.billing,
		"agent.handoff.started:Billing Agent:" + c.billing, "agent.handoff.done:Specialist:" + c.specialist,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("handoff events = %v, want %v", got, want)
	}
}

func TestHandoffChainClient(t *testing.T) {
	e := newEnv(t, handoffScript)
	c := chainAgents(e)
	cr := e.start(`{"agent_id":"` + c.triage + `","inputs":"I need a refund","stream":false,"handoff_execution":"client"}`)
	wantTypes(t, "outputs", cr.Outputs, "agent.handoff")
	checkHandoff(t, cr.Outputs[0], c.triage, "Triage", c.billing, "Billing Agent")
	checkSystems(t, e, 0, "triage")
	id := cr.ConversationID

	// The next append runs the agent handed to, which hands off again.
	cr = e.appendTo(id, `{"inputs":"go on","stream":false,"handoff_execution":"client"}`)
	wantTypes(t, "outputs", cr.Outputs, "agent.handoff")
	checkHandoff(t, cr.Outputs[0], c.billing, "Billing Agent", c.specialist, "Specialist")
	checkSystems(t, e, 1, "billing")

	// In server mode from here, the specialist answers.
	cr = e.appendTo(id, `{"inputs":"and now?","stream":false,"handoff_execution":"server"}`)
	wantTypes(t, "outputs", cr.Outputs, "message.output")
	if cr.Outputs[0].str("agent_id") != c.specialist || contentText(cr.Outputs[0]) != "Specialist here: and now?" {
		t.Errorf("answer = %v", cr.Outputs[0])
	}
	checkSystems(t, e, 2, "specialist")
	hist, _ := e.history(id)
	wantTypes(t, "history", hist, "message.input", "agent.handoff", "message.input", "agent.handoff", "message.input", "message.output")
}

// TestHandoffToAgentWithFunction: the agent handed to calls a client
// function; the run stops with function.call, and the result resumes the
// same agent.
func TestHandoffToAgentWithFunction(t *testing.T) {
	e := newEnv(t, handoffScript)
	inv := e.createAgent(`{"model":"m1","name":"Invoice Agent","instructions":"You are invoicing.","tools":[{"type":"function","function":{"name":"lookup_invoice","parameters":{"type":"object","properties":{"number":{"type":"string"}}}}}]}`)
	desk := e.createAgent(`{"model":"m1","name":"Front Desk","instructions":"You are the front desk.","handoffs":["` + inv + `"]}`)
	for _, stream := range []bool{false, true} {
		var id string
		if !stream {
			cr := e.start(`{"agent_id":"` + desk + `","inputs":"my invoice","stream":false}`)
			wantTypes(t, "outputs", cr.Outputs, "agent.handoff", "function.call")
			checkHandoff(t, cr.Outputs[0], desk, "Front Desk", inv, "Invoice Agent")
			fc := cr.Outputs[1]
			if fc.str("name") != "lookup_invoice" || fc.str("tool_call_id") != "call_inv" || fc.str("agent_id") != inv {
				t.Errorf("call = %v", fc)
			}
			id = cr.ConversationID
		} else {
			events := e.stream("/v1/conversations", `{"agent_id":"`+desk+`","inputs":"my invoice","stream":true}`)
			lastDone(t, events)
			last := events[len(events)-2]
			if last.Name != "function.call.delta" || last.str("agent_id") != inv || last.str("name") != "lookup_invoice" {
				t.Errorf("last output event = %s", last.Raw)
			}
			id = events[0].str("conversation_id")
		}
		e.call("POST", "/v1/conversations/"+id, `{"inputs":"hurry","stream":false}`, 409)
		cr := e.appendTo(id, `{"inputs":[`+result("call_inv", "42 EUR")+`],"stream":false}`)
		wantTypes(t, "outputs", cr.Outputs, "message.output")
		if cr.Outputs[0].str("agent_id") != inv || contentText(cr.Outputs[0]) != "Invoice total: 42 EUR" {
			t.Errorf("answer = %v", cr.Outputs[0])
		}
		reqs := e.chats()
		if s := systemOf(reqs[len(reqs)-1]); !strings.Contains(s, "invoicing") {
			t.Errorf("result went to the agent with system prompt %q", s)
		}
		hist, _ := e.history(id)
		wantTypes(t, "history", hist, "message.input", "agent.handoff", "function.call", "function.result", "message.output")
	}
}
