package eval

import (
	"context"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/blob"
	"github.com/tramontane/tramontane/internal/library"
	"github.com/tramontane/tramontane/internal/store/sqlstore"
)

// Measured on this set (SQLite FTS5 BM25; see README.md). The test fails
// if BM25 falls more than baselineMargin below its baseline, so ranking
// regressions (tokenizer, chunking, query building, weights) are caught.
const (
	bm25BaselineNDCG   = 0.642
	bm25BaselineRecall = 0.777
	baselineMargin     = 0.02
)

func TestMetrics(t *testing.T) {
	rel := map[string]int{"a": 2, "b": 1}
	if got := NDCG([]string{"a", "b", "c"}, rel, 10); math.Abs(got-1) > 1e-12 {
		t.Errorf("ideal nDCG = %v", got)
	}
	want := (1 / math.Log2(2)) / (3/math.Log2(2) + 1/math.Log2(3)) // only b, at rank 1
	if got := NDCG([]string{"b"}, rel, 10); math.Abs(got-want) > 1e-12 {
		t.Errorf("nDCG = %v, want %v", got, want)
	}
	if got := NDCG([]string{"x", "y"}, rel, 10); got != 0 {
		t.Errorf("no hits: %v", got)
	}
	if got := Recall([]string{"x", "b"}, rel, 1); got != 0 {
		t.Errorf("recall@1 = %v", got)
	}
	if got := Recall([]string{"x", "b"}, rel, 2); got != 0.5 {
		t.Errorf("recall@2 = %v", got)
	}
}

// ingest loads the corpus into a fresh library and processes it.
func ingest(t testing.TB, url string, docs []Doc) (*library.Service, string, string, map[string]string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlstore.Open(ctx, url, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := blob.NewLocal(dir + "/blobs")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := library.New(ctx, db, library.Options{Blobs: blobs, Embedder: HashEmbedder{Dim: 256},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	w, err := db.EnsureWorkspace(ctx, "eval-"+time.Now().Format("150405.000000"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := svc.Create(ctx, w.ID, library.CreateInput{Name: "Jargon File 4.4.7"})
	if err != nil {
		t.Fatal(err)
	}
	docOf := map[string]string{}
	for _, d := range docs {
		doc, err := svc.Upload(ctx, w.ID, l.ID, "entry.txt", "text/plain", strings.NewReader(d.Text))
		if err != nil {
			t.Fatal(err)
		}
		docOf[doc.ID] = d.ID
	}
	for {
		did, err := svc.ProcessNext(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !did {
			break
		}
	}
	return svc, w.ID, l.ID, docOf
}

func TestRetrievalQuality(t *testing.T) {
	docs, qs, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) < 200 || len(qs) < 100 {
		t.Fatalf("evaluation set too small: %d documents, %d queries", len(docs), len(qs))
	}
	ids := map[string]bool{}
	for _, d := range docs {
		ids[d.ID] = true
	}
	for _, q := range qs {
		for id := range q.Relevant {
			if !ids[id] {
				t.Fatalf("%s judges unknown document %q", q.ID, id)
			}
		}
	}
	url := os.Getenv("TRAMONTANE_EVAL_DATABASE_URL") // opt-in: a fresh PostgreSQL database
	backend := "sqlite"
	if url != "" {
		backend = "postgres"
	}
	svc, ws, lib, docOf := ingest(t, url, docs)
	bm, err := Run(context.Background(), svc, ws, lib, library.ModeBM25, qs, docOf)
	if err != nil {
		t.Fatal(err)
	}
	hy, err := Run(context.Background(), svc, ws, lib, library.ModeHybrid, qs, docOf)
	if err != nil {
		t.Fatal(err)
	}
	vec, err := Run(context.Background(), svc, ws, lib, library.ModeVector, qs, docOf)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []Scores{bm, hy, vec} {
		t.Logf("%s %-6s nDCG@10 %.3f  recall@10 %.3f  (%d queries, %d documents)", backend, s.Mode, s.NDCG10, s.Recall10, s.Queries, len(docs))
	}
	if backend != "sqlite" {
		return
	}
	if bm.NDCG10 < bm25BaselineNDCG-baselineMargin {
		t.Errorf("BM25 nDCG@10 %.3f fell below the baseline %.2f - %.2f", bm.NDCG10, bm25BaselineNDCG, baselineMargin)
	}
	if bm.Recall10 < bm25BaselineRecall-baselineMargin {
		t.Errorf("BM25 recall@10 %.3f fell below the baseline %.2f - %.2f", bm.Recall10, bm25BaselineRecall, baselineMargin)
	}
}
