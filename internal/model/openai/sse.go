package openai

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/model"
	"github.com/tramontane/tramontane/internal/model/wire"
)

// maxEvent bounds one SSE event.
const maxEvent = 16 << 20

// sseStream reads chat completion chunks from an SSE body.
type sseStream struct {
	c        *Client
	parent   context.Context
	callCtx  context.Context
	cancel   context.CancelFunc
	body     io.ReadCloser
	r        *bufio.Reader
	state    wire.DeltaState
	model    string
	hasTools bool

	finish    string // last finish reason seen
	sawCalls  bool
	err       error // sticky terminal error (io.EOF at the end)
	closeOnce sync.Once
}

func newSSEStream(c *Client, parent, callCtx context.Context, cancel context.CancelFunc,
	body io.ReadCloser, upstreamModel string, hasTools bool) *sseStream {
	return &sseStream{
		c: c, parent: parent, callCtx: callCtx, cancel: cancel, body: body,
		r: bufio.NewReaderSize(body, 4<<10), model: upstreamModel, hasTools: hasTools, // readLine joins longer lines
	}
}

// Next returns the next non-empty chunk, io.EOF after "[DONE]" (or after
// a finish reason when the server just closes), or an *apierr.Error.
func (s *sseStream) Next() (model.Chunk, error) {
	for s.err == nil {
		data, err := s.readEvent()
		if err != nil {
			s.fail(err)
			break
		}
		if len(data) == 0 {
			continue
		}
		if string(data) == "[DONE]" {
			s.end()
			break
		}
		var cr wire.ChatResponse
		if err := json.Unmarshal(data, &cr); err != nil {
			s.err = apierr.Wrap(apierr.Upstream, err, "upstream %s sent an invalid stream chunk", s.c.cfg.Name)
			break
		}
		if len(cr.Error) > 0 && len(cr.Choices) == 0 {
			s.err = apierr.New(apierr.Upstream, "upstream %s failed mid-stream: %s",
				s.c.cfg.Name, model.TrimMessage(wire.ErrorMessage(data)))
			break
		}
		ch := s.state.ChunkToModel(&cr)
		if ch.FinishReason != "" {
			s.finish = ch.FinishReason
		}
		if len(ch.ToolCalls) > 0 {
			s.sawCalls = true
		}
		if ch.Content == "" && len(ch.ToolCalls) == 0 && ch.FinishReason == "" && ch.Usage == nil {
			continue
		}
		return ch, nil
	}
	s.release()
	return model.Chunk{}, s.err
}

// fail records a read error as the terminal state.
func (s *sseStream) fail(err error) {
	if errors.Is(err, io.EOF) && s.finish != "" {
		// Tolerate servers that close without "[DONE]".
		s.end()
		return
	}
	if e := ctxError(s.parent, s.callCtx, s.c.cfg.Name, s.c.cfg.Timeout); e != nil {
		s.err = e
		return
	}
	if errors.Is(err, io.EOF) {
		s.err = apierr.New(apierr.Upstream, "upstream %s ended the stream before the answer was complete", s.c.cfg.Name)
		return
	}
	s.err = apierr.Wrap(apierr.Upstream, err, "the stream from upstream %s broke", s.c.cfg.Name)
}

// end marks a clean end and notes a backend that announced tool calls but
// streamed none (a sign it cannot stream tool calls).
func (s *sseStream) end() {
	s.err = io.EOF
	if s.hasTools && s.finish == model.FinishToolCalls && !s.sawCalls &&
		s.c.cfg.StreamTools == model.StreamToolsAuto {
		s.c.markBroken(s.model, "finish_reason tool_calls without tool_calls deltas")
	}
}

// readEvent returns the data of the next SSE event (data lines joined by
// "\n"). Comment, event, id and retry lines are skipped; a bare JSON line
// is accepted as data.
func (s *sseStream) readEvent() ([]byte, error) {
	var data []byte
	have := false
	for {
		line, err := s.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && have {
				return data, nil
			}
			return nil, err
		}
		if len(line) == 0 {
			if have {
				return data, nil
			}
			continue
		}
		var payload []byte
		switch {
		case line[0] == ':':
			continue
		case bytes.HasPrefix(line, []byte("data:")):
			payload = bytes.TrimPrefix(line[5:], []byte(" "))
		case line[0] == '{':
			payload = line
		default:
			continue // event:, id:, retry:, unknown fields
		}
		if have {
			data = append(data, '\n')
		}
		data = append(data, payload...)
		have = true
		if len(data) > maxEvent {
			return nil, errors.New("stream event too large")
		}
	}
}

// readLine reads one line without its line ending.
func (s *sseStream) readLine() ([]byte, error) {
	var line []byte
	for {
		frag, err := s.r.ReadSlice('\n')
		line = append(line, frag...)
		if err == bufio.ErrBufferFull {
			if len(line) > maxEvent {
				return nil, errors.New("stream line too long")
			}
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(line) > 0 {
				return bytes.TrimRight(line, "\r\n"), nil
			}
			return nil, err
		}
		return bytes.TrimRight(line, "\r\n"), nil
	}
}

// release frees the connection and the call's context.
func (s *sseStream) release() {
	s.closeOnce.Do(func() {
		// Drain what little is left so the connection can be reused.
		if s.err == io.EOF {
			_, _ = io.CopyN(io.Discard, s.body, 4<<10)
		}
		s.body.Close()
		s.cancel()
	})
}

// Close releases the stream; it is safe to call more than once.
func (s *sseStream) Close() error {
	s.release()
	return nil
}
