package library

import (
	"fmt"
	"math"
	"testing"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/store"
)

func TestFuseRRF(t *testing.T) {
	bm := []store.ScoredChunk{{Chunk: store.Chunk{ID: 1}}, {Chunk: store.Chunk{ID: 2}}, {Chunk: store.Chunk{ID: 3}}}
	vec := []VectorHit{{ChunkID: 3}, {ChunkID: 4}, {ChunkID: 1}}
	got := fuse(bm, vec, 10)
	want := map[int64]float64{
		1: 1.0/61 + 1.0/63,
		2: 1.0 / 62,
		3: 1.0/63 + 1.0/61,
		4: 1.0 / 62,
	}
	if len(got) != 4 {
		t.Fatalf("fused = %+v", got)
	}
	for i, h := range got {
		if math.Abs(h.Score-want[h.ChunkID]) > 1e-12 {
			t.Errorf("chunk %d score %v, want %v", h.ChunkID, h.Score, want[h.ChunkID])
		}
		if i > 0 && h.Score > got[i-1].Score {
			t.Error("not sorted")
		}
	}
	// Ties break by chunk id: 1 and 3 tie first, 2 and 4 tie second.
	if got[0].ChunkID != 1 || got[1].ChunkID != 3 || got[2].ChunkID != 2 || got[0].BM25Rank != 1 || got[0].VectorRank != 3 {
		t.Errorf("order = %+v", got)
	}
	if one := fuse(bm, nil, 2); len(one) != 2 || one[0].ChunkID != 1 {
		t.Errorf("bm25 alone = %+v", one)
	}
}

func TestQueryTerms(t *testing.T) {
	if got := fmt.Sprint(QueryTerms("What is the capital of France? France!")); got != "[capital france]" {
		t.Errorf("terms = %s", got)
	}
	if got := fmt.Sprint(QueryTerms("to be or not to be")); got != "[to be or not to be]" {
		t.Errorf("all stopwords = %s", got)
	}
}

