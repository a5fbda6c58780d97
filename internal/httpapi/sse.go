package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/engine"
)

// sseSink writes engine events as Server-Sent Events: an "event:" line, one
// "data:" line of JSON and a blank line, flushed per event. The started
// event is held back until the run produces something, so that a failure
// before any output (an upstream error on the first call) can still be a
// plain JSON error with its proper status.
type sseSink struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	held    *engine.Event
	wrote   bool
	failed  error
	onEvent func(engine.Event)
	buf     bytes.Buffer  // the event being written
	enc     *json.Encoder // writes into buf
}

func newSSESink(w http.ResponseWriter) *sseSink {
	return &sseSink{w: w, rc: http.NewResponseController(w)}
}

// Emit writes one event.
func (s *sseSink) Emit(ev engine.Event) error {
	if s.failed != nil {
		return s.failed
	}
	if s.onEvent != nil {
		s.onEvent(ev)
	}
	switch ev.Type {
	case engine.ResponseStarted:
		s.held = &ev
		return nil
	case engine.EntryDone:
		return nil
	case engine.Ping:
		if !s.wrote {
			return nil
		}
		return s.write([]byte(": ping\n\n"))
	}
	if !s.wrote {
		s.start()
		if s.held != nil {
			if err := s.event(*s.held); err != nil {
				return err
			}
		}
	}
	return s.event(ev)
}

// Announced reports whether the stream has begun, and with it the
// conversation id reached the client (engine.Announcer).
func (s *sseSink) Announced() bool { return s.wrote }

func (s *sseSink) start() {
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	s.w.WriteHeader(http.StatusOK)
	s.wrote = true
}

// event frames one event into the sink's reused buffer. json.Encoder
// writes what json.Marshal returns plus a newline, the first of the two
// that end an event.
func (s *sseSink) event(ev engine.Event) error {
	s.buf.Reset()
	s.buf.WriteString("event: ")
	s.buf.WriteString(ev.Type)
	s.buf.WriteString("\ndata: ")
	if s.enc == nil {
		s.enc = json.NewEncoder(&s.buf)
	}
	if err := s.enc.Encode(ev.Data); err != nil {
		return err
	}
	s.buf.WriteByte('\n')
	return s.write(s.buf.Bytes())
}

func (s *sseSink) write(b []byte) error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if _, err := s.w.Write(b); err != nil {
		s.failed = err
		return err
	}
	if err := s.rc.Flush(); err != nil {
		s.failed = err
		return err
	}
	return nil
}

// finish ends the stream after the run returned err: nothing more when the
// run succeeded, a conversation.response.error event when the stream had
// begun, else false so that the caller sends a plain error response.
func (s *sseSink) finish(err error) (handled bool) {
	if err == nil {
		return true
	}
	if !s.wrote {
		return false
	}
	if s.failed != nil {
		return true // the client is gone
	}
	e := apierr.As(err)
	msg := e.Message
	if e.Kind == apierr.Internal {
		msg = "internal server error"
	}
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		msg = "internal server error"
	}
	_ = s.event(engine.Event{Type: engine.ResponseError, Data: engine.ErrorData(msg, e.Kind.Status())})
	return true
}
