package sqlstore

import (
	"context"
	"os"
	"testing"

	"github.com/tramontane/tramontane/internal/store/storetest"
)

func TestSQLite(t *testing.T) {
	db, err := Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.Run(t, db)
}

// TestPostgres runs the suite on PostgreSQL. TRAMONTANE_TEST_DATABASE_URL
// names the database (scripts/pg-start.sh starts one); in CI its absence is
// a failure, not a skip.
func TestPostgres(t *testing.T) {
	url := PostgresTestURL(t)
	db, err := Open(context.Background(), url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.Run(t, db)
}

// PostgresTestURL returns the test database URL, skipping locally and
// failing in CI when it is not set.
func PostgresTestURL(t *testing.T) string {
	url := os.Getenv("TRAMONTANE_TEST_DATABASE_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TRAMONTANE_TEST_DATABASE_URL is not set in CI: PostgreSQL tests must run")
		}
		t.Skip("TRAMONTANE_TEST_DATABASE_URL not set; run scripts/pg-start.sh")
	}
	return url
}
