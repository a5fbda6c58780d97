package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/store"
)

// BenchmarkAppendEntries is a turn's commit on SQLite: an input and an
// output entry appended to a conversation in one transaction.
func BenchmarkAppendEntries(b *testing.B) {
	db, ws, convs := benchStore(b)
	now := time.Now().UTC()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := db.AppendEntries(context.Background(), ws, convs[i%len(convs)], turnRows(i, now), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendEntriesLatency is BenchmarkAppendEntries reporting the
// median and the 99th percentile of one append's latency (the WAL
// checkpoints a commit may pay for show in the tail).
func BenchmarkAppendEntriesLatency(b *testing.B) {
	db, ws, convs := benchStore(b)
	now := time.Now().UTC()
	lat := make([]time.Duration, 0, b.N)
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if err := db.AppendEntries(context.Background(), ws, convs[i%len(convs)], turnRows(i, now), nil); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
}

// BenchmarkAppendEntriesParallel is 64 concurrent turns committing (group
// commit); ...NoGroup is the same with one transaction per append.
func BenchmarkAppendEntriesParallel(b *testing.B)        { benchParallel(b, true) }
func BenchmarkAppendEntriesParallelNoGroup(b *testing.B) { benchParallel(b, false) }

func benchParallel(b *testing.B, group bool) {
	db, ws, convs := benchStore(b)
	if !group {
		db.group.close()
		db.group = nil
	}
	now := time.Now().UTC()
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(32) // 64 goroutines on 2 CPUs
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(n.Add(1))
			if err := db.AppendEntries(context.Background(), ws, convs[i%len(convs)], turnRows(i, now), nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

var (
	benchIn  = []byte(`{"object":"entry","type":"message.input","id":"msg_x","created_at":"2026-12-04T12:00:00Z","completed_at":null,"role":"user","content":"hello bench","prefix":false}`)
	benchOut = []byte(`{"object":"entry","type":"message.output","id":"msg_y","created_at":"2026-12-04T12:00:00Z","completed_at":"2026-12-04T12:00:00Z","role":"assistant","content":"Hello from the bench upstream.","agent_id":null,"model":"m"}`)
)

func turnRows(i int, now time.Time) []store.Entry {
	return []store.Entry{
		{ID: fmt.Sprint("msg_in", i), Type: "message.input", Body: benchIn, CreatedAt: now},
		{ID: fmt.Sprint("msg_out", i), Type: "message.output", Body: benchOut, CreatedAt: now},
	}
}

func benchStore(b *testing.B) (*DB, string, []string) {
	ctx := context.Background()
	db, err := Open(ctx, "", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
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
	return db, ws.ID, convs
}
