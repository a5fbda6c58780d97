package model

import (
	"errors"
	"io"
	"sort"
	"strings"
)

// Collect reads s to the end, closes it and returns the accumulated
// answer. Tool-call deltas are merged by Index: the first non-empty ID and
// Name win and Arguments fragments are concatenated. A call with no
// arguments gets "{}". When the answer carries tool calls but the upstream
// reported "stop" or nothing, FinishReason becomes "tool_calls" (some
// backends report "stop" for tool calls).
func Collect(s Stream) (Response, error) {
	defer s.Close()
	var acc Accumulator
	for {
		c, err := s.Next()
		if errors.Is(err, io.EOF) {
			return acc.Response(), nil
		}
		if err != nil {
			return acc.Response(), err
		}
		acc.Add(c)
	}
}

// Accumulator folds chunks into a [Response], the way [Collect] does. The
// engine can use it to build the final message while forwarding deltas.
// The zero value is ready to use.
type Accumulator struct {
	content strings.Builder
	calls   map[int]*ToolCall
	order   []int
	finish  string
	usage   Usage
}

// Add folds one chunk in.
func (a *Accumulator) Add(c Chunk) {
	a.content.WriteString(c.Content)
	for _, d := range c.ToolCalls {
		if a.calls == nil {
			a.calls = map[int]*ToolCall{}
		}
		tc, ok := a.calls[d.Index]
		if !ok {
			tc = &ToolCall{}
			a.calls[d.Index] = tc
			a.order = append(a.order, d.Index)
		}
		if tc.ID == "" {
			tc.ID = d.ID
		}
		if tc.Name == "" {
			tc.Name = d.Name
		}
		tc.Arguments += d.Arguments
	}
	if c.FinishReason != "" {
		a.finish = c.FinishReason
	}
	if c.Usage != nil {
		a.usage = *c.Usage
	}
}

// Response returns what has been folded in so far.
func (a *Accumulator) Response() Response {
	msg := Message{Role: RoleAssistant, Content: a.content.String()}
	idx := append([]int(nil), a.order...)
	sort.Ints(idx)
	for _, i := range idx {
		tc := *a.calls[i]
		if strings.TrimSpace(tc.Arguments) == "" {
			tc.Arguments = "{}"
		}
		msg.ToolCalls = append(msg.ToolCalls, tc)
	}
	finish := a.finish
	if len(msg.ToolCalls) > 0 && (finish == "" || finish == FinishStop) {
		finish = FinishToolCalls
	}
	if finish == "" {
		finish = FinishStop
	}
	u := a.usage
	if u.TotalTokens == 0 {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	return Response{Message: msg, FinishReason: finish, Usage: u}
}

// sliceStream replays a fixed list of chunks.
type sliceStream struct {
	chunks []Chunk
	closed bool
}

// ChunkStream returns a Stream that yields chunks in order, then io.EOF.
func ChunkStream(chunks []Chunk) Stream {
	return &sliceStream{chunks: chunks}
}

func (s *sliceStream) Next() (Chunk, error) {
	if s.closed || len(s.chunks) == 0 {
		return Chunk{}, io.EOF
	}
	c := s.chunks[0]
	s.chunks = s.chunks[1:]
	return c, nil
}

func (s *sliceStream) Close() error {
	s.closed = true
	return nil
}

// ResponseChunks turns a complete answer into deltas: the content split at
// word boundaries into pieces of about pieceLen bytes (one piece if
// pieceLen <= 0), each tool call as one delta, then a final chunk with the
// finish reason and usage.
func ResponseChunks(r Response, pieceLen int) []Chunk {
	var out []Chunk
	for _, p := range SplitText(r.Message.Content, pieceLen) {
		out = append(out, Chunk{Content: p})
	}
	for i, tc := range r.Message.ToolCalls {
		out = append(out, Chunk{ToolCalls: []ToolCallDelta{{
			Index: i, ID: tc.ID, Name: tc.Name, Arguments: tc.Arguments,
		}}})
	}
	u := r.Usage
	finish := r.FinishReason
	if finish == "" {
		finish = FinishStop
	}
	out = append(out, Chunk{FinishReason: finish, Usage: &u})
	return out
}

// StreamFromResponse re-emits a complete answer as a Stream of a few
// deltas (see [ResponseChunks]).
func StreamFromResponse(r Response) Stream {
	return ChunkStream(ResponseChunks(r, 64))
}

// SplitText cuts s into consecutive pieces of roughly n bytes, cutting just
// before a whitespace run where possible, so that joining the pieces gives
// s back. n <= 0 yields s as one piece; an empty s yields nothing.
func SplitText(s string, n int) []string {
	if s == "" {
		return nil
	}
	if n <= 0 || len(s) <= n {
		return []string{s}
	}
	var out []string
	start := 0
	for i := 1; i < len(s); i++ {
		if i-start < n {
			continue
		}
		// Cut before a space that follows a non-space.
		if isSpace(s[i]) && !isSpace(s[i-1]) {
			out = append(out, s[start:i])
			start = i
		}
	}
	return append(out, s[start:])
}

// SplitWords cuts s into word-sized pieces (each piece is leading
// whitespace plus one word), as a token stream would.
func SplitWords(s string) []string {
	return SplitText(s, 1)
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\n' || b == '\t' || b == '\r'
}
