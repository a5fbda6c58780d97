package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/tramontane/tramontane/internal/store"
)

const convCols = `id, workspace_id, agent_id, agent_version, model, config, name, description, metadata, state, next_seq, created_at, updated_at, run_owner, run_until`

// CreateConversation inserts a conversation and its first entries.
func (db *DB) CreateConversation(ctx context.Context, c *store.Conversation, entries []store.Entry) error {
	defer db.convs.drop(c.ID)
	return db.tx(ctx, func(q querier) error {
		var av any
		if c.AgentVersion != nil {
			av = *c.AgentVersion
		}
		if _, err := q.ExecContext(ctx, db.q(`INSERT INTO conversations (`+convCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			c.ID, c.WorkspaceID, c.AgentID, av, c.Model, nullJSON(c.Config), nullStr(c.Name), nullStr(c.Description), nullJSON(c.Metadata), nullJSON(c.State), 0, ts(c.CreatedAt), ts(c.UpdatedAt), c.RunOwner, leaseTS(c.RunUntil)); err != nil {
			if isUnique(err) {
				return store.ErrConflict
			}
			return err
		}
		c.NextSeq = 0
		return db.insertEntries(ctx, q, c, entries)
	})
}

func (db *DB) insertEntries(ctx context.Context, q querier, c *store.Conversation, entries []store.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	if err := db.insertRows(ctx, q, c, entries); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, db.q(`UPDATE conversations SET next_seq = ?, updated_at = ? WHERE id = ?`), c.NextSeq, ts(c.UpdatedAt), c.ID)
	return err
}

// insertRows inserts entries from c.NextSeq on and advances c.NextSeq; the
// caller updates the conversation row.
func (db *DB) insertRows(ctx context.Context, q querier, c *store.Conversation, entries []store.Entry) error {
	var b strings.Builder
	b.WriteString(`INSERT INTO entries (conversation_id, seq, id, type, body, created_at) VALUES `)
	args := make([]any, 0, 6*len(entries))
	for i := range entries {
		e := &entries[i]
		e.ConversationID = c.ID
		e.Seq = c.NextSeq + i
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?)")
		args = append(args, c.ID, e.Seq, e.ID, e.Type, string(e.Body), ts(e.CreatedAt))
	}
	if _, err := q.ExecContext(ctx, db.q(b.String()), args...); err != nil {
		if isUnique(err) {
			return store.ErrConflict
		}
		return err
	}
	c.NextSeq += len(entries)
	return nil
}

func scanConv(sc interface{ Scan(...any) error }) (*store.Conversation, error) {
	var c store.Conversation
	var av sql.NullInt64
	var cfg, name, desc, meta, state sql.NullString
	var created, updated, until int64
	if err := sc.Scan(&c.ID, &c.WorkspaceID, &c.AgentID, &av, &c.Model, &cfg, &name, &desc, &meta, &state, &c.NextSeq, &created, &updated, &c.RunOwner, &until); err != nil {
		return nil, err
	}
	if av.Valid {
		v := int(av.Int64)
		c.AgentVersion = &v
	}
	if cfg.Valid {
		c.Config = json.RawMessage(cfg.String)
	}
	if name.Valid {
		c.Name = &name.String
	}
	if desc.Valid {
		c.Description = &desc.String
	}
	if meta.Valid {
		c.Metadata = json.RawMessage(meta.String)
	}
	if state.Valid {
		c.State = json.RawMessage(state.String)
	}
	c.CreatedAt, c.UpdatedAt = fromTS(created), fromTS(updated)
	if until > 0 {
		c.RunUntil = fromTS(until)
	}
	return &c, nil
}

// GetConversation returns a workspace's conversation.
func (db *DB) GetConversation(ctx context.Context, workspaceID, id string) (*store.Conversation, error) {
	c, gen, ok := db.convs.get(workspaceID, id)
	if ok {
		return c, nil
	}
	c, err := scanConv(db.rq().QueryRowContext(ctx, db.q(`SELECT `+convCols+` FROM conversations WHERE id = ? AND workspace_id = ?`), id, workspaceID))
	if err != nil {
		return nil, notFound(err)
	}
	db.convs.put(gen, c)
	return c, nil
}

