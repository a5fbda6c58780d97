package storetest

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/tramontane/tramontane/internal/store"
)

// testLibraries covers libraries, sharing, documents, ingestion jobs and
// the chunk index.
func testLibraries(t *testing.T, s store.Store) {
	t.Run("CRUDAndSharing", func(t *testing.T) { testLibraryCRUD(t, s) })
	t.Run("Documents", func(t *testing.T) { testLibraryDocuments(t, s) })
	t.Run("Jobs", func(t *testing.T) { testLibraryJobs(t, s) })
	t.Run("ConcurrentClaims", func(t *testing.T) { testConcurrentClaims(t, s) })
	t.Run("Search", func(t *testing.T) { testChunkSearch(t, s) })
	t.Run("SearchCommonTerms", func(t *testing.T) { testCommonTermSearch(t, s) })
}

func newLibrary(t *testing.T, s store.Store, w *store.Workspace, name string) *store.Library {
	t.Helper()
	at := now()
	l := &store.Library{ID: uuid.NewString(), WorkspaceID: w.ID, Name: name, OwnerType: "Workspace", CreatedAt: at, UpdatedAt: at}
	must(t, s.CreateLibrary(ctx(), l))
	return l
}

func newDocument(t *testing.T, s store.Store, l *store.Library, name string, size int64, at time.Time) *store.Document {
	t.Helper()
	d := &store.Document{ID: uuid.NewString(), LibraryID: l.ID, WorkspaceID: l.WorkspaceID, Name: name, MimeType: "text/plain",
		Extension: "txt", Size: size, Hash: "h", StorageKey: uuid.NewString(), UploadedBy: l.WorkspaceID, CreatedAt: at, UpdatedAt: at}
	must(t, s.CreateDocument(ctx(), d))
	return d
}

