// Package cluster lets several Tramontane instances that share one
// PostgreSQL database reach each other. Each instance is a Node with a
// random id and a URL at which the others reach it; state that lives in
// one process (a conversation's code_interpreter session) is recorded in
// the database with its owner, and calls for it are forwarded to the owner
// over an internal endpoint authenticated with HMAC-SHA256 (the key is a
// secret kept in the database, like the file-signing key).
package cluster

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
)

// Node is this instance as the others see it.
type Node struct {
	db     *sql.DB
	id     string
	key    []byte
	client *http.Client

	mu  sync.RWMutex
	url string
}

const schema = `
CREATE TABLE IF NOT EXISTS cluster_code_sessions (
	workspace_id    text NOT NULL,
	conversation_id text NOT NULL,
	owner_id        text NOT NULL,
	owner_url       text NOT NULL,
	updated_at      timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (workspace_id, conversation_id)
);`

// Open connects to the PostgreSQL database at url, creates the cluster's
// table if missing, and returns a node with a fresh id. key authenticates
// calls between instances: every instance must use the same key.
func Open(ctx context.Context, url string, key []byte) (*Node, error) {
	if len(key) < 16 {
		return nil, errors.New("cluster.Open: the key must have at least 16 bytes")
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("cluster.Open: %w", err)
	}
	db.SetMaxOpenConns(4)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("cluster.Open: %w", err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7262840918)`)
	if err == nil {
		_, err = tx.ExecContext(ctx, schema)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("cluster.Open: create table: %w", err)
	}
	dialer := &net.Dialer{Timeout: dialTimeout}
	return &Node{db: db, id: uuid.NewString(), key: key, client: &http.Client{Transport: &http.Transport{
		DialContext: dialer.DialContext, MaxIdleConnsPerHost: 8, IdleConnTimeout: time.Minute,
		ResponseHeaderTimeout: 0, // a forwarded call lasts as long as the code runs (bounded by the caller's context)
	}}}, nil
}

// dialTimeout bounds a connection to another instance.
const dialTimeout = 2 * time.Second

// reachable reports whether a new TCP connection to host (host:port)
// succeeds within dialTimeout.
func (n *Node) reachable(ctx context.Context, host string) bool {
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// ID is the node's id, new at every start.
func (n *Node) ID() string { return n.id }

// SetURL sets the base URL at which the other instances reach this one.
// Call it before serving.
func (n *Node) SetURL(u string) {
	n.mu.Lock()
	n.url = u
	n.mu.Unlock()
}

// URL is the base URL set by SetURL.
func (n *Node) URL() string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.url
}

// Close closes the database pool.
func (n *Node) Close() error { return n.db.Close() }

// owner returns the recorded owner of a conversation's session ("" if
// none).
func (n *Node) owner(ctx context.Context, ws, conv string) (id, url string, err error) {
	err = n.db.QueryRowContext(ctx, `SELECT owner_id, owner_url FROM cluster_code_sessions WHERE workspace_id = $1 AND conversation_id = $2`, ws, conv).Scan(&id, &url)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("cluster: read session owner: %w", err)
	}
	return id, url, nil
}

// claim makes this node the owner if the owner is still prev ("" : no
// owner yet). It reports whether it did.
func (n *Node) claim(ctx context.Context, ws, conv, prev string) (bool, error) {
	res, err := n.db.ExecContext(ctx, `
		INSERT INTO cluster_code_sessions (workspace_id, conversation_id, owner_id, owner_url)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (workspace_id, conversation_id) DO UPDATE
		SET owner_id = EXCLUDED.owner_id, owner_url = EXCLUDED.owner_url, updated_at = now()
		WHERE cluster_code_sessions.owner_id = $5`, ws, conv, n.id, n.URL(), prev)
	if err != nil {
		return false, fmt.Errorf("cluster: claim session: %w", err)
	}
	k, _ := res.RowsAffected()
	return k == 1, nil
}

// touch marks this node's session of a conversation as used now (at most
// once per 30 s), so that Prune keeps it while it is in use.
func (n *Node) touch(ctx context.Context, ws, conv string) error {
	_, err := n.db.ExecContext(ctx, `UPDATE cluster_code_sessions SET updated_at = now()
		WHERE workspace_id = $1 AND conversation_id = $2 AND owner_id = $3 AND updated_at < now() - interval '30 seconds'`, ws, conv, n.id)
	if err != nil {
		return fmt.Errorf("cluster: touch session: %w", err)
	}
	return nil
}

// Prune deletes the ownership records of sessions unused for longer than
// olderThan (their sessions have ended on their owners by then), and
// reports how many it deleted.
func (n *Node) Prune(ctx context.Context, olderThan time.Duration) (int64, error) {
	res, err := n.db.ExecContext(ctx, `DELETE FROM cluster_code_sessions WHERE updated_at < now() - make_interval(secs => $1)`, olderThan.Seconds())
	if err != nil {
		return 0, fmt.Errorf("cluster: prune sessions: %w", err)
	}
	k, _ := res.RowsAffected()
	return k, nil
}

// Signature headers of internal calls.
const (
	headerTime      = "X-Tramontane-Cluster-Time"
	headerSignature = "X-Tramontane-Cluster-Signature"
	maxSkew         = 5 * time.Minute
)

func (n *Node) sign(ts string, body []byte) string {
	m := hmac.New(sha256.New, n.key)
	m.Write([]byte(ts))
	m.Write([]byte{'\n'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// verify checks an internal call's signature and freshness.
func (n *Node) verify(r *http.Request, body []byte) bool {
	ts := r.Header.Get(headerTime)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	if d := time.Since(time.Unix(sec, 0)); d > maxSkew || d < -maxSkew {
		return false
	}
	got, err := hex.DecodeString(r.Header.Get(headerSignature))
	if err != nil {
		return false
	}
	want, _ := hex.DecodeString(n.sign(ts, body))
	return hmac.Equal(got, want)
}
