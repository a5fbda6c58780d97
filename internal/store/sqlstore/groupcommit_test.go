package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/store"
)

// Concurrent appends share transactions, and each keeps its own outcome:
// every successful append lands whole with consecutive sequence numbers,
// an append to a missing conversation or with a duplicate entry id fails
// alone, without undoing its neighbours.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const convs, workers, per = 8, 32, 20
	ws, now := createConvs(t, db, convs)
	body := []byte(`{"type":"message.input"}`)
	// conv_clash's next_seq is behind its rows: an append there passes its
	// UPDATE and then fails on its INSERT, which must undo the UPDATE too.
	clash := []store.Entry{{ID: "c0", Type: "message.input", Body: body, CreatedAt: now}, {ID: "c1", Type: "message.input", Body: body, CreatedAt: now}}
	if err := db.CreateConversation(ctx, &store.Conversation{ID: "conv_clash", WorkspaceID: ws.ID, Model: "m", CreatedAt: now, UpdatedAt: now}, clash); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, `UPDATE conversations SET next_seq = 0 WHERE id = 'conv_clash'`); err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		ok      = map[string]int{}
		wg      sync.WaitGroup
		badSeen = map[string]int{}
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				conv := fmt.Sprint("conv_", (w+i)%convs)
				id := fmt.Sprintf("e_%d_%d", w, i)
				want := error(nil)
				switch {
				case i%7 == 3:
					conv, want = "conv_missing", store.ErrNotFound
				case i%9 == 5:
					conv, want = "conv_clash", store.ErrConflict
				}
				rows := []store.Entry{{ID: id + "_a", Type: "message.input", Body: body, CreatedAt: now}, {ID: id + "_b", Type: "message.output", Body: body, CreatedAt: now}}
				err := db.AppendEntries(ctx, ws.ID, conv, rows, nil)
				mu.Lock()
				switch {
				case err == nil:
					ok[conv] += 2
				case want != nil && errors.Is(err, want):
					badSeen[want.Error()]++
				default:
					t.Errorf("append %s to %s: %v (want %v)", id, conv, err, want)
				}
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	if badSeen[store.ErrNotFound.Error()] == 0 || badSeen[store.ErrConflict.Error()] == 0 {
		t.Fatalf("the failing appends did not fail: %v", badSeen)
	}
	checkRows(t, db, ws.ID, convs, ok)
	if c, err := db.GetConversation(ctx, ws.ID, "conv_clash"); err != nil || c.NextSeq != 0 {
		t.Fatalf("a failed append left its UPDATE behind: %+v %v", c, err)
	}
	txs, appends := db.group.txs.Load(), db.group.appends.Load()
	t.Logf("%d appends in %d transactions", appends, txs)
	if txs >= appends {
		t.Errorf("no append shared a transaction (%d appends, %d transactions)", appends, txs)
	}
}

// Appends queued when the database closes are committed, later ones fail.
func TestGroupCommitClose(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ws, _ := db.EnsureWorkspace(ctx, "default")
	now := time.Now().UTC()
	if err := db.CreateConversation(ctx, &store.Conversation{ID: "conv_1", WorkspaceID: ws.ID, Model: "m", CreatedAt: now, UpdatedAt: now}, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()
	err = db.AppendEntries(ctx, ws.ID, "conv_1", []store.Entry{{ID: "x", Type: "message.input", Body: []byte(`{}`), CreatedAt: now}}, nil)
	if !errors.Is(err, errClosed) {
		t.Fatalf("append after close: %v", err)
	}
}

// Close while appends are under way: each append either commits (and is
// there after reopening) or fails with errClosed; Close returns once the
// commits under way and queued are done.
func TestGroupCommitCloseUnderLoad(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	const convs, workers = 4, 16
	ws, now := createConvs(t, db, convs)
	var (
		mu sync.Mutex
		ok = map[string]int{}
		wg sync.WaitGroup
	)
	started := make(chan struct{}, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				conv := fmt.Sprint("conv_", (w+i)%convs)
				err := db.AppendEntries(ctx, ws.ID, conv, []store.Entry{{ID: fmt.Sprintf("e_%d_%d", w, i), Type: "message.input", Body: []byte(`{}`), CreatedAt: now}}, nil)
				if i == 0 {
					started <- struct{}{}
				}
				if errors.Is(err, errClosed) {
					return
				}
				if err != nil {
					t.Errorf("append: %v", err)
					return
				}
				mu.Lock()
				ok[conv]++
				mu.Unlock()
			}
		}(w)
	}
	for w := 0; w < workers; w++ {
		<-started
	}
	time.Sleep(20 * time.Millisecond)
	closed := make(chan struct{})
	go func() { db.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return")
	}
	wg.Wait()
	db, err = Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if checkRows(t, db, ws.ID, convs, ok) == 0 {
		t.Fatal("nothing was appended before Close")
	}
}

