package sqlstore

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"
)

// TestPostgresConcurrentMigrations: several servers (or test processes)
// starting at once on a fresh database all come up; their migrations take
// turns instead of colliding.
func TestPostgresConcurrentMigrations(t *testing.T) {
	base := PostgresTestURL(t)
	ctx := context.Background()
	admin, err := Open(ctx, base, "")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("tramontane_migrate_%d", time.Now().UnixNano())
	if _, err := admin.w.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	defer admin.w.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := Open(ctx, u.String(), "")
			if err != nil {
				errs <- err
				return
			}
			db.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a concurrent start failed: %v", err)
	}
}
