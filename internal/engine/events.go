// Package engine runs conversations: the loop model ⇄ tools ⇄ handoffs.
// One code path serves streaming and non-streaming calls: the engine
// writes events to a Sink; the SSE writer is one sink, and Collector, which
// rebuilds the non-streaming response from the same events, is another.
package engine

import (
	"encoding/json"
	"time"

	"github.com/tramontane/tramontane/internal/conversation"
)

// Event is one streamed event. Type is also the SSE event name; Data is
// marshalled as the data line and carries "type" too.
type Event struct {
	Type string
	Data any
	// Entry is set on the internal "entry completed" notification (Type
	// EntryDone), which is never sent on the wire.
	Entry *conversation.Entry
}

// Event names.
const (
	ResponseStarted = "conversation.response.started"
	ResponseDone    = "conversation.response.done"
	ResponseError   = "conversation.response.error"
	MessageDelta    = "message.output.delta"
	FunctionDelta   = "function.call.delta"
	ToolStarted     = "tool.execution.started"
	ToolDelta       = "tool.execution.delta"
	ToolDone        = "tool.execution.done"
	HandoffStarted  = "agent.handoff.started"
	HandoffDone     = "agent.handoff.done"
	// EntryDone tells sinks that an output entry is complete (not sent).
	EntryDone = "entry.done"
	// Ping asks the SSE writer for a keep-alive comment (not an event).
	Ping = "ping"
)

// Sink receives a run's events in order. An error from Emit (the client
// went away) cancels the run.
type Sink interface {
	Emit(ev Event) error
}

// Announcer is implemented by sinks that send the conversation id to the
// client before the run ends (an SSE stream sends it in its first event).
// For them a new conversation is committed with its inputs before the id
// goes out, so that an id a client holds is never a 404, not even after a
// crash.
type Announcer interface {
	AnnouncesEarly() bool
}

type startedData struct {
	Type           string    `json:"type"`
	CreatedAt      time.Time `json:"created_at"`
	ConversationID string    `json:"conversation_id"`
}

type doneData struct {
	Type      string             `json:"type"`
	CreatedAt time.Time          `json:"created_at"`
	Usage     conversation.Usage `json:"usage"`
}

type errorData struct {
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Message   string    `json:"message"`
	Code      int       `json:"code"`
}

type messageDelta struct {
	Type         string          `json:"type"`
	CreatedAt    time.Time       `json:"created_at"`
	OutputIndex  int             `json:"output_index"`
	ID           string          `json:"id"`
	ContentIndex int             `json:"content_index"`
	Model        *string         `json:"model"`
	AgentID      *string         `json:"agent_id"`
	Role         string          `json:"role"`
	Content      json.RawMessage `json:"content"`
}

type functionDelta struct {
	Type               string    `json:"type"`
	CreatedAt          time.Time `json:"created_at"`
	OutputIndex        int       `json:"output_index"`
	ID                 string    `json:"id"`
	Name               string    `json:"name"`
	ToolCallID         string    `json:"tool_call_id"`
	Arguments          string    `json:"arguments"`
	Model              *string   `json:"model"`
	AgentID            *string   `json:"agent_id"`
	ConfirmationStatus *string   `json:"confirmation_status"`
}

type toolStarted struct {
	Type        string    `json:"type"`
	CreatedAt   time.Time `json:"created_at"`
	OutputIndex int       `json:"output_index"`
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Arguments   string    `json:"arguments"`
	Model       *string   `json:"model"`
	AgentID     *string   `json:"agent_id"`
}

type toolDelta struct {
	Type        string    `json:"type"`
	CreatedAt   time.Time `json:"created_at"`
	OutputIndex int       `json:"output_index"`
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Arguments   string    `json:"arguments"`
}

type toolDone struct {
	Type        string          `json:"type"`
	CreatedAt   time.Time       `json:"created_at"`
	OutputIndex int             `json:"output_index"`
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Info        json.RawMessage `json:"info"`
}

type handoffStarted struct {
	Type              string    `json:"type"`
	CreatedAt         time.Time `json:"created_at"`
	OutputIndex       int       `json:"output_index"`
	ID                string    `json:"id"`
	PreviousAgentID   string    `json:"previous_agent_id"`
	PreviousAgentName string    `json:"previous_agent_name"`
}

type handoffDone struct {
	Type          string    `json:"type"`
	CreatedAt     time.Time `json:"created_at"`
	OutputIndex   int       `json:"output_index"`
	ID            string    `json:"id"`
	NextAgentID   string    `json:"next_agent_id"`
	NextAgentName string    `json:"next_agent_name"`
}

// Collector is the sink of a non-streaming call: it keeps the completed
// output entries and the final usage.
type Collector struct {
	ConversationID string
	Outputs        []conversation.Entry
	Usage          conversation.Usage
}

// Emit records what the response needs.
func (c *Collector) Emit(ev Event) error {
	switch ev.Type {
	case ResponseStarted:
		c.ConversationID = ev.Data.(startedData).ConversationID
	case EntryDone:
		c.Outputs = append(c.Outputs, *ev.Entry)
	case ResponseDone:
		c.Usage = ev.Data.(doneData).Usage
	}
	return nil
}

// Response builds the ConversationResponse.
func (c *Collector) Response() conversation.Response {
	out := c.Outputs
	if out == nil {
		out = []conversation.Entry{}
	}
	return conversation.Response{Object: "conversation.response", ConversationID: c.ConversationID, Outputs: out, Usage: c.Usage}
}

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ErrorData is the data of a conversation.response.error event.
func ErrorData(message string, code int) any {
	return errorData{Type: ResponseError, CreatedAt: time.Now().UTC(), Message: message, Code: code}
}
