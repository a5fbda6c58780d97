// Package storetest is the behavioural test suite every store.Store backend
// must pass. Backends call Run from their own tests.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/tramontane/tramontane/internal/store"
)

// Run runs the whole suite against s. The store may hold other data: every
// test works in workspaces of its own.
func Run(t *testing.T, s store.Store) {
	t.Run("Workspaces", func(t *testing.T) { testWorkspaces(t, s) })
	t.Run("Keys", func(t *testing.T) { testKeys(t, s) })
	t.Run("Agents", func(t *testing.T) { testAgents(t, s) })
	t.Run("AgentFilters", func(t *testing.T) { testAgentFilters(t, s) })
	t.Run("Aliases", func(t *testing.T) { testAliases(t, s) })
	t.Run("Files", func(t *testing.T) { testFiles(t, s) })
	t.Run("Conversations", func(t *testing.T) { testConversations(t, s) })
	t.Run("ConcurrentAppends", func(t *testing.T) { testConcurrentAppends(t, s) })
	t.Run("Secrets", func(t *testing.T) { testSecrets(t, s) })
	t.Run("RunLease", func(t *testing.T) { testRunLease(t, s) })
	t.Run("MixedWrites", func(t *testing.T) { testMixedWrites(t, s) })
	t.Run("Libraries", func(t *testing.T) { testLibraries(t, s) })
	t.Run("Connectors", func(t *testing.T) { testConnectors(t, s) })
	t.Run("Usage", func(t *testing.T) { testUsage(t, s) })
	t.Run("ConsoleSessions", func(t *testing.T) { testSessions(t, s) })
}

func ctx() context.Context { return context.Background() }