func testLibraryCRUD(t *testing.T, s store.Store) {
	owner, viewer, stranger := ws(t, s), ws(t, s), ws(t, s)
	l := newLibrary(t, s, owner, "Handbook")
	cs := 256
	l2 := &store.Library{ID: uuid.NewString(), WorkspaceID: owner.ID, Name: "Other", ChunkSize: &cs, OwnerType: "Workspace", CreatedAt: now().Add(time.Second), UpdatedAt: now()}
	must(t, s.CreateLibrary(ctx(), l2))
	got, err := s.LibraryFor(ctx(), owner.ID, l.ID, now())
	must(t, err)
	if got.Name != "Handbook" || got.Role != store.RoleOwner || got.ChunkSize != nil || got.NbDocuments != 0 {
		t.Fatalf("LibraryFor = %+v", got)
	}
	if _, err := s.LibraryFor(ctx(), stranger.ID, l.ID, now()); err != store.ErrNotFound {
		t.Fatalf("stranger: err = %v", err)
	}
	list, total, err := s.ListLibraries(ctx(), owner.ID, store.LibraryFilter{}, store.Page{Limit: 10}, now())
	must(t, err)
	if total != 2 || len(list) != 2 || list[0].ID != l2.ID || *list[0].ChunkSize != 256 {
		t.Fatalf("ListLibraries = %d %+v", total, list)
	}
	list, total, err = s.ListLibraries(ctx(), owner.ID, store.LibraryFilter{Search: "hand"}, store.Page{Limit: 10}, now())
	must(t, err)
	if total != 1 || list[0].ID != l.ID {
		t.Fatalf("search: %d %+v", total, list)
	}

	// Sharing.
	at := now()
	must(t, s.PutLibraryAccess(ctx(), &store.LibraryAccess{LibraryID: l.ID, Grantee: viewer.ID, Role: store.RoleViewer, CreatedAt: at, UpdatedAt: at}))
	got, err = s.LibraryFor(ctx(), viewer.ID, l.ID, now())
	must(t, err)
	if got.Role != store.RoleViewer || got.WorkspaceID != owner.ID {
		t.Fatalf("viewer sees %+v", got)
	}
	list, total, err = s.ListLibraries(ctx(), viewer.ID, store.LibraryFilter{}, store.Page{Limit: 10}, now())
	must(t, err)
	if total != 1 || list[0].ID != l.ID || list[0].Role != store.RoleViewer {
		t.Fatalf("viewer list: %d %+v", total, list)
	}
	if _, total, _ = s.ListLibraries(ctx(), viewer.ID, store.LibraryFilter{OwnedOnly: true}, store.Page{Limit: 10}, now()); total != 0 {
		t.Fatalf("owned-only list of the viewer: %d", total)
	}
	must(t, s.PutLibraryAccess(ctx(), &store.LibraryAccess{LibraryID: l.ID, Grantee: viewer.ID, Role: store.RoleEditor, CreatedAt: at, UpdatedAt: at}))
	must(t, s.PutLibraryAccess(ctx(), &store.LibraryAccess{LibraryID: l.ID, Grantee: store.AnyWorkspace, Role: store.RoleViewer, CreatedAt: at, UpdatedAt: at}))
	if got, err = s.LibraryFor(ctx(), viewer.ID, l.ID, now()); err != nil || got.Role != store.RoleEditor {
		t.Fatalf("editor + org viewer = %+v %v; want Editor", got, err)
	}
	if got, err = s.LibraryFor(ctx(), stranger.ID, l.ID, now()); err != nil || got.Role != store.RoleViewer {
		t.Fatalf("org grant: %+v %v", got, err)
	}
	acc, err := s.ListLibraryAccesses(ctx(), l.ID)
	must(t, err)
	if len(acc) != 2 {
		t.Fatalf("accesses = %+v", acc)
	}
	must(t, s.DeleteLibraryAccess(ctx(), l.ID, store.AnyWorkspace))
	if err := s.DeleteLibraryAccess(ctx(), l.ID, store.AnyWorkspace); err != store.ErrNotFound {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.LibraryFor(ctx(), stranger.ID, l.ID, now()); err != store.ErrNotFound {
		t.Fatalf("after revoking the org grant: %v", err)
	}

	// Update, stats, delete.
	desc := "the staff handbook"
	l.Name, l.Description, l.UpdatedAt = "Staff handbook", &desc, now()
	must(t, s.UpdateLibrary(ctx(), l))
	d1 := newDocument(t, s, l, "a.txt", 100, now())
	newDocument(t, s, l, "b.txt", 50, now())
	past := now().Add(-time.Hour)
	d1.ExpiresAt = &past
	must(t, s.UpdateDocument(ctx(), d1))
	got, err = s.LibraryFor(ctx(), owner.ID, l.ID, now())
	must(t, err)
	if got.Name != "Staff handbook" || *got.Description != desc || got.NbDocuments != 1 || got.TotalSize != 50 {
		t.Fatalf("after update: %+v", got)
	}
	if _, err := s.DeleteLibrary(ctx(), viewer.ID, l.ID); err != store.ErrNotFound {
		t.Fatalf("non-owner delete: %v", err)
	}
	keys, err := s.DeleteLibrary(ctx(), owner.ID, l.ID)
	must(t, err)
	if len(keys) != 2 {
		t.Fatalf("storage keys = %v", keys)
	}
	if _, err := s.LibraryFor(ctx(), owner.ID, l.ID, now()); err != store.ErrNotFound {
		t.Fatalf("after delete: %v", err)
	}
	if _, err := s.GetDocument(ctx(), l.ID, d1.ID); err != store.ErrNotFound {
		t.Fatalf("document after library delete: %v", err)
	}
}

func testLibraryDocuments(t *testing.T, s store.Store) {
	w := ws(t, s)
	l := newLibrary(t, s, w, "docs")
	base := now()
	var ids []string
	for i, name := range []string{"charlie.txt", "alpha.md", "bravo.pdf"} {
		d := newDocument(t, s, l, name, int64(10*(i+1)), base.Add(time.Duration(i)*time.Second))
		ids = append(ids, d.ID)
	}
	got, err := s.GetDocument(ctx(), l.ID, ids[0])
	must(t, err)
	if got.Status != store.DocTodo || got.Name != "charlie.txt" || got.Size != 10 || got.Pages != nil || got.Attributes != nil {
		t.Fatalf("GetDocument = %+v", got)
	}
	if _, err := s.GetDocument(ctx(), uuid.NewString(), ids[0]); err != store.ErrNotFound {
		t.Fatalf("wrong library: %v", err)
	}
	names := func(ds []store.Document) string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Name)
		}
		return fmt.Sprint(out)
	}
	list, total, err := s.ListDocuments(ctx(), l.ID, store.DocumentFilter{SortDesc: true, Now: now()}, store.Page{Limit: 2})
	must(t, err)
	if total != 3 || names(list) != "[bravo.pdf alpha.md]" {
		t.Fatalf("newest first: %d %s", total, names(list))
	}
	list, _, err = s.ListDocuments(ctx(), l.ID, store.DocumentFilter{SortBy: "name", Now: now()}, store.Page{Limit: 10, Offset: 1})
	must(t, err)
	if names(list) != "[bravo.pdf charlie.txt]" {
		t.Fatalf("by name, offset 1: %s", names(list))
	}
	list, total, err = s.ListDocuments(ctx(), l.ID, store.DocumentFilter{Search: "ALPHA", Now: now()}, store.Page{Limit: 10})
	must(t, err)
	if total != 1 || names(list) != "[alpha.md]" {
		t.Fatalf("search: %s", names(list))
	}
	got.Attributes = []byte(`{"team":"red"}`)
	got.Name = "charlie-renamed.txt"
	must(t, s.UpdateDocument(ctx(), got))
	match := func(d *store.Document) bool { return string(d.Attributes) == `{"team":"red"}` }
	list, total, err = s.ListDocuments(ctx(), l.ID, store.DocumentFilter{Match: match, Now: now()}, store.Page{Limit: 10})
	must(t, err)
	if total != 1 || names(list) != "[charlie-renamed.txt]" {
		t.Fatalf("match: %d %s", total, names(list))
	}
	past := now().Add(-time.Second)
	got.ExpiresAt = &past
	must(t, s.UpdateDocument(ctx(), got))
	if _, total, _ = s.ListDocuments(ctx(), l.ID, store.DocumentFilter{Now: now()}, store.Page{Limit: 10}); total != 2 {
		t.Fatalf("expired document still listed: %d", total)
	}
	exp, err := s.ExpiredDocuments(ctx(), now(), 100)
	must(t, err)
	found := false
	for _, d := range exp {
		found = found || d.ID == got.ID
	}
	if !found {
		t.Fatalf("ExpiredDocuments misses %s", got.ID)
	}
	del, err := s.DeleteDocument(ctx(), l.ID, ids[1])
	must(t, err)
	if del.StorageKey == "" {
		t.Fatal("DeleteDocument returned no storage key")
	}
	if _, err := s.DeleteDocument(ctx(), l.ID, ids[1]); err != store.ErrNotFound {
		t.Fatalf("second delete: %v", err)
	}
}

