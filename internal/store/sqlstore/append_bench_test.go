package sqlstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/store"
)

// BenchmarkAppendEntries is a turn's commit on SQLite: an input and an
// output entry appended to a conversation in one transaction.
func BenchmarkAppendEntries(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, "", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ws, err := db.EnsureWorkspace(ctx, "default")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	convs := make([]string, 64)
	for i := range convs {
		c := &store.Conversation{ID: fmt.Sprint("conv_", i), WorkspaceID: ws.ID, Model: "m", CreatedAt: now, UpdatedAt: now}
		if err := db.CreateConversation(ctx, c, nil); err != nil {
			b.Fatal(err)
		}
		convs[i] = c.ID
	}
	in := []byte(`{"object":"entry","type":"message.input","id":"msg_x","created_at":"2026-12-04T12:00:00Z","completed_at":null,"role":"user","content":"hello bench","prefix":false}`)
	out := []byte(`{"object":"entry","type":"message.output","id":"msg_y","created_at":"2026-12-04T12:00:00Z","completed_at":"2026-12-04T12:00:00Z","role":"assistant","content":"Hello from the bench upstream.","agent_id":null,"model":"m"}`)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		rows := []store.Entry{
			{ID: fmt.Sprint("msg_in", i), Type: "message.input", Body: in, CreatedAt: now},
			{ID: fmt.Sprint("msg_out", i), Type: "message.output", Body: out, CreatedAt: now},
		}
		if err := db.AppendEntries(ctx, ws.ID, convs[i%len(convs)], rows, nil); err != nil {
			b.Fatal(err)
		}
	}
}