func ws(t *testing.T, s store.Store) *store.Workspace {
	t.Helper()
	w, err := s.EnsureWorkspace(ctx(), "ws-"+uuid.NewString())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func testWorkspaces(t *testing.T, s store.Store) {
	name := "ws-" + uuid.NewString()
	a, err := s.EnsureWorkspace(ctx(), name)
	must(t, err)
	b, err := s.EnsureWorkspace(ctx(), name)
	must(t, err)
	if a.ID != b.ID {
		t.Fatalf("EnsureWorkspace not idempotent: %s != %s", a.ID, b.ID)
	}
	got, err := s.GetWorkspace(ctx(), a.ID)
	must(t, err)
	if got.Name != name {
		t.Fatalf("name = %q", got.Name)
	}
	if _, err := s.GetWorkspace(ctx(), "nope"); err != store.ErrNotFound {
		t.Fatalf("unknown workspace: err = %v", err)
	}
}

func testKeys(t *testing.T, s store.Store) {
	w := ws(t, s)
	hash := uuid.NewString()
	k := &store.APIKey{ID: "key_" + uuid.NewString(), WorkspaceID: w.ID, Name: "svc", Prefix: "tk-" + uuid.NewString()[:8], Hash: hash, CreatedAt: now(), RPS: 2.5, TPM: 1000}
	must(t, s.CreateKey(ctx(), k))
	if err := s.CreateKey(ctx(), &store.APIKey{ID: "key_" + uuid.NewString(), WorkspaceID: w.ID, Name: "dup", Prefix: "x", Hash: hash, CreatedAt: now()}); err != store.ErrConflict {
		t.Fatalf("duplicate hash: err = %v, want ErrConflict", err)
	}
	got, err := s.KeyByHash(ctx(), hash)
	must(t, err)
	if got.ID != k.ID || got.WorkspaceID != w.ID || got.RPS != 2.5 || got.TPM != 1000 || got.RevokedAt != nil {
		t.Fatalf("KeyByHash = %+v", got)
	}
	list, err := s.ListKeys(ctx(), w.ID)
	must(t, err)
	if len(list) != 1 || list[0].Name != "svc" {
		t.Fatalf("ListKeys = %+v", list)
	}
	must(t, s.TouchKey(ctx(), k.ID, now()))
	must(t, s.RevokeKey(ctx(), k.Prefix, now()))
	got, err = s.KeyByHash(ctx(), hash)
	must(t, err)
	if got.RevokedAt == nil || got.LastUsedAt == nil {
		t.Fatalf("after revoke: %+v", got)
	}
	if err := s.RevokeKey(ctx(), k.ID, now()); err != store.ErrNotFound {
		t.Fatalf("second revoke: err = %v", err)
	}
	if _, err := s.KeyByHash(ctx(), "missing"); err != store.ErrNotFound {
		t.Fatalf("unknown hash: err = %v", err)
	}
}

func newAgent(w *store.Workspace, name string, meta string) *store.Agent {
	t := now()
	a := &store.Agent{ID: "ag_" + uuid.NewString(), WorkspaceID: w.ID, CreatedAt: t, UpdatedAt: t}
	a.Version = store.AgentVersion{Version: 0, Name: name, Model: "m", Source: "api", Config: json.RawMessage(`{"instructions":"v0"}`), CreatedAt: t}
	if meta != "" {
		a.Version.Metadata = json.RawMessage(meta)
	}
	return a
}

func testAgents(t *testing.T, s store.Store) {
	w, other := ws(t, s), ws(t, s)
	a := newAgent(w, "alpha", "")
	must(t, s.CreateAgent(ctx(), a))
	got, err := s.GetAgent(ctx(), w.ID, a.ID, -1)
	must(t, err)
	if got.ActiveVersion != 0 || fmt.Sprint(got.Versions) != "[0]" || got.Version.Name != "alpha" || string(got.Version.Config) != `{"instructions":"v0"}` {
		t.Fatalf("GetAgent = %+v", got)
	}
	if _, err := s.GetAgent(ctx(), other.ID, a.ID, -1); err != store.ErrNotFound {
		t.Fatalf("other workspace sees agent: err = %v", err)
	}
	v1 := &store.AgentVersion{Version: 1, Name: "alpha2", Model: "m2", Source: "api", Config: json.RawMessage(`{"instructions":"v1"}`), CreatedAt: now()}
	must(t, s.AddAgentVersion(ctx(), w.ID, a.ID, v1))
	if err := s.AddAgentVersion(ctx(), w.ID, a.ID, &store.AgentVersion{Version: 1, Name: "x", Model: "m", Source: "api", Config: json.RawMessage(`{}`), CreatedAt: now()}); err != store.ErrConflict {
		t.Fatalf("stale version number: err = %v", err)
	}
	if err := s.AddAgentVersion(ctx(), other.ID, a.ID, &store.AgentVersion{Version: 2, Name: "x", Model: "m", Source: "api", Config: json.RawMessage(`{}`), CreatedAt: now()}); err != store.ErrNotFound {
		t.Fatalf("version from other workspace: err = %v", err)
	}
	got, err = s.GetAgent(ctx(), w.ID, a.ID, -1)
	must(t, err)
	if got.ActiveVersion != 1 || got.Version.Model != "m2" || fmt.Sprint(got.Versions) != "[0 1]" {
		t.Fatalf("after update: %+v", got)
	}
	old, err := s.GetAgent(ctx(), w.ID, a.ID, 0)
	must(t, err)
	if old.Version.Name != "alpha" || old.ActiveVersion != 1 {
		t.Fatalf("version 0: %+v", old)
	}
	must(t, s.SetActiveVersion(ctx(), w.ID, a.ID, 0, now()))
	got, _ = s.GetAgent(ctx(), w.ID, a.ID, -1)
	if got.ActiveVersion != 0 || got.Version.Name != "alpha" {
		t.Fatalf("after SetActiveVersion: %+v", got)
	}
	list, err := s.ListAgents(ctx(), w.ID, store.AgentFilter{Name: "alpha"}, store.Page{Limit: 10})
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("list by active name: %d", len(list))
	}
	if err := s.SetActiveVersion(ctx(), w.ID, a.ID, 7, now()); err != store.ErrNotFound {
		t.Fatalf("unknown version: err = %v", err)
	}
	vers, err := s.ListAgentVersions(ctx(), w.ID, a.ID, store.Page{Limit: 10})
	must(t, err)
	if len(vers) != 2 || vers[0].Version.Version != 1 || vers[1].Version.Version != 0 {
		t.Fatalf("versions: %+v", vers)
	}
	if err := s.DeleteAgent(ctx(), other.ID, a.ID); err != store.ErrNotFound {
		t.Fatalf("delete from other workspace: err = %v", err)
	}
	must(t, s.DeleteAgent(ctx(), w.ID, a.ID))
	if _, err := s.GetAgent(ctx(), w.ID, a.ID, -1); err != store.ErrNotFound {
		t.Fatalf("after delete: err = %v", err)
	}
}