// A panic inside a group commit's transaction (here from a test hook in
// the commit, after an append's statements ran) reaches the leader's
// caller, answers the other appends of its group with an error, rolls
// the transaction back and leaves neither the lead nor the writer
// connection taken: the next append commits, and the group left no row.
// (A panic inside database/sql's own calls leaves its Tx locked whatever
// the caller does; that is the driver's contract, not tested here.)
func TestGroupCommitPanic(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	hung := false
	defer func() {
		if !hung { // a hang may have left the lead taken: Close would wait for ever
			db.Close()
		}
	}()
	ws, now := createConvs(t, db, 4)
	gate, atGate := make(chan struct{}), make(chan struct{})
	testHookAppended = func(es []store.Entry) {
		switch {
		case strings.HasPrefix(es[0].ID, "gate"):
			close(atGate)
			<-gate
		case strings.HasPrefix(es[0].ID, "lost"):
			panic("test: panic in a group commit")
		}
	}
	defer func() {
		if !hung { // a hung commit may still call the hook
			testHookAppended = nil
		}
	}()
	type result struct {
		err   error
		stack string // set when the append panicked
	}
	appendAsync := func(conv, id string) <-chan result {
		res := make(chan result, 1)
		go func() {
			defer func() {
				if p := recover(); p != nil {
					res <- result{stack: string(debug.Stack())}
				}
			}()
			err := db.AppendEntries(ctx, ws.ID, conv, []store.Entry{{ID: id, Type: "message.input", Body: []byte(`{}`), CreatedAt: now}}, nil)
			res <- result{err: err}
		}()
		return res
	}
	wait := func(what string, res <-chan result) result {
		t.Helper()
		select {
		case r := <-res:
			return r
		case <-time.After(10 * time.Second):
			hung = true
			t.Fatalf("%s hangs", what)
			return result{}
		}
	}
	queued := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			db.group.qmu.Lock()
			got := len(db.group.pending)
			db.group.qmu.Unlock()
			if got == n {
				return
			}
			if time.Now().After(deadline) {
				hung = true
				t.Fatalf("%d appends queued, want %d", got, n)
			}
		}
	}

	// A lone append: its own caller leads, and panics.
	if r := wait("a lone panicking append", appendAsync("conv_1", "lost_alone")); r.stack == "" {
		t.Fatalf("a lone panicking append returned %v", r.err)
	} else if !strings.Contains(r.stack, "(*committer).lead") {
		t.Fatalf("the panic did not come from the group commit:\n%s", r.stack)
	}
	if r := wait("the append after a panic", appendAsync("conv_0", "kept_0")); r.err != nil {
		t.Fatalf("the append after a panic: %v", r.err)
	}

	// A group of three queued behind a commit held at the gate; its
	// middle append panics.
	gated := appendAsync("conv_0", "gate")
	select {
	case <-atGate: // the gate leads, held inside its commit
	case <-time.After(10 * time.Second):
		hung = true
		t.Fatal("the gated append never reached its commit")
	}
	var group []<-chan result
	for i, id := range []string{"kept_1", "lost_1", "kept_3"} {
		group = append(group, appendAsync(fmt.Sprint("conv_", i+1), id))
		queued(i + 1)
	}
	close(gate)
	if r := wait("the gated append", gated); r.err != nil {
		t.Fatalf("the gated append: %v", r.err)
	}
	panicked := 0
	for i, res := range group {
		r := wait(fmt.Sprint("append ", i, " of the panicking group"), res)
		switch {
		case r.stack != "":
			panicked++
			if !strings.Contains(r.stack, "(*committer).lead") {
				t.Fatalf("the panic did not come from the group commit:\n%s", r.stack)
			}
		case !errors.Is(r.err, errPanicked):
			t.Fatalf("append %d of the panicking group: %v, want errPanicked", i, r.err)
		}
	}
	if panicked != 1 {
		t.Fatalf("%d callers panicked, want the group's leader alone", panicked)
	}
	if r := wait("the append after a group panic", appendAsync("conv_2", "kept_2")); r.err != nil {
		t.Fatalf("the append after a group panic: %v", r.err)
	}
	for conv, want := range map[string][]string{"conv_0": {"kept_0", "gate"}, "conv_1": nil, "conv_2": {"kept_2"}, "conv_3": nil} {
		rows, err := db.ListEntries(ctx, ws.ID, conv, -1)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint(want) {
			t.Fatalf("%s holds %v, want %v", conv, ids, want)
		}
	}
}

// checkRows checks that conversations conv_0 … conv_{n-1} hold want[id]
// rows each, numbered 0, 1, … with next_seq after the last, and returns
// the rows in all.
func checkRows(t *testing.T, db *DB, ws string, n int, want map[string]int) int {
	t.Helper()
	ctx := context.Background()
	total := 0
	for i := 0; i < n; i++ {
		conv := fmt.Sprint("conv_", i)
		rows, err := db.ListEntries(ctx, ws, conv, -1)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != want[conv] {
			t.Fatalf("%s: %d rows stored, %d appends reported committed", conv, len(rows), want[conv])
		}
		for j, r := range rows {
			if r.Seq != j {
				t.Fatalf("%s: row %d has seq %d", conv, j, r.Seq)
			}
		}
		c, err := db.GetConversation(ctx, ws, conv)
		if err != nil || c.NextSeq != len(rows) {
			t.Fatalf("%s: next_seq %d, %d rows (%v)", conv, c.NextSeq, len(rows), err)
		}
		total += len(rows)
	}
	return total
}

// createConvs creates conversations conv_0 … conv_{n-1} in the default
// workspace, for the concurrency tests.
func createConvs(t *testing.T, db *DB, n int) (*store.Workspace, time.Time) {
	t.Helper()
	ctx := context.Background()
	ws, err := db.EnsureWorkspace(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for i := 0; i < n; i++ {
		if err := db.CreateConversation(ctx, &store.Conversation{ID: fmt.Sprint("conv_", i), WorkspaceID: ws.ID, Model: "m", CreatedAt: now, UpdatedAt: now}, nil); err != nil {
			t.Fatal(err)
		}
	}
	return ws, now
}
