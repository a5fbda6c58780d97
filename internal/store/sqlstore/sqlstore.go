// Package sqlstore implements store.Store on SQLite (modernc.org/sqlite, the
// embedded default) and PostgreSQL (pgx/v5). Both share the SQL here; the
// few differences (placeholders, JSON operators, connection set-up) live in
// the dialect.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // SQLite driver "sqlite"
)

//go:embed migrations
var migrations embed.FS

type dialect int

const (
	sqlite dialect = iota
	postgres
)

// DB is a store.Store backed by SQL.
type DB struct {
	dialect dialect
	// w takes every write; on SQLite it is a single connection whose
	// transactions begin IMMEDIATE, so read-then-write transactions never
	// fail with SQLITE_BUSY. r is a pool for reads (the same pool on
	// PostgreSQL).
	w *sql.DB
	r *sql.DB
	// wc and rc cache prepared statements of w and r (one cache when they
	// are the same pool).
	wc, rc *stmtCache
	// group batches concurrent appends into shared transactions (SQLite
	// only; nil on PostgreSQL, whose writers run in parallel).
	group *committer
	// convs caches conversation rows (SQLite only; see convcache.go).
	convs *convCache
}

// Open connects to the database named by url and runs pending migrations.
// A "postgres://" or "postgresql://" url selects PostgreSQL; anything else
// is a SQLite file path ("" means dataDir/tramontane.db).
func Open(ctx context.Context, url, dataDir string) (*DB, error) {
	db, err := Connect(ctx, url, dataDir)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// IsPostgres reports whether url selects the PostgreSQL backend.
func IsPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// Connect opens the database without migrating it.
func Connect(ctx context.Context, url, dataDir string) (*DB, error) {
	if IsPostgres(url) {
		pool, err := sql.Open("pgx", url)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		pool.SetMaxOpenConns(20)
		pool.SetMaxIdleConns(10)
		pool.SetConnMaxIdleTime(5 * time.Minute)
		if err := pool.PingContext(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("connect postgres: %w", err)
		}
		c := newStmtCache(pool)
		return &DB{dialect: postgres, w: pool, r: pool, wc: c, rc: c}, nil
	}
	path := strings.TrimPrefix(url, "sqlite://")
	if path == "" {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		path = filepath.Join(dataDir, "tramontane.db")
	}
	pragmas := "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	db := &DB{dialect: sqlite, w: w, r: r, wc: newStmtCache(w), rc: newStmtCache(r)}
	db.group = newCommitter(db)
	db.convs = newConvCache()
	return db, nil
}

// Migrate applies the embedded migrations of the dialect.
func (db *DB) Migrate(ctx context.Context) error {
	dir, gd := "migrations/sqlite", goose.DialectSQLite3
	if db.dialect == postgres {
		dir, gd = "migrations/postgres", goose.DialectPostgres
	}
	sub, err := fs.Sub(migrations, dir)
	if err != nil {
		return err
	}
	var opts []goose.ProviderOption
	if db.dialect == postgres {
		// Instances (and test processes) starting together on one database
		// take turns: an advisory lock serialises their migrations.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, db.w, sub, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Close closes both pools.
func (db *DB) Close() error {
	if db.group != nil {
		db.group.close()
	}
	db.wc.close()
	if db.rc != db.wc {
		db.rc.close()
	}
	err := db.w.Close()
	if db.r != db.w {
		if err2 := db.r.Close(); err == nil {
			err = err2
		}
	}
	return err
}

// Backend names the dialect ("sqlite" or "postgres").
func (db *DB) Backend() string {
	if db.dialect == postgres {
		return "postgres"
	}
	return "sqlite"
}

// q rewrites ? placeholders for the dialect.
func (db *DB) q(query string) string {
	if db.dialect != postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tx runs fn in a write transaction.
func (db *DB) tx(ctx context.Context, fn func(q querier) error) error {
	t, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer db.wc.prepareWanted(context.WithoutCancel(ctx))
	defer func() {
		// A panic must not leave the transaction, and with it SQLite's
		// only writer connection, held for ever.
		if p := recover(); p != nil {
			_ = t.Rollback()
			panic(p)
		}
	}()
	if err := fn(cachedQ{c: db.wc, tx: t, raw: t}); err != nil {
		_ = t.Rollback()
		return err
	}
	return t.Commit()
}

// forUpdate locks the selected row on PostgreSQL (SQLite's single writer
// already serialises write transactions).
func (db *DB) forUpdate() string {
	if db.dialect == postgres {
		return " FOR UPDATE"
	}
	return ""
}

// jsonEq returns a SQL condition that the JSON column col has key equal to
// the JSON value bound to the next placeholder, and the key argument.
func (db *DB) jsonEq(col, key string) (string, any) {
	if db.dialect == postgres {
		return col + "->? = ?::jsonb", key
	}
	return "json_extract(" + col + ", ?) IS json_extract(?, '$')", `$."` + strings.ReplaceAll(key, `"`, `\"`) + `"`
}

func ts(t time.Time) int64 { return t.UnixMicro() }

func fromTS(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNullTS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromTS(v.Int64)
	return &t
}

func nullTS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

func nullJSON(b []byte) any {
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	return string(b)
}

func nullStr(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// isUnique reports whether err is a uniqueness violation.
func isUnique(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint") || strings.Contains(s, "SQLSTATE 23505") || strings.Contains(s, "constraint failed: PRIMARY KEY")
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return storeNotFound
	}
	return err
}
