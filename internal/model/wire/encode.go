package wire

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// This file encodes chat requests without reflection. The bytes are
// exactly those json.Marshal writes for the same values (the tests check
// it on random inputs), so that an encoded message can be cached and
// spliced into a later request: see AppendRequest and the openai client's
// prefix cache.

// jsonSafe marks the ASCII bytes json.Marshal copies as they are: control
// characters, '"', '\\' and the HTML-sensitive '<', '>', '&' are escaped.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, escaped as json.Marshal does.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendMessage appends the JSON of m, byte for byte what json.Marshal
// writes for it.
func AppendMessage(dst []byte, m *Message) ([]byte, error) {
	for _, p := range partsOf(m.Content) {
		if len(p.Thinking) > 0 {
			// Raw JSON is compacted by json.Marshal; never sent in
			// requests, so the slow path is fine.
			b, err := json.Marshal(m)
			return append(dst, b...), err
		}
	}
	dst = append(dst, '{')
	n := len(dst)
	field := func(name string) {
		if len(dst) > n {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, '"', ':')
	}
	if m.Role != "" {
		field("role")
		dst = AppendString(dst, m.Role)
	}
	if m.Content != nil {
		field("content")
		dst = appendContent(dst, m.Content)
	}
	if len(m.ToolCalls) > 0 {
		field("tool_calls")
		dst = append(dst, '[')
		for i := range m.ToolCalls {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendToolCall(dst, &m.ToolCalls[i])
		}
		dst = append(dst, ']')
	}
	if m.ToolCallID != "" {
		field("tool_call_id")
		dst = AppendString(dst, m.ToolCallID)
	}
	if m.Name != "" {
		field("name")
		dst = AppendString(dst, m.Name)
	}
	if m.Prefix {
		field("prefix")
		dst = append(dst, "true"...)
	}
	if m.ReasoningContent != "" {
		field("reasoning_content")
		dst = AppendString(dst, m.ReasoningContent)
	}
	return append(dst, '}'), nil
}

func partsOf(c *Content) []ContentPart {
	if c == nil {
		return nil
	}
	return c.Parts
}

// appendContent mirrors Content.MarshalJSON.
func appendContent(dst []byte, c *Content) []byte {
	if len(c.Parts) == 0 {
		return AppendString(dst, c.Text)
	}
	dst = append(dst, '[')
	first := true
	if c.Text != "" {
		dst = appendPart(dst, &ContentPart{Type: "text", Text: c.Text})
		first = false
	}
	for i := range c.Parts {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendPart(dst, &c.Parts[i])
	}
	return append(dst, ']')
}

func appendPart(dst []byte, p *ContentPart) []byte {
	dst = append(dst, `{"type":`...)
	dst = AppendString(dst, p.Type)
	if p.Text != "" {
		dst = append(dst, `,"text":`...)
		dst = AppendString(dst, p.Text)
	}
	if p.ImageURL != nil {
		dst = append(dst, `,"image_url":{"url":`...)
		dst = AppendString(dst, p.ImageURL.URL)
		if p.ImageURL.Detail != "" {
			dst = append(dst, `,"detail":`...)
			dst = AppendString(dst, p.ImageURL.Detail)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

func appendToolCall(dst []byte, tc *ToolCall) []byte {
	dst = append(dst, '{')
	n := len(dst)
	comma := func() {
		if len(dst) > n {
			dst = append(dst, ',')
		}
	}
	if tc.Index != nil {
		dst = append(dst, `"index":`...)
		dst = appendInt(dst, *tc.Index)
	}
	if tc.ID != "" {
		comma()
		dst = append(dst, `"id":`...)
		dst = AppendString(dst, tc.ID)
	}
	if tc.Type != "" {
		comma()
		dst = append(dst, `"type":`...)
		dst = AppendString(dst, tc.Type)
	}
	comma()
	dst = append(dst, `"function":{`...)
	if tc.Function.Name != "" {
		dst = append(dst, `"name":`...)
		dst = AppendString(dst, tc.Function.Name)
		dst = append(dst, ',')
	}
	dst = append(dst, `"arguments":`...)
	dst = AppendString(dst, string(tc.Function.Arguments))
	return append(dst, '}', '}')
}

func appendInt(dst []byte, v int) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

// MessagesSplice is an encoded request cut around its messages: Head ends
// with `"messages":[` and Tail starts with `]`, so that Head, the messages
// joined by commas, and Tail are the whole body.
type MessagesSplice struct {
	Head, Tail []byte
}

// SpliceRequest encodes cr without its messages, for AppendRequest.
func SpliceRequest(cr *ChatRequest) (MessagesSplice, error) {
	c := *cr
	c.Messages = nil
	full, err := json.Marshal(&c)
	if err != nil {
		return MessagesSplice{}, err
	}
	// The body starts {"model":<string>,"messages":null; the model is a
	// JSON string, so its encoded length places the messages exactly.
	at := len(`{"model":`) + len(AppendString(nil, c.Model)) + len(`,"messages":`)
	if len(full) < at+4 || string(full[at-len(`"messages":`):at+4]) != `"messages":null` {
		return MessagesSplice{}, errors.New("wire: unexpected request layout")
	}
	return MessagesSplice{Head: append(full[:at:at], '['), Tail: append([]byte{']'}, full[at+4:]...)}, nil
}

// AppendRequest appends the JSON of cr, byte for byte what json.Marshal
// writes for it.
func AppendRequest(dst []byte, cr *ChatRequest) ([]byte, error) {
	sp, err := SpliceRequest(cr)
	if err != nil {
		return nil, err
	}
	if cr.Messages == nil {
		dst = append(dst, sp.Head[:len(sp.Head)-1]...)
		dst = append(dst, "null"...)
		return append(dst, sp.Tail[1:]...), nil
	}
	dst = append(dst, sp.Head...)
	for i := range cr.Messages {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, err = AppendMessage(dst, &cr.Messages[i]); err != nil {
			return nil, err
		}
	}
	return append(dst, sp.Tail...), nil
}
