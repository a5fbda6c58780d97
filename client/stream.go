package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"time"
)

// Event names.
const (
	EventResponseStarted      = "conversation.response.started"
	EventResponseDone         = "conversation.response.done"
	EventResponseError        = "conversation.response.error"
	EventMessageOutputDelta   = "message.output.delta"
	EventFunctionCallDelta    = "function.call.delta"
	EventToolExecutionStarted = "tool.execution.started"
	EventToolExecutionDelta   = "tool.execution.delta"
	EventToolExecutionDone    = "tool.execution.done"
	EventAgentHandoffStarted  = "agent.handoff.started"
	EventAgentHandoffDone     = "agent.handoff.done"
)

// Event is one event of a streamed run. Its concrete type is one of the
// *…Event types of this package, or *UnknownEvent. Use a type switch.
type Event interface {
	// EventType is the event's name, e.g. "message.output.delta".
	EventType() string
}

// ResponseStartedEvent opens a stream and names the conversation.
type ResponseStartedEvent struct {
	CreatedAt      time.Time `json:"created_at"`
	ConversationID string    `json:"conversation_id"`
}

// ResponseDoneEvent ends a successful stream.
type ResponseDoneEvent struct {
	CreatedAt time.Time `json:"created_at"`
	Usage     Usage     `json:"usage"`
}

// ResponseErrorEvent ends a stream that failed after it began. The
// iterator also yields it as an *APIError.
type ResponseErrorEvent struct {
	CreatedAt time.Time `json:"created_at"`
	Message   string    `json:"message"`
	Code      int       `json:"code"`
}

// OutputEvent holds the keys of events about one output entry.
type OutputEvent struct {
	CreatedAt time.Time `json:"created_at"`
	// OutputIndex is the entry's position in this run's outputs.
	OutputIndex int `json:"output_index"`
	// ID is the output entry's id.
	ID string `json:"id"`
}

// MessageOutputDeltaEvent is a piece of a message: a text token in Text,
// or a whole chunk (a citation, a file) in Chunk.
type MessageOutputDeltaEvent struct {
	OutputEvent
	ContentIndex int    `json:"content_index"`
	Model        string `json:"model,omitempty"`
	AgentID      string `json:"agent_id,omitempty"`
	Role         string `json:"role,omitempty"`
	Text         string `json:"-"`
	Chunk        *Chunk `json:"-"`
}

// FunctionCallDeltaEvent is a fragment of a function call's arguments.
type FunctionCallDeltaEvent struct {
	OutputEvent
	Name               string `json:"name"`
	ToolCallID         string `json:"tool_call_id"`
	Arguments          string `json:"arguments"`
	Model              string `json:"model,omitempty"`
	AgentID            string `json:"agent_id,omitempty"`
	ConfirmationStatus string `json:"confirmation_status,omitempty"`
}

// ToolExecutionStartedEvent announces a built-in connector's call.
type ToolExecutionStartedEvent struct {
	OutputEvent
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
	Model     string `json:"model,omitempty"`
	AgentID   string `json:"agent_id,omitempty"`
}

