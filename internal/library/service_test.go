package library

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/blob"
	"github.com/tramontane/tramontane/internal/file"
	"github.com/tramontane/tramontane/internal/store"
	"github.com/tramontane/tramontane/internal/store/sqlstore"
)

var bg = context.Background()

// testEnv is a service on a fresh SQLite store with three workspaces.
type testEnv struct {
	svc        *Service
	db         *sqlstore.DB
	blobs      file.Blobs
	a, b, c    string // workspace ids
	clockDelta time.Duration
}

func newTestEnv(t *testing.T, mod ...func(*Options)) *testEnv {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlstore.Open(bg, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := blob.NewLocal(dir + "/blobs")
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Blobs: blobs, MaxUploadBytes: 1 << 20, Worker: WorkerOptions{ID: "test-worker", Lease: time.Minute},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, m := range mod {
		m(&o)
	}
	svc, err := New(bg, db, o)
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{svc: svc, db: db, blobs: blobs}
	svc.now = func() time.Time { return time.Now().Add(e.clockDelta) }
	for i, name := range []string{"alpha", "beta", "gamma"} {
		w, err := db.EnsureWorkspace(bg, name)
		if err != nil {
			t.Fatal(err)
		}
		*[]*string{&e.a, &e.b, &e.c}[i] = w.ID
	}
	return e
}

func (e *testEnv) library(t *testing.T, ws, name string) *store.Library {
	t.Helper()
	l, err := e.svc.Create(bg, ws, CreateInput{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func (e *testEnv) upload(t *testing.T, ws, lib, name, content string) *store.Document {
	t.Helper()
	d, err := e.svc.Upload(bg, ws, lib, name, "", strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// drain processes every pending job.
func (e *testEnv) drain(t *testing.T) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		did, err := e.svc.ProcessNext(bg)
		if err != nil {
			t.Fatal(err)
		}
		if !did {
			return
		}
	}
	t.Fatal("jobs never ran out")
}

func isNotFound(err error) bool { return apierr.Is(err, apierr.NotFound) }

func isForbidden(err error) bool { return apierr.Is(err, apierr.Forbidden) }

func TestLibraryRolesEverywhere(t *testing.T) {
	e := newTestEnv(t)
	l := e.library(t, e.a, "Handbook")
	d := e.upload(t, e.a, l.ID, "policy.md", "# Leave\n\nStaff get twenty-five days of paid leave.")
	e.drain(t)

	// Before sharing, beta sees nothing: every operation is 404.
	for name, err := range map[string]error{
		"get":    func() error { _, err := e.svc.Get(bg, e.b, l.ID); return err }(),
		"docs":   func() error { _, _, err := e.svc.ListDocuments(bg, e.b, l.ID, DocListInput{PageSize: 10}); return err }(),
		"doc":    func() error { _, err := e.svc.GetDocument(bg, e.b, l.ID, d.ID); return err }(),
		"upload": e.svc.CheckUpload(bg, e.b, l.ID),
		"search": func() error {
			_, err := e.svc.Search(bg, SearchRequest{Workspace: e.b, LibraryIDs: []string{l.ID}, Query: "leave"})
			return err
		}(),
		"share": func() error {
			_, err := e.svc.Share(bg, e.b, l.ID, ShareInput{Level: "Editor", ShareWithUUID: e.b, ShareWithType: "Workspace"})
			return err
		}(),
	} {
		if !isNotFound(err) {
			t.Errorf("unshared %s: err = %v, want 404", name, err)
		}
	}

	if _, err := e.svc.Share(bg, e.a, l.ID, ShareInput{Level: "Viewer", ShareWithUUID: e.b, ShareWithType: "Workspace"}); err != nil {
		t.Fatal(err)
	}
	// A viewer reads and searches...
	if got, err := e.svc.Get(bg, e.b, l.ID); err != nil || got.NbDocuments != 1 {
		t.Fatalf("viewer get: %+v %v", got, err)
	}
	if txt, err := e.svc.TextContent(bg, e.b, l.ID, d.ID, 0, 0); err != nil || !strings.Contains(txt, "twenty-five days") {
		t.Fatalf("viewer text: %q %v", txt, err)
	}
	res, err := e.svc.Search(bg, SearchRequest{Workspace: e.b, LibraryIDs: []string{l.ID}, Query: "paid leave days"})
	if err != nil || len(res.Hits) != 1 || res.Hits[0].DocumentID != d.ID {
		t.Fatalf("viewer search: %+v %v", res, err)
	}
	// ...but changes nothing.
	name := "renamed"
	for op, err := range map[string]error{
		"upload": e.svc.CheckUpload(bg, e.b, l.ID),
		"update": func() error {
			_, err := e.svc.UpdateDocument(bg, e.b, l.ID, d.ID, DocumentUpdate{Name: &name})
			return err
		}(),
		"delete":    e.svc.DeleteDocument(bg, e.b, l.ID, d.ID),
		"reprocess": e.svc.Reprocess(bg, e.b, l.ID, d.ID),
		"rename":    func() error { _, err := e.svc.Update(bg, e.b, l.ID, UpdateInput{Name: &name}); return err }(),
		"drop":      func() error { _, err := e.svc.Delete(bg, e.b, l.ID); return err }(),
		"share": func() error {
			_, err := e.svc.Share(bg, e.b, l.ID, ShareInput{Level: "Editor", ShareWithUUID: e.c, ShareWithType: "Workspace"})
			return err
		}(),
	} {
		if !isForbidden(err) {
			t.Errorf("viewer %s: err = %v, want forbidden", op, err)
		}
	}

	// An editor writes documents and renames the library, but neither
	// shares nor deletes it.
	if _, err := e.svc.Share(bg, e.a, l.ID, ShareInput{Level: "Editor", ShareWithUUID: e.b, ShareWithType: "Workspace"}); err != nil {
		t.Fatal(err)
	}
	d2 := e.upload(t, e.b, l.ID, "notes.txt", "Editors can add notes.")
	if d2.UploadedBy != e.b || d2.WorkspaceID != e.a {
		t.Fatalf("uploaded by %s into %s", d2.UploadedBy, d2.WorkspaceID)
	}
	if _, err := e.svc.UpdateDocument(bg, e.b, l.ID, d.ID, DocumentUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Update(bg, e.b, l.ID, UpdateInput{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Delete(bg, e.b, l.ID); !isForbidden(err) {
		t.Fatalf("editor delete library: %v", err)
	}
	if _, err := e.svc.Share(bg, e.b, l.ID, ShareInput{Level: "Viewer", ShareWithUUID: e.c, ShareWithType: "Workspace"}); !isForbidden(err) {
		t.Fatalf("editor share: %v", err)
	}
	if err := e.svc.DeleteDocument(bg, e.b, l.ID, d2.ID); err != nil {
		t.Fatal(err)
	}

	// Org-wide sharing reaches gamma; sharing targets are checked.
	if _, err := e.svc.Share(bg, e.a, l.ID, ShareInput{Level: "Viewer", ShareWithUUID: e.svc.OrgID(), ShareWithType: "Org"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(bg, e.c, l.ID); err != nil {
		t.Fatalf("org viewer: %v", err)
	}
	acc, err := e.svc.Accesses(bg, e.c, l.ID)
	if err != nil || len(acc) != 3 || acc[0].Role != "Owner" || *acc[0].ShareWithUUID != e.a {
		t.Fatalf("accesses = %+v %v", acc, err)
	}
	for _, bad := range []ShareInput{
		{Level: "Owner", ShareWithUUID: e.b, ShareWithType: "Workspace"},
		{Level: "Viewer", ShareWithUUID: "no-such-ws", ShareWithType: "Workspace"},
		{Level: "Viewer", ShareWithUUID: e.a, ShareWithType: "Workspace"},
		{Level: "Viewer", ShareWithUUID: e.b, ShareWithType: "User"},
		{Level: "Viewer", ShareWithUUID: "other-org", ShareWithType: "Org"},
	} {
		if _, err := e.svc.Share(bg, e.a, l.ID, bad); !apierr.Is(err, apierr.Validation) {
			t.Errorf("share %+v: err = %v, want 422", bad, err)
		}
	}
	if _, err := e.svc.Unshare(bg, e.a, l.ID, ShareInput{ShareWithUUID: e.b, ShareWithType: "Workspace"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Unshare(bg, e.a, l.ID, ShareInput{ShareWithUUID: e.b, ShareWithType: "Workspace"}); !isNotFound(err) {
		t.Fatalf("second unshare: %v", err)
	}
	// beta still reads through the org grant; once that goes, it is 404.
	if _, err := e.svc.Unshare(bg, e.a, l.ID, ShareInput{ShareWithUUID: e.svc.OrgID(), ShareWithType: "Org"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(bg, e.b, l.ID); !isNotFound(err) {
		t.Fatalf("after unsharing: %v", err)
	}
	// The owner deletes the library and its content.
	if _, err := e.svc.Delete(bg, e.a, l.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.blobs.Open(context.Background(), d.StorageKey); err == nil {
		t.Fatal("document content survived the library")
	}
}

func TestDocumentUpdatesAndListing(t *testing.T) {
	e := newTestEnv(t)
	l := e.library(t, e.a, "L")
	d1 := e.upload(t, e.a, l.ID, "b-report.txt", "one")
	e.clockDelta = time.Second
	d2 := e.upload(t, e.a, l.ID, "a-memo.txt", "two")
	if _, err := e.svc.UpdateDocument(bg, e.a, l.ID, d1.ID, DocumentUpdate{Attributes: []byte(`{"team":"red","year":2024,"tags":["x"]}`)}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`[1]`, `{"nested":{"a":1}}`, `{"list":[{"a":1}]}`} {
		if _, err := e.svc.UpdateDocument(bg, e.a, l.ID, d1.ID, DocumentUpdate{Attributes: []byte(bad)}); !apierr.Is(err, apierr.Validation) {
			t.Errorf("attributes %s: %v", bad, err)
		}
	}
	if _, err := e.svc.UpdateDocument(bg, e.a, l.ID, d1.ID, DocumentUpdate{ExpiresAt: []byte(`"tomorrow"`)}); !apierr.Is(err, apierr.Validation) {
		t.Errorf("bad expires_at: %v", err)
	}
	list, total, err := e.svc.ListDocuments(bg, e.a, l.ID, DocListInput{PageSize: 10, FiltersAttributes: `{"field":"team","op":"eq","value":"red"}`})
	if err != nil || total != 1 || list[0].ID != d1.ID {
		t.Fatalf("filtered: %d %v", total, err)
	}
	list, _, _ = e.svc.ListDocuments(bg, e.a, l.ID, DocListInput{PageSize: 10, SortBy: "name", SortOrder: "asc"})
	if list[0].ID != d2.ID {
		t.Fatalf("by name: %s", list[0].Name)
	}
	list, _, _ = e.svc.ListDocuments(bg, e.a, l.ID, DocListInput{PageSize: 10})
	if list[0].ID != d2.ID {
		t.Fatal("default order is newest first")
	}
	if _, _, err := e.svc.ListDocuments(bg, e.a, l.ID, DocListInput{PageSize: 10, SortBy: "color"}); !apierr.Is(err, apierr.Validation) {
		t.Errorf("bad sort_by: %v", err)
	}
	if _, _, err := e.svc.ListDocuments(bg, e.a, l.ID, DocListInput{PageSize: 10, FiltersAttributes: `{"op":`}); !apierr.Is(err, apierr.Validation) {
		t.Errorf("bad filter: %v", err)
	}
	// Expiry hides a document at once and the sweeper removes it.
	past := `"` + time.Now().Add(-time.Minute).UTC().Format(time.RFC3339) + `"`
	if _, err := e.svc.UpdateDocument(bg, e.a, l.ID, d2.ID, DocumentUpdate{ExpiresAt: []byte(past)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.GetDocument(bg, e.a, l.ID, d2.ID); !isNotFound(err) {
		t.Fatalf("expired document: %v", err)
	}
	if got, _ := e.svc.Get(bg, e.a, l.ID); got.NbDocuments != 1 || got.TotalSize != 3 {
		t.Fatalf("library stats with an expired document: %+v", got)
	}
	if err := e.svc.SweepExpired(bg); err != nil {
		t.Fatal(err)
	}
	if _, err := e.blobs.Open(context.Background(), d2.StorageKey); err == nil {
		t.Fatal("expired content not swept")
	}
}

func TestUploadLimits(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.MaxUploadBytes = 10 })
	l := e.library(t, e.a, "L")
	if _, err := e.svc.Upload(bg, e.a, l.ID, "big.txt", "", strings.NewReader("more than ten bytes")); !apierr.Is(err, apierr.TooLarge) {
		t.Fatalf("oversized upload: %v", err)
	}
	if got, _ := e.svc.Get(bg, e.a, l.ID); got.NbDocuments != 0 {
		t.Fatal("a refused upload left a document")
	}
	for _, bad := range []CreateInput{{Name: " "}, {Name: "x", ChunkSize: new(int)}} {
		if _, err := e.svc.Create(bg, e.a, bad); !apierr.Is(err, apierr.Validation) {
			t.Errorf("create %+v: %v", bad, err)
		}
	}
	if _, err := e.svc.Get(bg, e.a, "not-a-uuid"); !isNotFound(err) {
		t.Errorf("malformed id: %v", err)
	}
}