// drain claims and fails every pending job, so a test sees only its own.
func drain(t *testing.T, s store.Store) {
	t.Helper()
	far := now().Add(1000 * time.Hour)
	for {
		d, err := s.ClaimDocumentJob(ctx(), "drain", far, far.Add(time.Hour))
		if err == store.ErrNotFound {
			return
		}
		must(t, err)
		must(t, s.FinishDocumentJob(ctx(), d.ID, "drain", &store.DocumentResult{Status: store.DocError, Reason: "drained", At: now()}))
	}
}

func testLibraryJobs(t *testing.T, s store.Store) {
	drain(t, s)
	w := ws(t, s)
	l := newLibrary(t, s, w, "jobs")
	t0 := now()
	d1 := newDocument(t, s, l, "one.txt", 1, t0)
	d2 := newDocument(t, s, l, "two.txt", 1, t0.Add(time.Second))
	v0, err := s.LibraryIndexVersion(ctx(), l.ID)
	must(t, err)

	c1, err := s.ClaimDocumentJob(ctx(), "w1", t0, t0.Add(time.Minute))
	must(t, err)
	if c1.ID != d1.ID || c1.Status != store.DocInProgress || c1.Attempts != 1 || c1.LeaseOwner != "w1" {
		t.Fatalf("first claim = %+v", c1)
	}
	c2, err := s.ClaimDocumentJob(ctx(), "w2", t0, t0.Add(time.Minute))
	must(t, err)
	if c2.ID != d2.ID {
		t.Fatalf("second claim = %s, want %s", c2.ID, d2.ID)
	}
	if _, err := s.ClaimDocumentJob(ctx(), "w3", t0, t0.Add(time.Minute)); err != store.ErrNotFound {
		t.Fatalf("nothing left: err = %v", err)
	}
	must(t, s.ExtendDocumentLease(ctx(), d1.ID, "w1", t0.Add(2*time.Minute)))
	if err := s.ExtendDocumentLease(ctx(), d1.ID, "w2", t0.Add(2*time.Minute)); err != store.ErrConflict {
		t.Fatalf("extend by non-owner: %v", err)
	}

	// w2 dies; after its lease expires w3 reclaims the job.
	later := t0.Add(90 * time.Second)
	c3, err := s.ClaimDocumentJob(ctx(), "w3", later, later.Add(time.Minute))
	must(t, err)
	if c3.ID != d2.ID || c3.Attempts != 2 || c3.LeaseOwner != "w3" {
		t.Fatalf("reclaim = %+v", c3)
	}
	res := &store.DocumentResult{Status: store.DocDone, At: later, Tokens: 3}
	if err := s.FinishDocumentJob(ctx(), d2.ID, "w2", res); err != store.ErrConflict {
		t.Fatalf("finish by the dead worker: %v", err)
	}

	// w1 finishes with text and chunks.
	pages := 2
	res = &store.DocumentResult{Status: store.DocDone, At: later, Tokens: 7, Pages: &pages,
		Text: []store.DocumentPage{{Page: 1, Text: "first page"}, {Page: 2, Text: "second page"}},
		Chunks: []store.Chunk{
			{Index: 0, Text: "zebras graze on the savanna", Heading: "Wildlife", Page: 1, Tokens: 5, Embedding: []float32{1, 0, 0.5}},
			{Index: 1, Text: "penguins swim in cold water", Page: 2, Tokens: 5, Embedding: []float32{0, 1, -0.25}},
		}}
	must(t, s.FinishDocumentJob(ctx(), d1.ID, "w1", res))
	got, err := s.GetDocument(ctx(), l.ID, d1.ID)
	must(t, err)
	if got.Status != store.DocDone || got.Tokens != 7 || got.Pages == nil || *got.Pages != 2 || got.LastProcessedAt == nil || got.LeaseOwner != "" {
		t.Fatalf("after finish: %+v", got)
	}
	text, err := s.DocumentText(ctx(), d1.ID, 2, 0)
	must(t, err)
	if len(text) != 1 || text[0].Text != "second page" {
		t.Fatalf("DocumentText(2..) = %+v", text)
	}
	if text, _ = s.DocumentText(ctx(), d1.ID, 0, 0); len(text) != 2 {
		t.Fatalf("all pages: %+v", text)
	}
	v1, vecs, err := s.LibraryVectors(ctx(), l.ID)
	must(t, err)
	if v1 == v0 || len(vecs) != 2 || fmt.Sprint(vecs[1].Vector) != "[0 1 -0.25]" || vecs[0].DocumentID != d1.ID {
		t.Fatalf("vectors: v%d->v%d %+v", v0, v1, vecs)
	}

	// A transient failure defers the job; it is not claimable before then.
	must(t, s.DeferDocumentJob(ctx(), d2.ID, "w3", "embeddings upstream down", later.Add(time.Minute)))
	if _, err := s.ClaimDocumentJob(ctx(), "w4", later, later.Add(time.Minute)); err != store.ErrNotFound {
		t.Fatalf("deferred job claimed early: %v", err)
	}
	c4, err := s.ClaimDocumentJob(ctx(), "w4", later.Add(2*time.Minute), later.Add(3*time.Minute))
	must(t, err)
	if c4.ID != d2.ID || c4.Attempts != 3 || c4.StatusReason != "embeddings upstream down" {
		t.Fatalf("deferred claim = %+v", c4)
	}
	must(t, s.FinishDocumentJob(ctx(), d2.ID, "w4", &store.DocumentResult{Status: store.DocError, Reason: "bad file", At: later}))
	got, _ = s.GetDocument(ctx(), l.ID, d2.ID)
	if got.Status != store.DocError || got.StatusReason != "bad file" {
		t.Fatalf("error state: %+v", got)
	}

	// Reprocess: back to todo with attempts reset; old chunks stay until
	// the new result replaces them.
	must(t, s.ResetDocumentJob(ctx(), l.ID, d1.ID, later))
	got, _ = s.GetDocument(ctx(), l.ID, d1.ID)
	if got.Status != store.DocTodo || got.Attempts != 0 {
		t.Fatalf("after reset: %+v", got)
	}
	hits, err := s.SearchChunks(ctx(), store.ChunkQuery{LibraryIDs: []string{l.ID}, Terms: []string{"zebras"}, Limit: 5, Now: now()})
	must(t, err)
	if len(hits) != 1 {
		t.Fatalf("chunks dropped by reset: %+v", hits)
	}
	c5, err := s.ClaimDocumentJob(ctx(), "w5", later, later.Add(time.Minute))
	must(t, err)
	must(t, s.FinishDocumentJob(ctx(), c5.ID, "w5", &store.DocumentResult{Status: store.DocDone, At: later,
		Chunks: []store.Chunk{{Index: 0, Text: "only giraffes now"}}}))
	if hits, _ = s.SearchChunks(ctx(), store.ChunkQuery{LibraryIDs: []string{l.ID}, Terms: []string{"zebras"}, Limit: 5, Now: now()}); len(hits) != 0 {
		t.Fatalf("old chunks survived reprocessing: %+v", hits)
	}
	if err := s.ResetDocumentJob(ctx(), l.ID, uuid.NewString(), later); err != store.ErrNotFound {
		t.Fatalf("reset unknown: %v", err)
	}
}

