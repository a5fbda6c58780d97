// Package conversation holds the wire shapes of conversations and their
// entries, the validation of client inputs, and the conversion between
// stored rows and the wire.
package conversation

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
)

// Entry types.
const (
	MessageInput   = "message.input"
	MessageOutput  = "message.output"
	FunctionCall   = "function.call"
	FunctionResult = "function.result"
	ToolExecution  = "tool.execution"
	AgentHandoff   = "agent.handoff"
)

// Confirmation statuses of a function.call awaiting the user's approval.
const (
	ConfirmPending = "pending"
	ConfirmAllowed = "allowed"
	ConfirmDenied  = "denied"
)

// Entry is one conversation event. Which fields are meaningful depends on
// Type; MarshalJSON emits exactly the keys of that type.
type Entry struct {
	Type        string
	ID          string
	CreatedAt   time.Time
	CompletedAt *time.Time

	// message.input / message.output
	Role    string
	Content json.RawMessage // a JSON string or a list of chunks
	Prefix  bool
	AgentID string
	Model   string

	// function.call / function.result
	ToolCallID         string
	Name               string // function.call, tool.execution
	Arguments          string // JSON text
	ConfirmationStatus string
	Result             string

	// tool.execution
	Info json.RawMessage

	// agent.handoff
	PreviousAgentID, PreviousAgentName string
	NextAgentID, NextAgentName         string

	// ForModel is what the model read as a tool.execution's result. It is
	// stored (see Encode) but never sent to clients.
	ForModel string
	// ServerSide marks a function.call awaiting confirmation whose tool runs
	// on the server (a connector's), so that once allowed it is answered by
	// a tool.execution, not by the client. Stored, never sent.
	ServerSide bool
}

type private struct {
	ForModel   string `json:"for_model,omitempty"`
	ServerSide bool   `json:"server_side,omitempty"`
}

// Encode returns the stored form of e: its wire JSON plus the private
// fields under "_tramontane".
func Encode(e *Entry) ([]byte, error) {
	// MarshalJSON's output is already compact: calling it directly saves
	// json.Marshal's second pass over it (same bytes).
	b, err := e.MarshalJSON()
	if err != nil || e.ForModel == "" && !e.ServerSide {
		return b, err
	}
	p, err := json.Marshal(private{ForModel: e.ForModel, ServerSide: e.ServerSide})
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(b)+len(p)+20)
	out = append(out, b[:len(b)-1]...)
	out = append(out, `,"_tramontane":`...)
	out = append(out, p...)
	out = append(out, '}')
	return out, nil
}

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// MarshalJSON writes the entry's wire shape.
func (e Entry) MarshalJSON() ([]byte, error) {
	base := struct {
		Object      string     `json:"object"`
		Type        string     `json:"type"`
		ID          string     `json:"id"`
		CreatedAt   time.Time  `json:"created_at"`
		CompletedAt *time.Time `json:"completed_at"`
	}{"entry", e.Type, e.ID, e.CreatedAt, e.CompletedAt}
	var v any
	switch e.Type {
	case MessageInput:
		v = struct {
			typeBase
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
			Prefix  bool            `json:"prefix"`
		}{typeBase(base), e.Role, content(e.Content), e.Prefix}
	case MessageOutput:
		v = struct {
			typeBase
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
			AgentID *string         `json:"agent_id"`
			Model   *string         `json:"model"`
		}{typeBase(base), "assistant", content(e.Content), optStr(e.AgentID), optStr(e.Model)}
	case FunctionCall:
		v = struct {
			typeBase
			ToolCallID         string  `json:"tool_call_id"`
			Name               string  `json:"name"`
			Arguments          string  `json:"arguments"`
			AgentID            *string `json:"agent_id"`
			Model              *string `json:"model"`
			ConfirmationStatus *string `json:"confirmation_status"`
		}{typeBase(base), e.ToolCallID, e.Name, e.Arguments, optStr(e.AgentID), optStr(e.Model), optStr(e.ConfirmationStatus)}
	case FunctionResult:
		v = struct {
			typeBase
			ToolCallID string `json:"tool_call_id"`
			Result     string `json:"result"`
		}{typeBase(base), e.ToolCallID, e.Result}
	case ToolExecution:
		info := e.Info
		if len(info) == 0 || string(info) == "null" {
			info = json.RawMessage(`{}`)
		}
		v = struct {
			typeBase
			Name      string          `json:"name"`
			Arguments string          `json:"arguments"`
			Info      json.RawMessage `json:"info"`
			AgentID   *string         `json:"agent_id"`
			Model     *string         `json:"model"`
		}{typeBase(base), e.Name, e.Arguments, info, optStr(e.AgentID), optStr(e.Model)}
	case AgentHandoff:
		v = struct {
			typeBase
			PreviousAgentID   string `json:"previous_agent_id"`
			PreviousAgentName string `json:"previous_agent_name"`
			NextAgentID       string `json:"next_agent_id"`
			NextAgentName     string `json:"next_agent_name"`
		}{typeBase(base), e.PreviousAgentID, e.PreviousAgentName, e.NextAgentID, e.NextAgentName}
	default:
		return nil, fmt.Errorf("conversation: unknown entry type %q", e.Type)
	}
	return json.Marshal(v)
}

