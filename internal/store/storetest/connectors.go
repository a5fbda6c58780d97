package storetest

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/tramontane/tramontane/internal/store"
)

func testConnectors(t *testing.T, s store.Store) {
	cs, ok := s.(store.ConnectorStore)
	if !ok {
		t.Fatal("the store does not implement store.ConnectorStore")
	}
	a, b := ws(t, s), ws(t, s)
	// Connector ids are global keys: unique per run, so the suite also
	// passes on a database kept from an earlier run.
	run := uuid.NewString()[:8]
	id := func(s string) string { return "conn_" + run + "_" + s }
	t0 := now()
	c := &store.Connector{ID: id("a1"), WorkspaceID: a.ID, Name: "wiki", Description: "d", Server: "https://mcp.example.com/mcp",
		Visibility: "private", Headers: []byte{1, 2, 3}, CreatedAt: t0, UpdatedAt: t0}
	must(t, cs.CreateConnector(ctx(), c))
	dup := *c
	dup.ID = id("a2")
	if err := cs.CreateConnector(ctx(), &dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("same name twice in a workspace: %v, want ErrConflict", err)
	}
	other := *c
	other.ID, other.WorkspaceID = id("b1"), b.ID
	must(t, cs.CreateConnector(ctx(), &other)) // the same name in another workspace is fine

	for _, key := range []string{id("a1"), "wiki"} {
		got, err := cs.GetConnector(ctx(), a.ID, key)
		must(t, err)
		if got.ID != id("a1") || string(got.Headers) != "\x01\x02\x03" || !got.CreatedAt.Equal(t0) || got.Title != nil {
			t.Fatalf("GetConnector(%q) = %+v", key, got)
		}
	}
	if _, err := cs.GetConnector(ctx(), b.ID, id("a1")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another workspace's connector: %v, want ErrNotFound", err)
	}

	title := "Wiki"
	c.Title, c.Name, c.UpdatedAt = &title, "wiki2", t0.Add(1)
	must(t, cs.UpdateConnector(ctx(), c))
	got, err := cs.GetConnector(ctx(), a.ID, "wiki2")
	must(t, err)
	if got.Title == nil || *got.Title != "Wiki" {
		t.Fatalf("after update: %+v", got)
	}
	wrong := *c
	wrong.WorkspaceID = b.ID
	if err := cs.UpdateConnector(ctx(), &wrong); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update from another workspace: %v", err)
	}

	for i, cid := range []string{id("a3"), id("a4")} {
		must(t, cs.CreateConnector(ctx(), &store.Connector{ID: cid, WorkspaceID: a.ID, Name: "n" + string(rune('0'+i)), Server: "https://x", Visibility: "private", CreatedAt: t0, UpdatedAt: t0}))
	}
	page, err := cs.ListConnectors(ctx(), a.ID, "", 2)
	must(t, err)
	if len(page) != 2 || page[0].ID != id("a1") || page[1].ID != id("a3") {
		t.Fatalf("first page: %+v", page)
	}
	page, err = cs.ListConnectors(ctx(), a.ID, page[1].ID, 2)
	must(t, err)
	if len(page) != 1 || page[0].ID != id("a4") {
		t.Fatalf("second page: %+v", page)
	}

	cr := &store.ConnectorCredential{ConnectorID: id("a1"), WorkspaceID: a.ID, Name: "main", AuthType: "bearer", IsDefault: true, Secret: []byte("sealed"), CreatedAt: t0, UpdatedAt: t0}
	must(t, cs.PutCredential(ctx(), cr, false))
	if err := cs.PutCredential(ctx(), cr, false); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("credential twice: %v", err)
	}
	cr2 := *cr
	cr2.Name = "second"
	must(t, cs.PutCredential(ctx(), &cr2, false)) // the new default
	missing := *cr
	missing.Name = "nope"
	if err := cs.PutCredential(ctx(), &missing, true); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("replace of a missing credential: %v", err)
	}
	list, err := cs.ListCredentials(ctx(), a.ID, id("a1"))
	must(t, err)
	if len(list) != 2 || list[0].Name != "main" || list[0].IsDefault || !list[1].IsDefault || string(list[1].Secret) != "sealed" {
		t.Fatalf("credentials: %+v", list)
	}
	if l, _ := cs.ListCredentials(ctx(), b.ID, id("a1")); len(l) != 0 {
		t.Fatalf("another workspace sees credentials: %+v", l)
	}
	must(t, cs.DeleteCredential(ctx(), a.ID, id("a1"), "second"))
	if err := cs.DeleteCredential(ctx(), a.ID, id("a1"), "second"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if err := cs.DeleteConnector(ctx(), b.ID, id("a1")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete from another workspace: %v", err)
	}
	must(t, cs.DeleteConnector(ctx(), a.ID, id("a1")))
	if l, _ := cs.ListCredentials(ctx(), a.ID, id("a1")); len(l) != 0 {
		t.Fatalf("credentials survive their connector: %+v", l)
	}
}