func testConcurrentClaims(t *testing.T, s store.Store) {
	drain(t, s)
	w := ws(t, s)
	l := newLibrary(t, s, w, "many")
	const jobs, workers = 24, 6
	want := map[string]bool{}
	for i := 0; i < jobs; i++ {
		want[newDocument(t, s, l, fmt.Sprintf("d%02d", i), 1, now()).ID] = true
	}
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for wi := 0; wi < workers; wi++ {
		wg.Add(1)
		go func(owner string) {
			defer wg.Done()
			for {
				d, err := s.ClaimDocumentJob(ctx(), owner, now(), now().Add(time.Minute))
				if errors.Is(err, store.ErrNotFound) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				got[d.ID]++
				mu.Unlock()
				if err := s.FinishDocumentJob(ctx(), d.ID, owner, &store.DocumentResult{Status: store.DocDone, At: now(),
					Chunks: []store.Chunk{{Text: "chunk of " + d.Name}}}); err != nil {
					errs <- err
					return
				}
			}
		}(fmt.Sprintf("worker-%d", wi))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var dup []string
	for id, n := range got {
		if n != 1 {
			dup = append(dup, id)
		}
	}
	sort.Strings(dup)
	if len(got) != jobs || len(dup) > 0 {
		t.Fatalf("claimed %d distinct jobs of %d; claimed more than once: %v", len(got), jobs, dup)
	}
	for id := range want {
		if got[id] != 1 {
			t.Fatalf("job %s never claimed", id)
		}
	}
}

func testChunkSearch(t *testing.T, s store.Store) {
	drain(t, s)
	w, other := ws(t, s), ws(t, s)
	la, lb := newLibrary(t, s, w, "a"), newLibrary(t, s, other, "b")
	index := func(l *store.Library, name string, texts ...string) *store.Document {
		d := newDocument(t, s, l, name, 1, now())
		c, err := s.ClaimDocumentJob(ctx(), "idx", now(), now().Add(time.Minute))
		must(t, err)
		if c.ID != d.ID {
			t.Fatalf("claimed %s, want %s", c.ID, d.ID)
		}
		var chunks []store.Chunk
		for i, tx := range texts {
			chunks = append(chunks, store.Chunk{Index: i, Text: tx, Heading: "H", Page: i + 1, Tokens: 4})
		}
		must(t, s.FinishDocumentJob(ctx(), d.ID, "idx", &store.DocumentResult{Status: store.DocDone, At: now(), Chunks: chunks}))
		return d
	}
	d1 := index(la, "volcanoes.txt", "Volcanoes erupt lava and ash. Lava flows from volcanoes destroy forests.", "Glaciers carve valleys slowly.")
	d2 := index(la, "lakes.txt", "Lakes form in volcanic craters sometimes.", "Rivers feed the lakes with water.")
	index(lb, "secret.txt", "Volcanoes volcanoes volcanoes lava lava.")

	hits, err := s.SearchChunks(ctx(), store.ChunkQuery{LibraryIDs: []string{la.ID}, Terms: []string{"volcano lava"}, Limit: 10, Now: now()})
	must(t, err)
	if len(hits) == 0 || hits[0].DocumentID != d1.ID || hits[0].DocumentName != "volcanoes.txt" || hits[0].Page != 1 || hits[0].Heading != "H" {
		t.Fatalf("top hit = %+v", hits)
	}
	for i, h := range hits {
		if h.LibraryID != la.ID {
			t.Fatalf("hit from another library: %+v", h)
		}
		if i > 0 && h.Score > hits[i-1].Score {
			t.Fatalf("scores not descending: %+v", hits)
		}
	}
	// Operators and punctuation in the query are plain words.
	if _, err := s.SearchChunks(ctx(), store.ChunkQuery{LibraryIDs: []string{la.ID}, Terms: []string{`"lava" AND NOT (x* OR y:) NEAR/2 -- ' ; |&!`}, Limit: 5, Now: now()}); err != nil {
		t.Fatalf("hostile query: %v", err)
	}
	hits, err = s.SearchChunks(ctx(), store.ChunkQuery{LibraryIDs: []string{la.ID}, DocumentIDs: []string{d2.ID}, Terms: []string{"lakes", "volcanoes"}, Limit: 10, Now: now()})
	must(t, err)
	if len(hits) == 0 {
		t.Fatal("no hits in the document filter")
	}
	for _, h := range hits {
		if h.DocumentID != d2.ID {
			t.Fatalf("document filter broken: %+v", h)
		}
	}
	if hits, _ = s.SearchChunks(ctx(), store.ChunkQuery{LibraryIDs: []string{la.ID}, DocumentIDs: []string{}, Terms: []string{"lakes"}, Limit: 10, Now: now()}); len(hits) != 0 {
		t.Fatalf("empty document filter matched: %+v", hits)
	}
	if hits, _ = s.SearchChunks(ctx(), store.ChunkQuery{LibraryIDs: []string{la.ID, lb.ID}, Terms: []string{"volcanoes"}, Limit: 10, Now: now()}); len(hits) != 2 {
		t.Fatalf("two libraries: %d hits", len(hits))
	}
	byID, err := s.GetChunks(ctx(), []int64{hits[0].ID, hits[1].ID}, now())
	must(t, err)
	if len(byID) != 2 || byID[0].Text == "" {
		t.Fatalf("GetChunks = %+v", byID)
	}
	// An expired document drops out of search.
	doc, _ := s.GetDocument(ctx(), la.ID, d1.ID)
	past := now().Add(-time.Minute)
	doc.ExpiresAt = &past
	must(t, s.UpdateDocument(ctx(), doc))
	hits, _ = s.SearchChunks(ctx(), store.ChunkQuery{LibraryIDs: []string{la.ID}, Terms: []string{"volcanoes"}, Limit: 10, Now: now()})
	for _, h := range hits {
		if h.DocumentID == d1.ID {
			t.Fatalf("expired document found: %+v", h)
		}
	}
	if _, err := s.DeleteDocument(ctx(), la.ID, d2.ID); err != nil {
		t.Fatal(err)
	}
	if hits, _ = s.SearchChunks(ctx(), store.ChunkQuery{LibraryIDs: []string{la.ID}, Terms: []string{"lakes"}, Limit: 10, Now: now()}); len(hits) != 0 {
		t.Fatalf("deleted document still indexed: %+v", hits)
	}
}

// testCommonTermSearch covers queries whose words are in most chunks (the
// SQLite backend then searches with its rarest terms only).
func testCommonTermSearch(t *testing.T, s store.Store) {
	drain(t, s)
	w := ws(t, s)
	l := newLibrary(t, s, w, "big")
	d := newDocument(t, s, l, "big.txt", 1, now())
	c, err := s.ClaimDocumentJob(ctx(), "idx", now(), now().Add(time.Minute))
	must(t, err)
	if c.ID != d.ID {
		t.Fatalf("claimed %s", c.ID)
	}
	var chunks []store.Chunk
	for i := 0; i < 2600; i++ {
		text := fmt.Sprintf("harbour report number %d about ships and weather", i)
		if i%2 == 0 {
			text += " with cargo manifests"
		} else {
			text += " towed by tugboats"
		}
		if i == 1001 {
			text += " mentioning a narwhal sighting"
		}
		chunks = append(chunks, store.Chunk{Index: i, Text: text, Tokens: 10})
	}
	must(t, s.FinishDocumentJob(ctx(), d.ID, "idx", &store.DocumentResult{Status: store.DocDone, At: now(), Chunks: chunks}))
	q := func(terms string) []store.ScoredChunk {
		t.Helper()
		hits, err := s.SearchChunks(ctx(), store.ChunkQuery{LibraryIDs: []string{l.ID}, Terms: []string{terms}, Limit: 10, Now: now()})
		must(t, err)
		return hits
	}
	// A rare word among common ones still finds its chunk first.
	if hits := q("harbour ships weather narwhal"); len(hits) == 0 || hits[0].Index != 1001 {
		t.Fatalf("rare term: %+v", hits)
	}
	// Only common words: still ten results, all relevant.
	hits := q("harbour ships cargo")
	if len(hits) != 10 {
		t.Fatalf("common terms: %d hits", len(hits))
	}
	if hits := q("manifests sighting"); len(hits) == 0 || hits[0].Index != 1001 {
		t.Fatalf("rare and common: %+v", hits)
	}
	// Common words that never meet: the wider search still answers.
	if hits := q("cargo tugboats"); len(hits) != 10 {
		t.Fatalf("disjoint common terms: %d hits", len(hits))
	}
}