type typeBase struct {
	Object      string     `json:"object"`
	Type        string     `json:"type"`
	ID          string     `json:"id"`
	CreatedAt   time.Time  `json:"created_at"`
	CompletedAt *time.Time `json:"completed_at"`
}

func content(c json.RawMessage) json.RawMessage {
	if len(c) == 0 {
		return json.RawMessage(`""`)
	}
	return c
}

// wireEntry is the union of every entry's keys, for decoding.
type wireEntry struct {
	Object             *string         `json:"object"`
	Type               *string         `json:"type"`
	ID                 *string         `json:"id"`
	CreatedAt          *time.Time      `json:"created_at"`
	CompletedAt        *time.Time      `json:"completed_at"`
	Role               *string         `json:"role"`
	Content            json.RawMessage `json:"content"`
	Prefix             *bool           `json:"prefix"`
	AgentID            *string         `json:"agent_id"`
	Model              *string         `json:"model"`
	ToolCallID         *string         `json:"tool_call_id"`
	Name               *string         `json:"name"`
	Arguments          json.RawMessage `json:"arguments"`
	ConfirmationStatus *string         `json:"confirmation_status"`
	Result             *string         `json:"result"`
	Info               json.RawMessage `json:"info"`
	PreviousAgentID    *string         `json:"previous_agent_id"`
	PreviousAgentName  *string         `json:"previous_agent_name"`
	NextAgentID        *string         `json:"next_agent_id"`
	NextAgentName      *string         `json:"next_agent_name"`
	Private            *private        `json:"_tramontane"`
}

func s(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// storedEntry is the shape Decode reads. Unlike wireEntry (which tells
// absent keys from empty ones, for validating client input), its fields
// are plain values: stored bodies were written by Encode, and a null or
// absent key means the zero value either way. That saves an allocation per
// field on every history load.
type storedEntry struct {
	Type               string          `json:"type"`
	ID                 string          `json:"id"`
	CreatedAt          time.Time       `json:"created_at"`
	CompletedAt        *time.Time      `json:"completed_at"`
	Role               string          `json:"role"`
	Content            json.RawMessage `json:"content"`
	Prefix             bool            `json:"prefix"`
	AgentID            string          `json:"agent_id"`
	Model              string          `json:"model"`
	ToolCallID         string          `json:"tool_call_id"`
	Name               string          `json:"name"`
	Arguments          json.RawMessage `json:"arguments"`
	ConfirmationStatus string          `json:"confirmation_status"`
	Result             string          `json:"result"`
	Info               json.RawMessage `json:"info"`
	PreviousAgentID    string          `json:"previous_agent_id"`
	PreviousAgentName  string          `json:"previous_agent_name"`
	NextAgentID        string          `json:"next_agent_id"`
	NextAgentName      string          `json:"next_agent_name"`
	Private            private         `json:"_tramontane"`
}

// Decode parses a stored entry body.
func Decode(body []byte) (*Entry, error) {
	var w storedEntry
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, err
	}
	return &Entry{
		Type: w.Type, ID: w.ID, CreatedAt: w.CreatedAt, CompletedAt: w.CompletedAt, Role: w.Role,
		Content: w.Content, Prefix: w.Prefix, AgentID: w.AgentID, Model: w.Model,
		ToolCallID: w.ToolCallID, Name: w.Name, Arguments: argumentsText(w.Arguments),
		ConfirmationStatus: w.ConfirmationStatus, Result: w.Result, Info: w.Info,
		PreviousAgentID: w.PreviousAgentID, PreviousAgentName: w.PreviousAgentName,
		NextAgentID: w.NextAgentID, NextAgentName: w.NextAgentName,
		ForModel: w.Private.ForModel, ServerSide: w.Private.ServerSide,
	}, nil
}

