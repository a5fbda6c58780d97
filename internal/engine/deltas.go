package engine

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/tramontane/tramontane/internal/conversation"
)

// messageStream emits the message.output.delta events of one message so
// that they rebuild the stored content exactly: text tokens as strings,
// each cited source as a tool_reference chunk right after its "[n]"
// marker, and files produced by tools (tool_file chunks) at the end.
// content_index counts the chunks, as in the stored chunk list.
type messageStream struct {
	r            *run
	id           string
	index        int // output_index, assigned on the first event
	contentIndex int
	pending      string // text held back while it may be a citation marker
	wrote        bool
}

func (r *run) newMessageStream() *messageStream {
	return &messageStream{r: r, id: conversation.NewID(conversation.MessageOutput), index: -1}
}

func (m *messageStream) emit(content json.RawMessage) error {
	if m.index < 0 {
		m.index = m.r.nextIndex()
	}
	m.wrote = true
	return m.r.emit(Event{Type: MessageDelta, Data: messageDelta{Type: MessageDelta, CreatedAt: m.r.e.now(), OutputIndex: m.index, ID: m.id,
		ContentIndex: m.contentIndex, Model: optStr(m.r.actor.Model), AgentID: optStr(m.r.actor.AgentID), Role: "assistant", Content: content}})
}

func (m *messageStream) emitText(s string) error {
	if s == "" {
		return nil
	}
	c, _ := json.Marshal(s)
	return m.emit(c)
}

// text handles one text token.
func (m *messageStream) text(s string) error {
	if len(m.r.refs) == 0 {
		return m.emitText(s)
	}
	m.pending += s
	for {
		open := strings.IndexByte(m.pending, '[')
		if open < 0 {
			err := m.emitText(m.pending)
			m.pending = ""
			return err
		}
		if err := m.emitText(m.pending[:open]); err != nil {
			return err
		}
		m.pending = m.pending[open:]
		n, size, state := citationAt(m.pending, len(m.r.refs))
		switch state {
		case citePartial:
			return nil // wait for more text
		case citeNone:
			if err := m.emitText("["); err != nil {
				return err
			}
			m.pending = m.pending[1:]
		case citeFound:
			if err := m.emitText(m.pending[:size]); err != nil {
				return err
			}
			m.pending = m.pending[size:]
			if err := m.chunk(referenceChunk(m.r.refs[n-1])); err != nil {
				return err
			}
		}
	}
}

// chunk emits one non-text chunk as its own content item.
func (m *messageStream) chunk(c json.RawMessage) error {
	if m.wrote {
		m.contentIndex++
	}
	if err := m.emit(c); err != nil {
		return err
	}
	m.contentIndex++
	return nil
}

// finish flushes held text and emits the files of the run's tools.
func (m *messageStream) finish() error {
	if err := m.emitText(m.pending); err != nil {
		return err
	}
	m.pending = ""
	for _, c := range m.r.chunks {
		if err := m.chunk(c); err != nil {
			return err
		}
	}
	return nil
}

const (
	citeNone = iota
	citePartial
	citeFound
)

// citationAt looks at s, which starts with '[': a complete "[n]" with
// 1 <= n <= max is citeFound (with n and its length), a prefix that may
// still become one is citePartial, anything else citeNone.
func citationAt(s string, max int) (n, size, state int) {
	i := 1
	for i < len(s) && i <= 4 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == len(s) {
		if i <= 4 {
			return 0, 0, citePartial
		}
		return 0, 0, citeNone
	}
	if i == 1 || s[i] != ']' || i > 4 {
		return 0, 0, citeNone
	}
	n, _ = strconv.Atoi(s[1:i])
	if n < 1 || n > max {
		return 0, 0, citeNone
	}
	return n, i + 1, citeFound
}

func referenceChunk(ref Reference) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"type": "tool_reference", "tool": ref.Tool, "title": ref.Title, "url": nilIfEmpty(ref.URL),
		"favicon": nilIfEmpty(ref.Favicon), "description": nilIfEmpty(ref.Description)})
	return b
}
