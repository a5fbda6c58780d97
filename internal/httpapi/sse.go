package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/engine"
)

// sseSink writes engine events as Server-Sent Events: an "event:" line, one
// "data:" line of JSON and a blank line, flushed per event. The headers and
// conversation.response.started go out at once, before the first model
// call, and a ": ping" comment follows whenever the stream has been quiet
// for the ping interval (a slow or hanging upstream never leaves a client
// without a byte). An error after that point, the first model call's
// included, is a conversation.response.error event.
type sseSink struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	ping    time.Duration
	onEvent func(engine.Event)

	mu       sync.Mutex // guards the writer between the run and the ping timer
	wrote    bool
	failed   error
	lastSend time.Time
	// pingT fires the next keep-alive check. A timer rather than a
	// goroutine per stream: an idle stream holds no pinger stack.
	pingT   *time.Timer
	stopped bool
	buf     bytes.Buffer  // the event being written
	enc     *json.Encoder // writes into buf
}

func newSSESink(w http.ResponseWriter, ping time.Duration) *sseSink {
	if ping <= 0 {
		ping = 10 * time.Second
	}
	return &sseSink{w: w, rc: http.NewResponseController(w), ping: ping}
}

// Emit writes one event.
func (s *sseSink) Emit(ev engine.Event) error {
	if s.onEvent != nil {
		s.onEvent(ev)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return s.failed
	}
	switch ev.Type {
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
	}
	return s.event(ev)
}

// AnnouncesEarly reports that the conversation id reaches the client in
// the first event, before the run ends (engine.Announcer).
func (s *sseSink) AnnouncesEarly() bool { return true }

// start sends the headers and starts the pinger. Called with mu held.
func (s *sseSink) start() {
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	s.w.WriteHeader(http.StatusOK)
	s.wrote = true
	if !s.stopped {
		s.pingT = time.AfterFunc(s.ping, s.pingIfQuiet)
	}
}

// pingIfQuiet writes a keep-alive comment if nothing was sent for a ping
// interval, and sets the timer for the next check, until stopped.
func (s *sseSink) pingIfQuiet() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || s.failed != nil {
		return
	}
	if time.Since(s.lastSend) >= s.ping {
		if s.write([]byte(": ping\n\n")) != nil {
			return
		}
	}
	s.pingT.Reset(s.ping - time.Since(s.lastSend))
}

// stopPinger stops the keep-alives; safe to call more than once.
func (s *sseSink) stopPinger() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	if s.pingT != nil {
		s.pingT.Stop()
	}
}

// event frames one event into the sink's reused buffer. json.Encoder
// writes what json.Marshal returns plus a newline, the first of the two
// that end an event. Called with mu held.
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

// write sends and flushes b. Called with mu held.
func (s *sseSink) write(b []byte) error {
	s.lastSend = time.Now()
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
	s.stopPinger()
	s.mu.Lock()
	defer s.mu.Unlock()
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