// ListConversations lists conversations newest first, filtered by metadata.
func (db *DB) ListConversations(ctx context.Context, workspaceID string, metadata map[string]json.RawMessage, p store.Page) ([]store.Conversation, error) {
	where := []string{"workspace_id = ?"}
	args := []any{workspaceID}
	keys := make([]string, 0, len(metadata))
	for k := range metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cond, karg := db.jsonEq("metadata", k)
		where = append(where, cond)
		args = append(args, karg, string(metadata[k]))
	}
	rows, err := db.rq().QueryContext(ctx, db.q(`SELECT `+convCols+` FROM conversations WHERE `+strings.Join(where, " AND ")+` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`), append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.Conversation{}
	for rows.Next() {
		c, err := scanConv(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// DeleteConversation removes a conversation and its entries.
func (db *DB) DeleteConversation(ctx context.Context, workspaceID, id string) error {
	defer db.convs.drop(id)
	res, err := db.wq().ExecContext(ctx, db.q(`DELETE FROM conversations WHERE id = ? AND workspace_id = ?`), id, workspaceID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// AppendEntries appends entries (and optionally new state) in one
// transaction of two statements: the conversation row's update, which
// reserves the sequence numbers (and locks the row on PostgreSQL), and one
// multi-row insert. On SQLite, concurrent appends share transactions
// (group commit, see groupcommit.go).
func (db *DB) AppendEntries(ctx context.Context, workspaceID, id string, entries []store.Entry, state json.RawMessage) error {
	if len(entries) == 0 && state == nil {
		var next int
		err := db.rq().QueryRowContext(ctx, db.q(`SELECT next_seq FROM conversations WHERE id = ? AND workspace_id = ?`), id, workspaceID).Scan(&next)
		return notFound(err)
	}
	if db.group != nil {
		return db.group.submit(&appendReq{ctx: ctx, workspaceID: workspaceID, id: id, entries: entries, state: state, done: make(chan error, 1)})
	}
	return db.tx(ctx, func(q querier) error {
		_, _, err := db.appendIn(ctx, q, workspaceID, id, entries, state)
		return err
	})
}

// appendIn is AppendEntries inside a transaction. It returns the
// conversation's new next_seq and the updated_at it wrote.
func (db *DB) appendIn(ctx context.Context, q querier, workspaceID, id string, entries []store.Entry, state json.RawMessage) (next int, updated int64, err error) {
	now := ts(time.Now().UTC())
	query, args := `UPDATE conversations SET next_seq = next_seq + ?, updated_at = ? WHERE id = ? AND workspace_id = ? RETURNING next_seq`,
		[]any{len(entries), now, id, workspaceID}
	if state != nil {
		query, args = `UPDATE conversations SET next_seq = next_seq + ?, updated_at = ?, state = ? WHERE id = ? AND workspace_id = ? RETURNING next_seq`,
			[]any{len(entries), now, nullJSON(state), id, workspaceID}
	}
	if err := q.QueryRowContext(ctx, db.q(query), args...).Scan(&next); err != nil {
		return 0, 0, notFound(err)
	}
	if len(entries) == 0 {
		return next, now, nil
	}
	return next, now, db.insertRows(ctx, q, &store.Conversation{ID: id, NextSeq: next - len(entries)}, entries)
}

const entryCols = `conversation_id, seq, id, type, body, created_at`

func scanEntry(sc interface{ Scan(...any) error }) (*store.Entry, error) {
	var e store.Entry
	var body string
	var created int64
	if err := sc.Scan(&e.ConversationID, &e.Seq, &e.ID, &e.Type, &body, &created); err != nil {
		return nil, err
	}
	e.Body = json.RawMessage(body)
	e.CreatedAt = fromTS(created)
	return &e, nil
}

// ListEntries returns a conversation's entries in order.
func (db *DB) ListEntries(ctx context.Context, workspaceID, id string, upToSeq int) ([]store.Entry, error) {
	var one int
	if err := db.rq().QueryRowContext(ctx, db.q(`SELECT 1 FROM conversations WHERE id = ? AND workspace_id = ?`), id, workspaceID).Scan(&one); err != nil {
		return nil, notFound(err)
	}
	query, args := `SELECT `+entryCols+` FROM entries WHERE conversation_id = ? ORDER BY seq`, []any{id}
	if upToSeq >= 0 {
		query, args = `SELECT `+entryCols+` FROM entries WHERE conversation_id = ? AND seq <= ? ORDER BY seq`, []any{id, upToSeq}
	}
	rows, err := db.rq().QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.Entry{}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}

// EntryByID finds an entry by its public id.
func (db *DB) EntryByID(ctx context.Context, workspaceID, conversationID, entryID string) (*store.Entry, error) {
	e, err := scanEntry(db.rq().QueryRowContext(ctx, db.q(`SELECT e.conversation_id, e.seq, e.id, e.type, e.body, e.created_at FROM entries e JOIN conversations c ON c.id = e.conversation_id WHERE c.workspace_id = ? AND e.conversation_id = ? AND e.id = ?`), workspaceID, conversationID, entryID))
	if err != nil {
		return nil, notFound(err)
	}
	return e, nil
}

func leaseTS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return ts(t)
}

// UpdateEntry replaces an entry's body.
func (db *DB) UpdateEntry(ctx context.Context, workspaceID, conversationID, entryID string, body json.RawMessage) error {
	res, err := db.wq().ExecContext(ctx, db.q(`UPDATE entries SET body = ? WHERE conversation_id = ? AND id = ? AND conversation_id IN (SELECT id FROM conversations WHERE workspace_id = ?)`), string(body), conversationID, entryID, workspaceID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ClaimRun takes or extends the run lease.
func (db *DB) ClaimRun(ctx context.Context, workspaceID, id, owner string, until time.Time) error {
	defer db.convs.drop(id)
	now := ts(time.Now())
	res, err := db.wq().ExecContext(ctx, db.q(`UPDATE conversations SET run_owner = ?, run_until = ? WHERE id = ? AND workspace_id = ? AND (run_owner = '' OR run_owner = ? OR run_until < ?)`),
		owner, ts(until), id, workspaceID, owner, now)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	if _, err := db.GetConversation(ctx, workspaceID, id); err != nil {
		return err
	}
	return store.ErrConflict
}

// ReleaseRun gives the lease up.
func (db *DB) ReleaseRun(ctx context.Context, workspaceID, id, owner string) error {
	defer db.convs.drop(id)
	_, err := db.wq().ExecContext(ctx, db.q(`UPDATE conversations SET run_owner = '', run_until = 0 WHERE id = ? AND workspace_id = ? AND run_owner = ?`), id, workspaceID, owner)
	return err
}
