package library

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/model/scripted"
	"github.com/tramontane/tramontane/internal/store"
)

// hashEmbedder is the scripted provider's deterministic embedding, with
// optional failures and a gate to hold calls.
type hashEmbedder struct {
	fail  atomic.Int32 // calls left that fail
	calls atomic.Int32
	gate  chan struct{} // when set, calls wait for it (or ctx)
}

func (h *hashEmbedder) Embed(ctx context.Context, in []string) ([][]float32, error) {
	h.calls.Add(1)
	if h.gate != nil {
		select {
		case <-h.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if h.fail.Load() > 0 {
		h.fail.Add(-1)
		return nil, errors.New("upstream 503")
	}
	out := make([][]float32, len(in))
	for i, s := range in {
		out[i] = scripted.HashEmbedding(s, 64)
	}
	return out, nil
}

func (e *testEnv) doc(t *testing.T, lib, id string) *store.Document {
	t.Helper()
	d, err := e.db.GetDocument(bg, lib, id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestIngestionStates(t *testing.T) {
	e := newTestEnv(t)
	l := e.library(t, e.a, "L")
	pdf := makePDF(t, [][]pdfTextLine{{{text: "Page one talks about otters."}}, {{text: "Page two talks about beavers."}}}, false)
	good, err := e.svc.Upload(bg, e.a, l.ID, "animals.pdf", "application/pdf", strings.NewReader(string(pdf)))
	if err != nil {
		t.Fatal(err)
	}
	bad := e.upload(t, e.a, l.ID, "broken.pdf", "%PDF-1.4\nnot really")
	empty := e.upload(t, e.a, l.ID, "empty.txt", "")
	if good.Status != store.DocTodo {
		t.Fatalf("fresh upload status = %s", good.Status)
	}
	if _, err := e.svc.TextContent(bg, e.a, l.ID, good.ID, 0, 0); err == nil {
		t.Fatal("text of an unprocessed document")
	}
	e.drain(t)
	g := e.doc(t, l.ID, good.ID)
	if g.Status != store.DocDone || g.Pages == nil || *g.Pages != 2 || g.Tokens != 10 || g.LastProcessedAt == nil || g.Attempts != 1 {
		t.Fatalf("processed: %+v", g)
	}
	txt, err := e.svc.TextContent(bg, e.a, l.ID, good.ID, 2, 2)
	if err != nil || txt != "Page two talks about beavers." {
		t.Fatalf("page 2 text = %q %v", txt, err)
	}
	if txt, _ = e.svc.TextContent(bg, e.a, l.ID, good.ID, 0, 0); !strings.Contains(txt, "otters") || !strings.Contains(txt, "beavers") {
		t.Fatalf("all text = %q", txt)
	}
	b := e.doc(t, l.ID, bad.ID)
	if b.Status != store.DocError || !strings.Contains(b.StatusReason, "malformed") {
		t.Fatalf("corrupt PDF: %s %q", b.Status, b.StatusReason)
	}
	if em := e.doc(t, l.ID, empty.ID); em.Status != store.DocError || em.StatusReason != "the file is empty" {
		t.Fatalf("empty file: %s %q", em.Status, em.StatusReason)
	}
	if _, err := e.svc.TextContent(bg, e.a, l.ID, bad.ID, 0, 0); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Fatalf("text of a failed document: %v", err)
	}
	// Reprocessing runs the job again.
	if err := e.svc.Reprocess(bg, e.a, l.ID, good.ID); err != nil {
		t.Fatal(err)
	}
	if d := e.doc(t, l.ID, good.ID); d.Status != store.DocTodo {
		t.Fatalf("after reprocess: %s", d.Status)
	}
	e.drain(t)
	if d := e.doc(t, l.ID, good.ID); d.Status != store.DocDone {
		t.Fatalf("after second run: %s", d.Status)
	}
}

func TestIngestionReclaimsDeadWorkersJobs(t *testing.T) {
	e := newTestEnv(t)
	l := e.library(t, e.a, "L")
	d := e.upload(t, e.a, l.ID, "a.txt", "survives a crash")
	// A worker claims the job and dies without finishing.
	if _, err := e.db.ClaimDocumentJob(bg, "dead-worker", time.Now(), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if did, _ := e.svc.ProcessNext(bg); did {
		t.Fatal("a live lease was taken over")
	}
	e.clockDelta = 2 * time.Minute // the lease has expired
	if did, err := e.svc.ProcessNext(bg); !did || err != nil {
		t.Fatalf("reclaim: %v %v", did, err)
	}
	got := e.doc(t, l.ID, d.ID)
	if got.Status != store.DocDone || got.Attempts != 2 {
		t.Fatalf("after reclaim: %s attempts %d", got.Status, got.Attempts)
	}
	// A document that kills every worker ends in error after MaxAttempts.
	d2 := e.upload(t, e.a, l.ID, "poison.txt", "crashes workers")
	for i := 0; i < 3; i++ {
		now := time.Now().Add(e.clockDelta)
		if _, err := e.db.ClaimDocumentJob(bg, "doomed", now, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		e.clockDelta += 2 * time.Minute
	}
	e.drain(t)
	got = e.doc(t, l.ID, d2.ID)
	if got.Status != store.DocError || !strings.Contains(got.StatusReason, "did not complete after 3 attempts") {
		t.Fatalf("poison pill: %s %q", got.Status, got.StatusReason)
	}
}

func TestIngestionRetriesTransientFailures(t *testing.T) {
	emb := &hashEmbedder{}
	emb.fail.Store(1)
	e := newTestEnv(t, func(o *Options) { o.Embedder = emb })
	l := e.library(t, e.a, "L")
	d := e.upload(t, e.a, l.ID, "a.txt", "embedded later")
	e.drain(t)
	got := e.doc(t, l.ID, d.ID)
	if got.Status != store.DocTodo || !strings.Contains(got.StatusReason, "upstream 503") {
		t.Fatalf("after a transient failure: %s %q", got.Status, got.StatusReason)
	}
	e.drain(t) // deferred: not before 30 s
	if e.doc(t, l.ID, d.ID).Status != store.DocTodo {
		t.Fatal("deferred job ran early")
	}
	e.clockDelta = time.Minute
	e.drain(t)
	if got = e.doc(t, l.ID, d.ID); got.Status != store.DocDone {
		t.Fatalf("retry: %s %q", got.Status, got.StatusReason)
	}
	_, vecs, _ := e.db.LibraryVectors(bg, l.ID)
	if len(vecs) != 1 || len(vecs[0].Vector) != 64 {
		t.Fatalf("vectors = %d", len(vecs))
	}
	// Failing every time ends in error with the reason.
	emb.fail.Store(100)
	d2 := e.upload(t, e.a, l.ID, "b.txt", "never embedded")
	for i := 0; i < 4; i++ {
		e.drain(t)
		e.clockDelta += 10 * time.Minute
	}
	if got = e.doc(t, l.ID, d2.ID); got.Status != store.DocError || !strings.Contains(got.StatusReason, "embedding the chunks failed") {
		t.Fatalf("persistent failure: %s %q", got.Status, got.StatusReason)
	}
}

func TestWorkerStartStopHandsJobBack(t *testing.T) {
	emb := &hashEmbedder{gate: make(chan struct{})}
	e := newTestEnv(t, func(o *Options) {
		o.Embedder = emb
		o.Worker.Poll = 10 * time.Millisecond
		o.Worker.Concurrency = 1
	})
	l := e.library(t, e.a, "L")
	stop := e.svc.Start(context.Background())
	d := e.upload(t, e.a, l.ID, "a.txt", "held at the gate")
	waitFor(t, func() bool { return emb.calls.Load() > 0 })
	if got := e.doc(t, l.ID, d.ID); got.Status != store.DocInProgress {
		t.Fatalf("while processing: %s", got.Status)
	}
	stop() // shutdown mid-job
	got := e.doc(t, l.ID, d.ID)
	if got.Status != store.DocTodo || got.LeaseOwner != "" {
		t.Fatalf("after stop: %s owner %q", got.Status, got.LeaseOwner)
	}
	// A restarted instance resumes it.
	close(emb.gate)
	stop = e.svc.Start(context.Background())
	defer stop()
	waitFor(t, func() bool { return e.doc(t, l.ID, d.ID).Status == store.DocDone })
	// New uploads wake the idle worker.
	d2 := e.upload(t, e.a, l.ID, "b.txt", "second")
	waitFor(t, func() bool { return e.doc(t, l.ID, d2.ID).Status == store.DocDone })
}

func TestLeaseLossCancelsJob(t *testing.T) {
	emb := &hashEmbedder{gate: make(chan struct{})}
	e := newTestEnv(t, func(o *Options) {
		o.Embedder = emb
		o.Worker.Lease = 30 * time.Millisecond
	})
	l := e.library(t, e.a, "L")
	d := e.upload(t, e.a, l.ID, "a.txt", "reprocessed while running")
	done := make(chan error, 1)
	go func() { _, err := e.svc.ProcessNext(bg); done <- err }()
	waitFor(t, func() bool { return emb.calls.Load() > 0 })
	if err := e.svc.Reprocess(bg, e.a, l.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("job kept running after losing its lease")
	}
	if got := e.doc(t, l.ID, d.ID); got.Status != store.DocTodo {
		t.Fatalf("status = %s, want todo (queued again by reprocess)", got.Status)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