func testAgentFilters(t *testing.T, s store.Store) {
	w := ws(t, s)
	names := []string{"Red Fox", "blue whale", "red panda", "green"}
	metas := []string{`{"team":"a","n":1}`, `{"team":"b"}`, `{"team":"a","n":2}`, ``}
	var ids []string
	for i, n := range names {
		a := newAgent(w, n, metas[i])
		a.CreatedAt = a.CreatedAt.Add(time.Duration(i) * time.Millisecond)
		must(t, s.CreateAgent(ctx(), a))
		ids = append(ids, a.ID)
	}
	check := func(label string, f store.AgentFilter, p store.Page, want ...string) {
		t.Helper()
		got, err := s.ListAgents(ctx(), w.ID, f, p)
		must(t, err)
		var gotNames []string
		for _, a := range got {
			gotNames = append(gotNames, a.Version.Name)
		}
		if fmt.Sprint(gotNames) != fmt.Sprint(want) {
			t.Fatalf("%s: got %q, want %q", label, gotNames, want)
		}
	}
	all := store.Page{Limit: 100}
	check("all newest first", store.AgentFilter{}, all, "green", "red panda", "blue whale", "Red Fox")
	check("page", store.AgentFilter{}, store.Page{Offset: 1, Limit: 2}, "red panda", "blue whale")
	check("name exact", store.AgentFilter{Name: "red panda"}, all, "red panda")
	check("search", store.AgentFilter{Search: "RED"}, all, "red panda", "Red Fox")
	check("search by id", store.AgentFilter{Search: ids[1]}, all, "blue whale")
	check("search escapes LIKE", store.AgentFilter{Search: "%"}, all)
	check("metadata string", store.AgentFilter{Metadata: map[string]json.RawMessage{"team": json.RawMessage(`"a"`)}}, all, "red panda", "Red Fox")
	check("metadata two keys", store.AgentFilter{Metadata: map[string]json.RawMessage{"team": json.RawMessage(`"a"`), "n": json.RawMessage(`2`)}}, all, "red panda")
	check("metadata miss", store.AgentFilter{Metadata: map[string]json.RawMessage{"team": json.RawMessage(`"z"`)}}, all)
	check("sources", store.AgentFilter{Sources: []string{"playground"}}, all)
	f := false
	check("deployment_chat", store.AgentFilter{DeploymentChat: &f}, store.Page{Limit: 1}, "green")
}

func testAliases(t *testing.T, s store.Store) {
	w, other := ws(t, s), ws(t, s)
	a := newAgent(w, "aliased", "")
	must(t, s.CreateAgent(ctx(), a))
	must(t, s.AddAgentVersion(ctx(), w.ID, a.ID, &store.AgentVersion{Version: 1, Name: "aliased", Model: "m", Source: "api", Config: json.RawMessage(`{}`), CreatedAt: now()}))
	al := &store.AgentAlias{AgentID: a.ID, Alias: "prod", Version: 0, CreatedAt: now(), UpdatedAt: now()}
	must(t, s.UpsertAlias(ctx(), w.ID, al))
	created := al.CreatedAt
	time.Sleep(2 * time.Millisecond)
	al2 := &store.AgentAlias{AgentID: a.ID, Alias: "prod", Version: 1, CreatedAt: now(), UpdatedAt: now()}
	must(t, s.UpsertAlias(ctx(), w.ID, al2))
	if !al2.CreatedAt.Equal(created) || al2.Version != 1 {
		t.Fatalf("re-point kept created_at? %+v (created %v)", al2, created)
	}
	if err := s.UpsertAlias(ctx(), w.ID, &store.AgentAlias{AgentID: a.ID, Alias: "bad", Version: 9, CreatedAt: now(), UpdatedAt: now()}); err != store.ErrNotFound {
		t.Fatalf("alias to missing version: err = %v", err)
	}
	if err := s.UpsertAlias(ctx(), other.ID, &store.AgentAlias{AgentID: a.ID, Alias: "x", Version: 0, CreatedAt: now(), UpdatedAt: now()}); err != store.ErrNotFound {
		t.Fatalf("alias from other workspace: err = %v", err)
	}
	got, err := s.GetAlias(ctx(), w.ID, a.ID, "prod")
	must(t, err)
	if got.Version != 1 {
		t.Fatalf("GetAlias = %+v", got)
	}
	if _, err := s.GetAlias(ctx(), other.ID, a.ID, "prod"); err != store.ErrNotFound {
		t.Fatalf("GetAlias other workspace: %v", err)
	}
	list, err := s.ListAliases(ctx(), w.ID, a.ID)
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("ListAliases = %+v", list)
	}
	if _, err := s.ListAliases(ctx(), other.ID, a.ID); err != store.ErrNotFound {
		t.Fatalf("ListAliases other workspace: %v", err)
	}
	if err := s.DeleteAlias(ctx(), other.ID, a.ID, "prod"); err != store.ErrNotFound {
		t.Fatalf("DeleteAlias other workspace: %v", err)
	}
	must(t, s.DeleteAlias(ctx(), w.ID, a.ID, "prod"))
	if err := s.DeleteAlias(ctx(), w.ID, a.ID, "prod"); err != store.ErrNotFound {
		t.Fatalf("second DeleteAlias: %v", err)
	}
}

