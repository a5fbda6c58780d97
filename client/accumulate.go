package client

import "strings"

// Accumulator rebuilds a run's response from its streamed events, the way
// a non-streaming call would have returned it. Feed it every event with
// Add; Response returns the result so far.
type Accumulator struct {
	resp    ConversationResponse
	byIndex map[int]Entry
	args    map[int]*strings.Builder
	order   []int
}

// Add records one event.
func (a *Accumulator) Add(ev Event) {
	if a.byIndex == nil {
		a.byIndex = map[int]Entry{}
		a.args = map[int]*strings.Builder{}
	}
	switch e := ev.(type) {
	case *ResponseStartedEvent:
		a.resp.ConversationID = e.ConversationID
	case *ResponseDoneEvent:
		a.resp.Usage = e.Usage
	case *MessageOutputDeltaEvent:
		m, ok := a.byIndex[e.OutputIndex].(*MessageOutputEntry)
		if !ok {
			m = &MessageOutputEntry{EntryMeta: EntryMeta{ID: e.ID, CreatedAt: e.CreatedAt}, Role: "assistant", AgentID: e.AgentID, Model: e.Model}
			a.put(e.OutputIndex, m)
		}
		appendContent(&m.Content, e)
	case *FunctionCallDeltaEvent:
		fc, ok := a.byIndex[e.OutputIndex].(*FunctionCallEntry)
		if !ok {
			fc = &FunctionCallEntry{EntryMeta: EntryMeta{ID: e.ID, CreatedAt: e.CreatedAt}, ToolCallID: e.ToolCallID, Name: e.Name,
				AgentID: e.AgentID, Model: e.Model, ConfirmationStatus: e.ConfirmationStatus}
			a.put(e.OutputIndex, fc)
		}
		b := a.args[e.OutputIndex]
		b.WriteString(e.Arguments)
		fc.Arguments = b.String()
	case *ToolExecutionStartedEvent:
		te := &ToolExecutionEntry{EntryMeta: EntryMeta{ID: e.ID, CreatedAt: e.CreatedAt}, Name: e.Name, Arguments: e.Arguments, AgentID: e.AgentID, Model: e.Model}
		a.put(e.OutputIndex, te)
		a.args[e.OutputIndex].WriteString(e.Arguments)
	case *ToolExecutionDeltaEvent:
		if te, ok := a.byIndex[e.OutputIndex].(*ToolExecutionEntry); ok {
			b := a.args[e.OutputIndex]
			b.WriteString(e.Arguments)
			te.Arguments = b.String()
		}
	case *ToolExecutionDoneEvent:
		te, ok := a.byIndex[e.OutputIndex].(*ToolExecutionEntry)
		if !ok {
			te = &ToolExecutionEntry{EntryMeta: EntryMeta{ID: e.ID, CreatedAt: e.CreatedAt}, Name: e.Name}
			a.put(e.OutputIndex, te)
		}
		te.Info = e.Info
	case *AgentHandoffStartedEvent:
		a.put(e.OutputIndex, &AgentHandoffEntry{EntryMeta: EntryMeta{ID: e.ID, CreatedAt: e.CreatedAt},
			PreviousAgentID: e.PreviousAgentID, PreviousAgentName: e.PreviousAgentName})
	case *AgentHandoffDoneEvent:
		if h, ok := a.byIndex[e.OutputIndex].(*AgentHandoffEntry); ok {
			h.NextAgentID, h.NextAgentName = e.NextAgentID, e.NextAgentName
		}
	}
}

func (a *Accumulator) put(i int, e Entry) {
	if _, seen := a.byIndex[i]; !seen {
		a.order = append(a.order, i)
	}
	a.byIndex[i] = e
	a.args[i] = &strings.Builder{}
}

// appendContent adds a delta: text tokens join the last text chunk (or the
// plain text); a chunk object turns the content into a chunk list.
func appendContent(c *Content, e *MessageOutputDeltaEvent) {
	if e.Chunk == nil {
		if c.Chunks == nil {
			c.Text += e.Text
			return
		}
		if n := len(c.Chunks); n > 0 && c.Chunks[n-1].Type == "text" {
			c.Chunks[n-1].Text += e.Text
			return
		}
		c.Chunks = append(c.Chunks, Chunk{Type: "text", Text: e.Text})
		return
	}
	if c.Chunks == nil {
		c.Chunks = []Chunk{}
		if c.Text != "" {
			c.Chunks = append(c.Chunks, Chunk{Type: "text", Text: c.Text})
		}
		c.Text = ""
	}
	if e.Chunk.Type == "text" {
		if n := len(c.Chunks); n > 0 && c.Chunks[n-1].Type == "text" {
			c.Chunks[n-1].Text += e.Chunk.Text
			return
		}
	}
	c.Chunks = append(c.Chunks, *e.Chunk)
}

// Response returns the response built so far.
func (a *Accumulator) Response() *ConversationResponse {
	r := a.resp
	r.Object = "conversation.response"
	r.Outputs = make(Entries, 0, len(a.order))
	for _, i := range a.order {
		r.Outputs = append(r.Outputs, a.byIndex[i])
	}
	return &r
}