// ToolExecutionDeltaEvent is a fragment of a connector call's arguments.
type ToolExecutionDeltaEvent struct {
	OutputEvent
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// ToolExecutionDoneEvent reports a connector call's outcome.
type ToolExecutionDoneEvent struct {
	OutputEvent
	Name string          `json:"name"`
	Info json.RawMessage `json:"info,omitempty"`
}

// AgentHandoffStartedEvent announces a handoff.
type AgentHandoffStartedEvent struct {
	OutputEvent
	PreviousAgentID   string `json:"previous_agent_id"`
	PreviousAgentName string `json:"previous_agent_name"`
}

// AgentHandoffDoneEvent completes a handoff.
type AgentHandoffDoneEvent struct {
	OutputEvent
	NextAgentID   string `json:"next_agent_id"`
	NextAgentName string `json:"next_agent_name"`
}

// UnknownEvent is an event this client does not know.
type UnknownEvent struct {
	Type string
	Data json.RawMessage
}

// EventType implements Event.
func (*ResponseStartedEvent) EventType() string { return EventResponseStarted }

// EventType implements Event.
func (*ResponseDoneEvent) EventType() string { return EventResponseDone }

// EventType implements Event.
func (*ResponseErrorEvent) EventType() string { return EventResponseError }

// EventType implements Event.
func (*MessageOutputDeltaEvent) EventType() string { return EventMessageOutputDelta }

// EventType implements Event.
func (*FunctionCallDeltaEvent) EventType() string { return EventFunctionCallDelta }

// EventType implements Event.
func (*ToolExecutionStartedEvent) EventType() string { return EventToolExecutionStarted }

// EventType implements Event.
func (*ToolExecutionDeltaEvent) EventType() string { return EventToolExecutionDelta }

// EventType implements Event.
func (*ToolExecutionDoneEvent) EventType() string { return EventToolExecutionDone }

// EventType implements Event.
func (*AgentHandoffStartedEvent) EventType() string { return EventAgentHandoffStarted }

// EventType implements Event.
func (*AgentHandoffDoneEvent) EventType() string { return EventAgentHandoffDone }

// EventType implements Event.
func (e *UnknownEvent) EventType() string { return e.Type }

// DecodeEvent parses one event's data; name is the SSE event name (the
// data's "type" wins when present).
func DecodeEvent(name string, data []byte) (Event, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("client: bad event data: %w", err)
	}
	if head.Type != "" {
		name = head.Type
	}
	var ev Event
	switch name {
	case EventResponseStarted:
		ev = &ResponseStartedEvent{}
	case EventResponseDone:
		ev = &ResponseDoneEvent{}
	case EventResponseError:
		ev = &ResponseErrorEvent{}
	case EventMessageOutputDelta:
		d := &MessageOutputDeltaEvent{}
		var w struct {
			Content json.RawMessage `json:"content"`
		}
		if err := json.Unmarshal(data, &w); err != nil {
			return nil, err
		}
		if c := bytes.TrimSpace(w.Content); len(c) > 0 && c[0] == '{' {
			d.Chunk = &Chunk{}
			if err := json.Unmarshal(c, d.Chunk); err != nil {
				return nil, err
			}
		} else if len(c) > 0 {
			_ = json.Unmarshal(c, &d.Text)
		}
		ev = d
	case EventFunctionCallDelta:
		ev = &FunctionCallDeltaEvent{}
	case EventToolExecutionStarted:
		ev = &ToolExecutionStartedEvent{}
	case EventToolExecutionDelta:
		ev = &ToolExecutionDeltaEvent{}
	case EventToolExecutionDone:
		ev = &ToolExecutionDoneEvent{}
	case EventAgentHandoffStarted:
		ev = &AgentHandoffStartedEvent{}
	case EventAgentHandoffDone:
		ev = &AgentHandoffDoneEvent{}
	default:
		return &UnknownEvent{Type: name, Data: append(json.RawMessage(nil), data...)}, nil
	}
	if err := json.Unmarshal(data, ev); err != nil {
		return nil, fmt.Errorf("client: decoding %s: %w", name, err)
	}
	return ev, nil
}

// stream posts body and yields the response's events. Errors before the
// stream begins (retried as configured) come first and alone; a
// conversation.response.error event is yielded, then its *APIError.
func (c *Client) stream(ctx context.Context, path string, body any) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		resp, err := c.send(ctx, request{method: "POST", path: path, body: body, accept: "text/event-stream"})
		if err != nil {
			yield(nil, err)
			return
		}
		defer resp.Body.Close()
		ended := false
		for ev, err := range readSSE(resp.Body) {
			if err != nil {
				if ctx.Err() != nil {
					err = ctx.Err()
				}
				yield(nil, err)
				return
			}
			if !yield(ev, nil) {
				return
			}
			switch e := ev.(type) {
			case *ResponseErrorEvent:
				yield(nil, &APIError{Status: e.Code, Message: e.Message, Type: "stream_error"})
				return
			case *ResponseDoneEvent:
				ended = true
			}
		}
		if !ended {
			err := ctx.Err()
			if err == nil {
				err = fmt.Errorf("client: the stream ended before conversation.response.done: %w", io.ErrUnexpectedEOF)
			}
			yield(nil, err)
		}
	}
}

// readSSE parses a conversation stream's Server-Sent Events from r.
func readSSE(r io.Reader) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		for f, err := range sseFrames(r) {
			if err != nil {
				yield(nil, err)
				return
			}
			ev, err := DecodeEvent(f.name, f.data)
			if !yield(ev, err) || err != nil {
				return
			}
		}
	}
}

// sseFrame is one Server-Sent Event: its name and its data lines joined.
type sseFrame struct {
	name string
	data []byte
}

// sseFrames splits r into events; comments and events without data are
// skipped.
func sseFrames(r io.Reader) iter.Seq2[sseFrame, error] {
	return func(yield func(sseFrame, error) bool) {
		br := bufio.NewReaderSize(r, 64<<10)
		var name string
		var data bytes.Buffer
		dispatch := func() bool {
			defer func() { name = ""; data.Reset() }()
			if data.Len() == 0 {
				return true
			}
			return yield(sseFrame{name: name, data: bytes.Clone(data.Bytes())}, nil)
		}
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				line = bytes.TrimRight(line, "\r\n")
				switch {
				case len(line) == 0:
					if !dispatch() {
						return
					}
				case line[0] == ':':
					// comment (keep-alive)
				default:
					field, value, _ := bytes.Cut(line, []byte(":"))
					value = bytes.TrimPrefix(value, []byte(" "))
					switch string(field) {
					case "event":
						name = string(value)
					case "data":
						if data.Len() > 0 {
							data.WriteByte('\n')
						}
						data.Write(value)
					}
				}
			}
			if err == io.EOF {
				dispatch()
				return
			}
			if err != nil {
				yield(sseFrame{}, err)
				return
			}
		}
	}
}