func testFiles(t *testing.T, s store.Store) {
	w, other := ws(t, s), ws(t, s)
	base := now()
	for i, name := range []string{"a.jsonl", "b.pdf", "c.jsonl"} {
		purpose := "fine-tune"
		if i == 1 {
			purpose = "ocr"
		}
		lines := int64(i)
		f := &store.File{ID: uuid.NewString(), WorkspaceID: w.ID, Filename: name, Bytes: int64(10 * i), Purpose: purpose, SampleType: "instruct", Source: "upload", MimeType: "application/octet-stream", NumLines: &lines, Visibility: "workspace", CreatedAt: base.Add(time.Duration(i) * time.Second), StorageKey: "k" + name}
		must(t, s.CreateFile(ctx(), f))
	}
	list, total, err := s.ListFiles(ctx(), w.ID, store.FileFilter{}, store.Page{Limit: 2})
	must(t, err)
	if total != 3 || len(list) != 2 || list[0].Filename != "c.jsonl" {
		t.Fatalf("ListFiles: total %d, %+v", total, list)
	}
	list, total, err = s.ListFiles(ctx(), w.ID, store.FileFilter{Purpose: "fine-tune", Search: ".JSON"}, store.Page{Limit: 10})
	must(t, err)
	if total != 2 || len(list) != 2 {
		t.Fatalf("filtered: total %d", total)
	}
	_, total, _ = s.ListFiles(ctx(), other.ID, store.FileFilter{}, store.Page{Limit: 10})
	if total != 0 {
		t.Fatalf("other workspace sees %d files", total)
	}
	f := list[0]
	got, err := s.GetFile(ctx(), w.ID, f.ID)
	must(t, err)
	if got.Filename != f.Filename || got.NumLines == nil || *got.NumLines != *f.NumLines || !got.CreatedAt.Equal(f.CreatedAt) {
		t.Fatalf("GetFile = %+v", got)
	}
	if _, err := s.GetFile(ctx(), other.ID, f.ID); err != store.ErrNotFound {
		t.Fatalf("GetFile other workspace: %v", err)
	}
	if _, err := s.GetFileAnyWorkspace(ctx(), f.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFile(ctx(), other.ID, f.ID); err != store.ErrNotFound {
		t.Fatalf("DeleteFile other workspace: %v", err)
	}
	must(t, s.DeleteFile(ctx(), w.ID, f.ID))
	if _, err := s.GetFile(ctx(), w.ID, f.ID); err != store.ErrNotFound {
		t.Fatalf("after delete: %v", err)
	}
}

func entry(id, typ, body string) store.Entry {
	return store.Entry{ID: id, Type: typ, Body: json.RawMessage(body), CreatedAt: now()}
}

func testConversations(t *testing.T, s store.Store) {
	w, other := ws(t, s), ws(t, s)
	v := 3
	name := "chat"
	c := &store.Conversation{ID: "conv_" + uuid.NewString(), WorkspaceID: w.ID, AgentID: "ag_x", AgentVersion: &v, Name: &name, Metadata: json.RawMessage(`{"user":"u1"}`), CreatedAt: now(), UpdatedAt: now()}
	must(t, s.CreateConversation(ctx(), c, []store.Entry{entry("msg_1", "message.input", `{"content":"hi"}`)}))
	c2 := &store.Conversation{ID: "conv_" + uuid.NewString(), WorkspaceID: w.ID, Model: "m", Config: json.RawMessage(`{"instructions":"x"}`), Metadata: json.RawMessage(`{"user":"u2"}`), CreatedAt: now().Add(time.Millisecond), UpdatedAt: now()}
	must(t, s.CreateConversation(ctx(), c2, nil))
	must(t, s.AppendEntries(ctx(), w.ID, c.ID, []store.Entry{entry("msg_2", "message.output", `{"content":"hello"}`), entry("fc_3", "function.call", `{}`)}, json.RawMessage(`{"agent":"ag_y"}`)))
	if err := s.AppendEntries(ctx(), other.ID, c.ID, []store.Entry{entry("msg_9", "message.input", `{}`)}, nil); err != store.ErrNotFound {
		t.Fatalf("append from other workspace: %v", err)
	}
	got, err := s.GetConversation(ctx(), w.ID, c.ID)
	must(t, err)
	if got.NextSeq != 3 || got.AgentVersion == nil || *got.AgentVersion != 3 || *got.Name != "chat" || string(got.State) != `{"agent":"ag_y"}` {
		t.Fatalf("GetConversation = %+v", got)
	}
	entries, err := s.ListEntries(ctx(), w.ID, c.ID, -1)
	must(t, err)
	if len(entries) != 3 || entries[0].ID != "msg_1" || entries[2].Seq != 2 || entries[2].Type != "function.call" {
		t.Fatalf("entries = %+v", entries)
	}
	prefix, err := s.ListEntries(ctx(), w.ID, c.ID, 1)
	must(t, err)
	if len(prefix) != 2 {
		t.Fatalf("prefix = %d", len(prefix))
	}
	e, err := s.EntryByID(ctx(), w.ID, c.ID, "msg_2")
	must(t, err)
	if e.Seq != 1 {
		t.Fatalf("EntryByID = %+v", e)
	}
	if _, err := s.EntryByID(ctx(), other.ID, c.ID, "msg_2"); err != store.ErrNotFound {
		t.Fatalf("EntryByID other workspace: %v", err)
	}
	if _, err := s.ListEntries(ctx(), other.ID, c.ID, -1); err != store.ErrNotFound {
		t.Fatalf("ListEntries other workspace: %v", err)
	}
	list, err := s.ListConversations(ctx(), w.ID, nil, store.Page{Limit: 10})
	must(t, err)
	if len(list) != 2 || list[0].ID != c2.ID {
		t.Fatalf("list newest first: %+v", list)
	}
	list, err = s.ListConversations(ctx(), w.ID, map[string]json.RawMessage{"user": json.RawMessage(`"u1"`)}, store.Page{Limit: 10})
	must(t, err)
	if len(list) != 1 || list[0].ID != c.ID {
		t.Fatalf("metadata filter: %+v", list)
	}
	must(t, s.DeleteConversation(ctx(), w.ID, c.ID))
	if _, err := s.GetConversation(ctx(), w.ID, c.ID); err != store.ErrNotFound {
		t.Fatalf("after delete: %v", err)
	}
	if _, err := s.EntryByID(ctx(), w.ID, c.ID, "msg_1"); err != store.ErrNotFound {
		t.Fatalf("entries survive delete: %v", err)
	}
}

func testConcurrentAppends(t *testing.T, s store.Store) {
	w := ws(t, s)
	c := &store.Conversation{ID: "conv_" + uuid.NewString(), WorkspaceID: w.ID, Model: "m", CreatedAt: now(), UpdatedAt: now()}
	must(t, s.CreateConversation(ctx(), c, nil))
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- s.AppendEntries(ctx(), w.ID, c.ID, []store.Entry{entry(fmt.Sprintf("e%d", i), "message.input", `{}`)}, nil)
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent append: %v", err)
		}
	}
	entries, err := s.ListEntries(ctx(), w.ID, c.ID, -1)
	must(t, err)
	if len(entries) != n {
		t.Fatalf("got %d entries, want %d", len(entries), n)
	}
	for i, e := range entries {
		if e.Seq != i {
			t.Fatalf("entry %d has seq %d", i, e.Seq)
		}
	}
}

