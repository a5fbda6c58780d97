package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Entry types.
const (
	TypeMessageInput   = "message.input"
	TypeMessageOutput  = "message.output"
	TypeFunctionCall   = "function.call"
	TypeFunctionResult = "function.result"
	TypeToolExecution  = "tool.execution"
	TypeAgentHandoff   = "agent.handoff"
)

// Entry is one item of a conversation. Its concrete type is one of
// *MessageInputEntry, *MessageOutputEntry, *FunctionCallEntry,
// *FunctionResultEntry, *ToolExecutionEntry, *AgentHandoffEntry, or
// *RawEntry for a type this client does not know. Use a type switch.
type Entry interface {
	// EntryType is the entry's "type", e.g. "message.output".
	EntryType() string
	// EntryID is the entry's id ("" on inputs not yet sent).
	EntryID() string
	isEntry()
}

// EntryMeta holds the keys every entry has.
type EntryMeta struct {
	ID          string     `json:"id,omitempty"`
	CreatedAt   time.Time  `json:"created_at,omitzero"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
}

// EntryID returns the entry's id.
func (m EntryMeta) EntryID() string { return m.ID }
func (EntryMeta) isEntry()          {}

// MessageInputEntry is a message the user (or an assistant prefix) adds.
type MessageInputEntry struct {
	EntryMeta
	Role    string  `json:"role"`
	Content Content `json:"content"`
	Prefix  bool    `json:"prefix"`
}

// MessageOutputEntry is a message the model wrote.
type MessageOutputEntry struct {
	EntryMeta
	Role    string  `json:"role,omitempty"`
	Content Content `json:"content"`
	AgentID string  `json:"agent_id,omitempty"`
	Model   string  `json:"model,omitempty"`
}

// FunctionCallEntry is a call of a client-side function (or a tool call
// awaiting confirmation, when ConfirmationStatus is "pending").
type FunctionCallEntry struct {
	EntryMeta
	ToolCallID string `json:"tool_call_id"`
	Name       string `json:"name"`
	// Arguments is JSON text.
	Arguments          string `json:"arguments"`
	AgentID            string `json:"agent_id,omitempty"`
	Model              string `json:"model,omitempty"`
	ConfirmationStatus string `json:"confirmation_status,omitempty"`
}

// FunctionResultEntry answers a FunctionCallEntry.
type FunctionResultEntry struct {
	EntryMeta
	ToolCallID string `json:"tool_call_id"`
	Result     string `json:"result"`
}

// ToolExecutionEntry is a built-in connector the server ran.
type ToolExecutionEntry struct {
	EntryMeta
	Name string `json:"name"`
	// Arguments is JSON text.
	Arguments string `json:"arguments"`
	// Info is the tool's own report (e.g. code and its output).
	Info    json.RawMessage `json:"info,omitempty"`
	AgentID string          `json:"agent_id,omitempty"`
	Model   string          `json:"model,omitempty"`
}

// AgentHandoffEntry records that one agent handed the conversation over to
// another.
type AgentHandoffEntry struct {
	EntryMeta
	PreviousAgentID   string `json:"previous_agent_id"`
	PreviousAgentName string `json:"previous_agent_name"`
	NextAgentID       string `json:"next_agent_id"`
	NextAgentName     string `json:"next_agent_name"`
}

// RawEntry is an entry of a type this client does not know, kept whole.
type RawEntry struct {
	EntryMeta
	Type string
	// JSON is the entry as received.
	JSON json.RawMessage
}

// EntryType implements Entry.
func (*MessageInputEntry) EntryType() string { return TypeMessageInput }

// EntryType implements Entry.
func (*MessageOutputEntry) EntryType() string { return TypeMessageOutput }

// EntryType implements Entry.
func (*FunctionCallEntry) EntryType() string { return TypeFunctionCall }

// EntryType implements Entry.
func (*FunctionResultEntry) EntryType() string { return TypeFunctionResult }

// EntryType implements Entry.
func (*ToolExecutionEntry) EntryType() string { return TypeToolExecution }

// EntryType implements Entry.
func (*AgentHandoffEntry) EntryType() string { return TypeAgentHandoff }

// EntryType implements Entry.
func (e *RawEntry) EntryType() string { return e.Type }

// marshalEntry writes v's fields after "object" and "type".
func marshalEntry(typ string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	head := fmt.Sprintf(`{"object":"entry","type":%q`, typ)
	if len(b) <= 2 {
		return []byte(head + "}"), nil
	}
	return append([]byte(head+","), b[1:]...), nil
}

// MarshalJSON adds "object" and "type".
func (e *MessageInputEntry) MarshalJSON() ([]byte, error) {
	type plain MessageInputEntry
	p := plain(*e)
	if p.Role == "" {
		p.Role = "user"
	}
	return marshalEntry(TypeMessageInput, p)
}

// MarshalJSON adds "object" and "type".
func (e *MessageOutputEntry) MarshalJSON() ([]byte, error) {
	type plain MessageOutputEntry
	return marshalEntry(TypeMessageOutput, plain(*e))
}

// MarshalJSON adds "object" and "type".
func (e *FunctionCallEntry) MarshalJSON() ([]byte, error) {
	type plain FunctionCallEntry
	return marshalEntry(TypeFunctionCall, plain(*e))
}

// MarshalJSON adds "object" and "type".
func (e *FunctionResultEntry) MarshalJSON() ([]byte, error) {
	type plain FunctionResultEntry
	return marshalEntry(TypeFunctionResult, plain(*e))
}

// MarshalJSON adds "object" and "type".
func (e *ToolExecutionEntry) MarshalJSON() ([]byte, error) {
	type plain ToolExecutionEntry
	return marshalEntry(TypeToolExecution, plain(*e))
}

// MarshalJSON adds "object" and "type".
func (e *AgentHandoffEntry) MarshalJSON() ([]byte, error) {
	type plain AgentHandoffEntry
	return marshalEntry(TypeAgentHandoff, plain(*e))
}

// MarshalJSON writes the entry as received.
func (e *RawEntry) MarshalJSON() ([]byte, error) { return e.JSON, nil }

// DecodeEntry parses one entry; an unknown type gives a *RawEntry.
func DecodeEntry(data []byte) (Entry, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, err
	}
	var e Entry
	switch head.Type {
	case TypeMessageInput:
		e = &MessageInputEntry{}
	case TypeMessageOutput:
		e = &MessageOutputEntry{}
	case TypeFunctionCall:
		e = &FunctionCallEntry{}
	case TypeFunctionResult:
		e = &FunctionResultEntry{}
	case TypeToolExecution:
		e = &ToolExecutionEntry{}
	case TypeAgentHandoff:
		e = &AgentHandoffEntry{}
	default:
		r := &RawEntry{Type: head.Type, JSON: append(json.RawMessage(nil), data...)}
		_ = json.Unmarshal(data, &r.EntryMeta)
		return r, nil
	}
	// Decode through a method-less alias so UnmarshalJSON does not recurse.
	if err := unmarshalEntry(data, e); err != nil {
		return nil, fmt.Errorf("client: decoding a %s entry: %w", head.Type, err)
	}
	return e, nil
}

func unmarshalEntry(data []byte, e Entry) error {
	switch v := e.(type) {
	case *MessageInputEntry:
		type plain MessageInputEntry
		return json.Unmarshal(data, (*plain)(v))
	case *MessageOutputEntry:
		type plain MessageOutputEntry
		return json.Unmarshal(data, (*plain)(v))
	case *FunctionCallEntry:
		type plain FunctionCallEntry
		var w struct {
			*plain
			Arguments json.RawMessage `json:"arguments"`
		}
		w.plain = (*plain)(v)
		if err := json.Unmarshal(data, &w); err != nil {
			return err
		}
		v.Arguments = argumentsText(w.Arguments)
		return nil
	case *FunctionResultEntry:
		type plain FunctionResultEntry
		return json.Unmarshal(data, (*plain)(v))
	case *ToolExecutionEntry:
		type plain ToolExecutionEntry
		var w struct {
			*plain
			Arguments json.RawMessage `json:"arguments"`
		}
		w.plain = (*plain)(v)
		if err := json.Unmarshal(data, &w); err != nil {
			return err
		}
		v.Arguments = argumentsText(w.Arguments)
		return nil
	case *AgentHandoffEntry:
		type plain AgentHandoffEntry
		return json.Unmarshal(data, (*plain)(v))
	}
	return nil
}

// argumentsText accepts arguments as a JSON string or a JSON value.
func argumentsText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return string(raw)
}

// Entries is a list of entries that decodes each item by its type.
type Entries []Entry

// UnmarshalJSON decodes each entry by its type.
func (es *Entries) UnmarshalJSON(data []byte) error {
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return err
	}
	out := make(Entries, 0, len(raws))
	for _, r := range raws {
		e, err := DecodeEntry(r)
		if err != nil {
			return err
		}
		out = append(out, e)
	}
	*es = out
	return nil
}

// Content is a message's content: plain text, or a list of chunks (text,
// citations, files, images, ...). When Chunks is nil the content is Text.
type Content struct {
	Text   string
	Chunks []Chunk
}

// Text returns plain-text content.
func Text(s string) Content { return Content{Text: s} }

// String returns the text of the content: Text, or the text chunks joined.
func (c Content) String() string {
	if c.Chunks == nil {
		return c.Text
	}
	var b strings.Builder
	for _, ch := range c.Chunks {
		if ch.Type == "text" {
			b.WriteString(ch.Text)
		}
	}
	return b.String()
}

// References returns the content's tool_reference chunks (citations).
func (c Content) References() []Chunk {
	var out []Chunk
	for _, ch := range c.Chunks {
		if ch.Type == "tool_reference" {
			out = append(out, ch)
		}
	}
	return out
}

// MarshalJSON writes a string or a chunk list.
func (c Content) MarshalJSON() ([]byte, error) {
	if c.Chunks == nil {
		return json.Marshal(c.Text)
	}
	return json.Marshal(c.Chunks)
}

// UnmarshalJSON reads a string or a chunk list.
func (c *Content) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	*c = Content{}
	if len(data) == 0 || string(data) == "null" {
		return nil
	}
	if data[0] == '"' {
		return json.Unmarshal(data, &c.Text)
	}
	c.Chunks = []Chunk{}
	return json.Unmarshal(data, &c.Chunks)
}

// Chunk is one part of a message's content. Type says which fields are
// meaningful: "text" (Text), "image_url" (ImageURL), "document_url"
// (DocumentURL, DocumentName), "tool_file" (Tool, FileID, FileName,
// FileType), "tool_reference" (Tool, Title, URL, Favicon, Description),
// "thinking" (Thinking). Raw keeps the chunk as received.
type Chunk struct {
	Type         string          `json:"type"`
	Text         string          `json:"text,omitempty"`
	ImageURL     json.RawMessage `json:"image_url,omitempty"`
	DocumentURL  string          `json:"document_url,omitempty"`
	DocumentName string          `json:"document_name,omitempty"`
	Tool         string          `json:"tool,omitempty"`
	FileID       string          `json:"file_id,omitempty"`
	FileName     string          `json:"file_name,omitempty"`
	FileType     string          `json:"file_type,omitempty"`
	Title        string          `json:"title,omitempty"`
	URL          string          `json:"url,omitempty"`
	Favicon      string          `json:"favicon,omitempty"`
	Description  string          `json:"description,omitempty"`
	Thinking     json.RawMessage `json:"thinking,omitempty"`
	Raw          json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw chunk beside its fields.
func (c *Chunk) UnmarshalJSON(data []byte) error {
	type plain Chunk
	if err := json.Unmarshal(data, (*plain)(c)); err != nil {
		return err
	}
	c.Raw = append(json.RawMessage(nil), data...)
	return nil
}

// MarshalJSON writes the chunk; a text chunk always carries "text".
func (c Chunk) MarshalJSON() ([]byte, error) {
	type plain Chunk
	if c.Type == "text" {
		return json.Marshal(struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}{c.Type, c.Text})
	}
	return json.Marshal(plain(c))
}
