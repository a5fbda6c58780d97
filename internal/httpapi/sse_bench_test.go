package httpapi

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/engine"
)

// benchDelta has the shape of a message.output.delta event.
type benchDelta struct {
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

// BenchmarkSSEWrite writes one message.output.delta event (encode, frame,
// write, flush) to a started stream.
func BenchmarkSSEWrite(b *testing.B) {
	rec := httptest.NewRecorder()
	s := newSSESink(rec, time.Hour) // no keep-alive during the test
	defer s.stopPinger()
	model := "mistral-medium-latest"
	ev := engine.Event{Type: engine.MessageDelta, Data: benchDelta{Type: engine.MessageDelta, CreatedAt: time.Now().UTC(), ID: "msg_0123456789abcdef0123456789abcdef",
		Model: &model, Role: "assistant", Content: json.RawMessage(`" token"`)}}
	if err := s.Emit(ev); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		rec.Body.Reset()
		if err := s.Emit(ev); err != nil {
			b.Fatal(err)
		}
	}
}

// Each event is "event: <type>", one "data: <json>" line (json.Marshal's
// bytes) and a blank line.
func TestSSEFraming(t *testing.T) {
	rec := httptest.NewRecorder()
	s := newSSESink(rec, time.Hour) // no keep-alive during the test
	defer s.stopPinger()
	d := benchDelta{Type: engine.MessageDelta, ID: "msg_1", Role: "assistant", Content: json.RawMessage(`"<b> & \u2028"`)}
	var want string
	for i := 0; i < 3; i++ {
		d.OutputIndex = i
		if err := s.Emit(engine.Event{Type: engine.MessageDelta, Data: d}); err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(d)
		want += "event: " + engine.MessageDelta + "\ndata: " + string(data) + "\n\n"
	}
	if got := rec.Body.String(); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