func testSecrets(t *testing.T, s store.Store) {
	name := "secret-" + uuid.NewString()
	a, err := s.Secret(ctx(), name, func() string { return "first" })
	must(t, err)
	b, err := s.Secret(ctx(), name, func() string { return "second" })
	must(t, err)
	if a != "first" || b != "first" {
		t.Fatalf("Secret: %q then %q, want first twice", a, b)
	}
}

func testRunLease(t *testing.T, s store.Store) {
	w, other := ws(t, s), ws(t, s)
	c := &store.Conversation{ID: "conv_" + uuid.NewString(), WorkspaceID: w.ID, Model: "m", CreatedAt: now(), UpdatedAt: now(), RunOwner: "run-a", RunUntil: now().Add(time.Minute)}
	must(t, s.CreateConversation(ctx(), c, []store.Entry{entry("fc_1", "function.call", `{"confirmation_status":"pending"}`)}))
	if err := s.ClaimRun(ctx(), w.ID, c.ID, "run-b", now().Add(time.Minute)); err != store.ErrConflict {
		t.Fatalf("claim while held: %v", err)
	}
	must(t, s.ClaimRun(ctx(), w.ID, c.ID, "run-a", now().Add(2*time.Minute)))
	must(t, s.ReleaseRun(ctx(), w.ID, c.ID, "run-a"))
	must(t, s.ClaimRun(ctx(), w.ID, c.ID, "run-b", now().Add(-time.Second))) // already expired
	must(t, s.ClaimRun(ctx(), w.ID, c.ID, "run-c", now().Add(time.Minute)))  // takes over the expired lease
	if err := s.ClaimRun(ctx(), other.ID, c.ID, "run-d", now().Add(time.Minute)); err != store.ErrNotFound {
		t.Fatalf("claim from other workspace: %v", err)
	}
	if err := s.ReleaseRun(ctx(), w.ID, c.ID, "run-b"); err != nil { // not the owner: no-op
		t.Fatal(err)
	}
	got, err := s.GetConversation(ctx(), w.ID, c.ID)
	must(t, err)
	if got.RunOwner != "run-c" {
		t.Fatalf("owner = %q", got.RunOwner)
	}
	must(t, s.UpdateEntry(ctx(), w.ID, c.ID, "fc_1", json.RawMessage(`{"confirmation_status":"allowed"}`)))
	e, err := s.EntryByID(ctx(), w.ID, c.ID, "fc_1")
	must(t, err)
	if string(e.Body) != `{"confirmation_status":"allowed"}` {
		t.Fatalf("body = %s", e.Body)
	}
	if err := s.UpdateEntry(ctx(), other.ID, c.ID, "fc_1", json.RawMessage(`{}`)); err != store.ErrNotFound {
		t.Fatalf("update from other workspace: %v", err)
	}
}