func fromWire(w *wireEntry) Entry {
	e := Entry{
		Type: s(w.Type), ID: s(w.ID), CompletedAt: w.CompletedAt, Role: s(w.Role),
		Content: w.Content, AgentID: s(w.AgentID), Model: s(w.Model),
		ToolCallID: s(w.ToolCallID), Name: s(w.Name), ConfirmationStatus: s(w.ConfirmationStatus),
		Result: s(w.Result), Info: w.Info,
		PreviousAgentID: s(w.PreviousAgentID), PreviousAgentName: s(w.PreviousAgentName),
		NextAgentID: s(w.NextAgentID), NextAgentName: s(w.NextAgentName),
	}
	if w.CreatedAt != nil {
		e.CreatedAt = *w.CreatedAt
	}
	if w.Prefix != nil {
		e.Prefix = *w.Prefix
	}
	e.Arguments = argumentsText(w.Arguments)
	return e
}

// argumentsText accepts arguments as a JSON string or a JSON object and
// returns JSON text.
func argumentsText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		var str string
		if json.Unmarshal(raw, &str) == nil {
			return str
		}
	}
	return string(raw)
}

// NewID returns an entry id with the prefix the real API uses for its type.
func NewID(typ string) string {
	prefix := map[string]string{
		MessageInput: "msg_", MessageOutput: "msg_", FunctionCall: "fc_",
		FunctionResult: "fr_", ToolExecution: "tool_exec_", AgentHandoff: "handoff_",
	}[typ]
	if prefix == "" {
		prefix = "ent_"
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// ParseInputs reads a request's "inputs": a string (one user message) or a
// list of entries. Entries get ids and timestamps; loc prefixes error
// locations.
func ParseInputs(raw json.RawMessage, now time.Time) ([]Entry, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '"' {
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, apierr.Field("body.inputs", "string_type", "inputs must be a string or a list of entries")
		}
		c, _ := json.Marshal(text)
		return []Entry{{Type: MessageInput, ID: NewID(MessageInput), CreatedAt: now, Role: "user", Content: c}}, nil
	}
	if raw[0] != '[' {
		return nil, apierr.Field("body.inputs", "type_error", "inputs must be a string or a list of entries")
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, apierr.Field("body.inputs", "list_type", "inputs must be a string or a list of entries")
	}
	out := make([]Entry, 0, len(list))
	for i, item := range list {
		loc := fmt.Sprintf("body.inputs.%d", i)
		var w wireEntry
		if err := json.Unmarshal(item, &w); err != nil {
			return nil, apierr.Field(loc, "dict_type", "each input must be an entry object: %v", err)
		}
		typ := s(w.Type)
		if typ == "" {
			// The SDKs always send type; infer it for hand-written JSON.
			switch {
			case w.Role != nil:
				typ = MessageInput
			case w.Result != nil:
				typ = FunctionResult
			}
		}
		e := fromWire(&w)
		e.Type = typ
		if err := validateInput(loc, &e, item); err != nil {
			return nil, err
		}
		if e.ID == "" {
			e.ID = NewID(typ)
		}
		e.CreatedAt = now
		e.CompletedAt = nil
		out = append(out, e)
	}
	return out, nil
}

func validateInput(loc string, e *Entry, raw json.RawMessage) error {
	switch e.Type {
	case MessageInput:
		if e.Role == "" {
			e.Role = "user"
		}
		if e.Role != "user" && e.Role != "assistant" && e.Role != "system" {
			return apierr.Field(loc+".role", "enum", "role must be 'user' or 'assistant'")
		}
		return validateContent(loc+".content", e.Content, false)
	case MessageOutput:
		e.Role = "assistant"
		return validateContent(loc+".content", e.Content, true)
	case FunctionResult:
		var probe struct {
			Result json.RawMessage `json:"result"`
		}
		_ = json.Unmarshal(raw, &probe)
		if e.ToolCallID == "" {
			return apierr.Field(loc+".tool_call_id", "missing", "a function.result needs the tool_call_id of the call it answers")
		}
		if len(probe.Result) == 0 {
			return apierr.Field(loc+".result", "missing", "a function.result needs a 'result' string")
		}
		if probe.Result[0] != '"' {
			return apierr.Field(loc+".result", "string_type", "result must be a string (JSON-encode objects first)")
		}
	case FunctionCall:
		if e.ToolCallID == "" || e.Name == "" {
			return apierr.Field(loc, "missing", "a function.call needs tool_call_id and name")
		}
	case ToolExecution:
		if e.Name == "" {
			return apierr.Field(loc+".name", "missing", "a tool.execution needs a name")
		}
	case AgentHandoff:
		if e.PreviousAgentID == "" || e.NextAgentID == "" {
			return apierr.Field(loc, "missing", "an agent.handoff needs previous_agent_id and next_agent_id")
		}
	case "":
		return apierr.Field(loc+".type", "missing", "each input entry needs a 'type'")
	default:
		return apierr.Field(loc+".type", "literal_error", "unknown entry type %q", e.Type)
	}
	return nil
}

var inputChunkTypes = map[string]bool{"text": true, "image_url": true, "document_url": true, "tool_file": true, "thinking": true}

// validateContent checks a message's content: a string or a list of chunks.
func validateContent(loc string, c json.RawMessage, output bool) error {
	c = bytes.TrimSpace(c)
	if len(c) == 0 || string(c) == "null" {
		return apierr.Field(loc, "missing", "content is required")
	}
	if c[0] == '"' {
		return nil
	}
	var chunks []map[string]json.RawMessage
	if err := json.Unmarshal(c, &chunks); err != nil {
		return apierr.Field(loc, "type_error", "content must be a string or a list of chunks")
	}
	for i, ch := range chunks {
		var typ string
		_ = json.Unmarshal(ch["type"], &typ)
		at := fmt.Sprintf("%s.%d", loc, i)
		if !inputChunkTypes[typ] && !(output && typ == "tool_reference") {
			return apierr.Field(at+".type", "literal_error", "unknown content chunk type %q", typ)
		}
		need := map[string]string{"text": "text", "image_url": "image_url", "document_url": "document_url", "tool_file": "file_id", "thinking": "thinking", "tool_reference": "title"}[typ]
		if _, ok := ch[need]; !ok {
			return apierr.Field(at+"."+need, "missing", "a %s chunk needs %q", typ, need)
		}
	}
	return nil
}

// TextOf returns the plain text of a content value (a string, or the text
// of its text chunks).
func TextOf(c json.RawMessage) string {
	c = bytes.TrimSpace(c)
	if len(c) == 0 {
		return ""
	}
	if c[0] == '"' {
		if len(c) >= 2 && bytes.IndexByte(c, '\\') < 0 {
			return string(c[1 : len(c)-1]) // no escapes: the bytes are the text
		}
		var str string
		_ = json.Unmarshal(c, &str)
		return str
	}
	var chunks []struct {
		Type  string `json:"type"`
		Text  string `json:"text"`
		Title string `json:"title"`
	}
	_ = json.Unmarshal(c, &chunks)
	var b strings.Builder
	for _, ch := range chunks {
		if ch.Type == "text" {
			b.WriteString(ch.Text)
		}
	}
	return b.String()
}

// ImagesOf returns the image URLs of a content value's image_url chunks.
func ImagesOf(c json.RawMessage) []string {
	c = bytes.TrimSpace(c)
	if len(c) == 0 || c[0] != '[' {
		return nil
	}
	var chunks []struct {
		Type     string          `json:"type"`
		ImageURL json.RawMessage `json:"image_url"`
	}
	_ = json.Unmarshal(c, &chunks)
	var out []string
	for _, ch := range chunks {
		if ch.Type != "image_url" {
			continue
		}
		var u string
		if json.Unmarshal(ch.ImageURL, &u) != nil {
			var obj struct {
				URL string `json:"url"`
			}
			_ = json.Unmarshal(ch.ImageURL, &obj)
			u = obj.URL
		}
		if u != "" {
			out = append(out, u)
		}
	}
	return out
}