func TestHybridSearch(t *testing.T) {
	emb := &hashEmbedder{}
	e := newTestEnv(t, func(o *Options) { o.Embedder = emb })
	l := e.library(t, e.a, "Zoo")
	other := e.library(t, e.b, "Private")
	docs := map[string]*store.Document{}
	for name, text := range map[string]string{
		"otters.md":   "# Otters\n\nSea otters float on their backs and crack shellfish with stones.",
		"beavers.md":  "# Beavers\n\nBeavers build dams from branches and mud across streams.",
		"penguins.md": "# Penguins\n\nEmperor penguins huddle together through the antarctic winter.",
	} {
		docs[name] = e.upload(t, e.a, l.ID, name, text)
	}
	e.upload(t, e.b, other.ID, "secret.md", "Sea otters are the secret mascot.")
	e.drain(t)

	res, err := e.svc.Search(bg, SearchRequest{Workspace: e.a, LibraryIDs: []string{l.ID, other.ID}, Query: "sea otters shellfish"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != ModeHybrid || len(res.Hits) == 0 || res.Hits[0].DocumentID != docs["otters.md"].ID {
		t.Fatalf("hybrid = %+v", res)
	}
	if len(res.Missing) != 1 || res.Missing[0] != other.ID {
		t.Fatalf("missing = %v", res.Missing)
	}
	h := res.Hits[0]
	if h.BM25Rank != 1 || h.VectorRank != 1 || h.Heading != "Otters" || h.DocumentName != "otters.md" || h.Text == "" {
		t.Fatalf("top hit = %+v", h)
	}
	for _, hit := range res.Hits {
		if hit.LibraryID != l.ID {
			t.Fatalf("hit outside the readable library: %+v", hit)
		}
	}
	// Vector-only hits get their text loaded.
	res, err = e.svc.Search(bg, SearchRequest{Workspace: e.a, LibraryIDs: []string{l.ID}, Query: "penguins", Mode: ModeVector, K: 1})
	if err != nil || len(res.Hits) != 1 || res.Hits[0].DocumentID != docs["penguins.md"].ID || res.Hits[0].Text == "" {
		t.Fatalf("vector = %+v %v", res, err)
	}
	// Attribute filters restrict both rankings.
	if _, err := e.svc.UpdateDocument(bg, e.a, l.ID, docs["beavers.md"].ID, DocumentUpdate{Attributes: []byte(`{"habitat":"river"}`)}); err != nil {
		t.Fatal(err)
	}
	f, _ := ParseFilter(`{"habitat":"river"}`)
	res, err = e.svc.Search(bg, SearchRequest{Workspace: e.a, LibraryIDs: []string{l.ID}, Query: "sea otters", Filter: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, hit := range res.Hits {
		if hit.DocumentID != docs["beavers.md"].ID {
			t.Fatalf("filter let through %+v", hit)
		}
	}
	// Deleting a document removes it from both indexes at once.
	if err := e.svc.DeleteDocument(bg, e.a, l.ID, docs["otters.md"].ID); err != nil {
		t.Fatal(err)
	}
	res, _ = e.svc.Search(bg, SearchRequest{Workspace: e.a, LibraryIDs: []string{l.ID}, Query: "sea otters shellfish"})
	for _, hit := range res.Hits {
		if hit.DocumentID == docs["otters.md"].ID {
			t.Fatal("deleted document still found")
		}
	}
	// Nothing readable: 404.
	if _, err := e.svc.Search(bg, SearchRequest{Workspace: e.c, LibraryIDs: []string{l.ID}, Query: "x"}); !apierr.Is(err, apierr.NotFound) {
		t.Fatalf("unreadable libraries: %v", err)
	}
}

func TestSearchWithoutEmbeddings(t *testing.T) {
	e := newTestEnv(t)
	l := e.library(t, e.a, "L")
	e.upload(t, e.a, l.ID, "a.txt", "Lighthouses guide ships at night.")
	e.drain(t)
	res, err := e.svc.Search(bg, SearchRequest{Workspace: e.a, LibraryIDs: []string{l.ID}, Query: "lighthouse ship"})
	if err != nil || res.Mode != ModeBM25 || len(res.Hits) != 1 || res.Hits[0].Score <= 0 {
		t.Fatalf("bm25 = %+v %v", res, err)
	}
	if _, err := e.svc.Search(bg, SearchRequest{Workspace: e.a, LibraryIDs: []string{l.ID}, Query: "x", Mode: ModeHybrid}); !apierr.Is(err, apierr.Unavailable) {
		t.Fatalf("hybrid without a model: %v", err)
	}
}

func TestExactIndexFollowsVersions(t *testing.T) {
	emb := &hashEmbedder{}
	e := newTestEnv(t, func(o *Options) { o.Embedder = emb })
	l := e.library(t, e.a, "L")
	e.upload(t, e.a, l.ID, "a.txt", "alpha beta gamma")
	e.drain(t)
	q, _ := emb.Embed(bg, []string{"alpha beta gamma"})
	hits, err := e.svc.vector.Search(bg, []string{l.ID}, nil, q[0], 5)
	if err != nil || len(hits) != 1 || hits[0].Score < 0.5 {
		t.Fatalf("hits = %+v %v", hits, err)
	}
	e.upload(t, e.a, l.ID, "b.txt", "delta epsilon")
	e.drain(t)
	if hits, _ = e.svc.vector.Search(bg, []string{l.ID}, nil, q[0], 5); len(hits) != 2 {
		t.Fatalf("cache not refreshed: %+v", hits)
	}
	if hits, _ = e.svc.vector.Search(bg, []string{l.ID}, func(string) bool { return false }, q[0], 5); len(hits) != 0 {
		t.Fatalf("allow ignored: %+v", hits)
	}
}