// testMixedWrites runs transactional and single writes at once (on SQLite
// they share one connection, and prepared statements must not deadlock
// on it).
func testMixedWrites(t *testing.T, s store.Store) {
	w := ws(t, s)
	k := &store.APIKey{ID: "key_" + uuid.NewString(), WorkspaceID: w.ID, Name: "mixed", Prefix: "mx-" + uuid.NewString()[:8], Hash: uuid.NewString(), CreatedAt: now()}
	must(t, s.CreateKey(ctx(), k))
	c := &store.Conversation{ID: "conv_" + uuid.NewString(), WorkspaceID: w.ID, Model: "m", CreatedAt: now(), UpdatedAt: now()}
	must(t, s.CreateConversation(ctx(), c, nil))
	done := make(chan error, 2)
	go func() {
		for i := 0; i < 100; i++ {
			if err := s.AppendEntries(ctx(), w.ID, c.ID, []store.Entry{entry(fmt.Sprintf("mx%d", i), "message.input", `{}`)}, nil); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	go func() {
		for i := 0; i < 100; i++ {
			if err := s.TouchKey(ctx(), k.ID, now()); err != nil {
				done <- err
				return
			}
			if _, err := s.GetConversation(ctx(), w.ID, c.ID); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := 0; i < 2; i++ {
		select {
		case err := <-done:
			must(t, err)
		case <-time.After(30 * time.Second):
			t.Fatal("mixed writes deadlocked")
		}
	}
}
