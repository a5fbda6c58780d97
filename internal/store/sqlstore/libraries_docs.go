package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/tramontane/tramontane/internal/store"
)

const docCols = `id, library_id, workspace_id, name, mime_type, extension, size, hash, storage_key, uploaded_by, attributes, expires_at,
 status, status_reason, attempts, lease_owner, lease_until, tokens, pages, last_processed_at, created_at, updated_at`

func scanDocument(sc interface{ Scan(...any) error }) (*store.Document, error) {
	var d store.Document
	var attrs sql.NullString
	var expires, pages, processed sql.NullInt64
	var lease, created, updated int64
	if err := sc.Scan(&d.ID, &d.LibraryID, &d.WorkspaceID, &d.Name, &d.MimeType, &d.Extension, &d.Size, &d.Hash,
		&d.StorageKey, &d.UploadedBy, &attrs, &expires, &d.Status, &d.StatusReason, &d.Attempts, &d.LeaseOwner,
		&lease, &d.Tokens, &pages, &processed, &created, &updated); err != nil {
		return nil, err
	}
	if attrs.Valid {
		d.Attributes = []byte(attrs.String)
	}
	d.ExpiresAt = fromNullTS(expires)
	if pages.Valid {
		n := int(pages.Int64)
		d.Pages = &n
	}
	d.LastProcessedAt = fromNullTS(processed)
	d.LeaseUntil, d.CreatedAt, d.UpdatedAt = fromTS(lease), fromTS(created), fromTS(updated)
	return &d, nil
}

func scanDocuments(rows *sql.Rows) ([]store.Document, error) {
	defer rows.Close()
	out := []store.Document{}
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

// CreateDocument inserts a document with a pending job.
func (db *DB) CreateDocument(ctx context.Context, d *store.Document) error {
	if d.Status == "" {
		d.Status = store.DocTodo
	}
	_, err := db.w.ExecContext(ctx, db.q(`INSERT INTO documents (`+docCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		d.ID, d.LibraryID, d.WorkspaceID, d.Name, d.MimeType, d.Extension, d.Size, d.Hash, d.StorageKey, d.UploadedBy,
		nullJSON(d.Attributes), nullTS(d.ExpiresAt), d.Status, d.StatusReason, d.Attempts, d.LeaseOwner, ts0(d.LeaseUntil),
		d.Tokens, nullInt(d.Pages), nullTS(d.LastProcessedAt), ts(d.CreatedAt), ts(d.UpdatedAt))
	if isUnique(err) {
		return store.ErrConflict
	}
	return err
}

// GetDocument returns a document of a library.
func (db *DB) GetDocument(ctx context.Context, libraryID, id string) (*store.Document, error) {
	d, err := scanDocument(db.r.QueryRowContext(ctx, db.q(`SELECT `+docCols+` FROM documents WHERE id = ? AND library_id = ?`), id, libraryID))
	if err != nil {
		return nil, notFound(err)
	}
	return d, nil
}

// GetDocumentAnyLibrary returns a document by id alone.
func (db *DB) GetDocumentAnyLibrary(ctx context.Context, id string) (*store.Document, error) {
	d, err := scanDocument(db.r.QueryRowContext(ctx, db.q(`SELECT `+docCols+` FROM documents WHERE id = ?`), id))
	if err != nil {
		return nil, notFound(err)
	}
	return d, nil
}

var docSorts = map[string]string{"created_at": "created_at", "updated_at": "updated_at", "name": "name", "size": "size"}

// ListDocuments lists a library's live documents with the total count.
func (db *DB) ListDocuments(ctx context.Context, libraryID string, f store.DocumentFilter, p store.Page) ([]store.Document, int, error) {
	cond := `library_id = ? AND (expires_at IS NULL OR expires_at > ?)`
	args := []any{libraryID, ts(f.Now)}
	if f.Search != "" {
		cond += ` AND LOWER(name) LIKE ? ESCAPE '\'`
		args = append(args, "%"+likeEscape(strings.ToLower(f.Search))+"%")
	}
	col := docSorts[f.SortBy]
	if col == "" {
		col = "created_at"
	}
	dir := " ASC"
	if f.SortDesc {
		dir = " DESC"
	}
	order := ` ORDER BY ` + col + dir + `, id` + dir
	if f.Match != nil {
		// Attribute filters run in Go: fetch in order, filter, then page.
		rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+docCols+` FROM documents WHERE `+cond+order), args...)
		if err != nil {
			return nil, 0, err
		}
		all, err := scanDocuments(rows)
		if err != nil {
			return nil, 0, err
		}
		kept := all[:0]
		for i := range all {
			if f.Match(&all[i]) {
				kept = append(kept, all[i])
			}
		}
		total := len(kept)
		lo := min(p.Offset, total)
		hi := min(lo+p.Limit, total)
		return append([]store.Document{}, kept[lo:hi]...), total, nil
	}
	var total int
	if err := db.r.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM documents WHERE `+cond), args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+docCols+` FROM documents WHERE `+cond+order+` LIMIT ? OFFSET ?`), append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	out, err := scanDocuments(rows)
	return out, total, err
}

// UpdateDocument writes name, attributes, expires_at and updated_at.
func (db *DB) UpdateDocument(ctx context.Context, d *store.Document) error {
	res, err := db.w.ExecContext(ctx, db.q(`UPDATE documents SET name = ?, attributes = ?, expires_at = ?, updated_at = ? WHERE id = ? AND library_id = ?`),
		d.Name, nullJSON(d.Attributes), nullTS(d.ExpiresAt), ts(d.UpdatedAt), d.ID, d.LibraryID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// DeleteDocument removes a document, its chunks and its text.
func (db *DB) DeleteDocument(ctx context.Context, libraryID, id string) (*store.Document, error) {
	var doc *store.Document
	err := db.tx(ctx, func(q querier) error {
		d, err := scanDocument(q.QueryRowContext(ctx, db.q(`SELECT `+docCols+` FROM documents WHERE id = ? AND library_id = ?`+db.forUpdate()), id, libraryID))
		if err != nil {
			return notFound(err)
		}
		doc = d
		for _, stmt := range append(deleteChunks("document_id"), `DELETE FROM document_pages WHERE document_id = ?`, `DELETE FROM documents WHERE id = ?`) {
			if _, err := q.ExecContext(ctx, db.q(stmt), id); err != nil {
				return err
			}
		}
		return db.bumpIndex(ctx, q, libraryID)
	})
	return doc, err
}

// DocumentText returns extracted pages in [from, to] (0: unbounded).
func (db *DB) DocumentText(ctx context.Context, documentID string, from, to int) ([]store.DocumentPage, error) {
	cond, args := `document_id = ?`, []any{documentID}
	if from > 0 {
		cond += ` AND page >= ?`
		args = append(args, from)
	}
	if to > 0 {
		cond += ` AND page <= ?`
		args = append(args, to)
	}
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT page, text FROM document_pages WHERE `+cond+` ORDER BY page`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.DocumentPage{}
	for rows.Next() {
		var p store.DocumentPage
		if err := rows.Scan(&p.Page, &p.Text); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ExpiredDocuments lists documents whose expiry has passed.
func (db *DB) ExpiredDocuments(ctx context.Context, now time.Time, limit int) ([]store.Document, error) {
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+docCols+` FROM documents WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?`), ts(now), limit)
	if err != nil {
		return nil, err
	}
	return scanDocuments(rows)
}

// ClaimDocumentJob takes the next job. On PostgreSQL the candidate row is
// locked with FOR UPDATE SKIP LOCKED, so concurrent instances each take a
// different job; SQLite's single writer serialises the statement.
func (db *DB) ClaimDocumentJob(ctx context.Context, owner string, now, until time.Time) (*store.Document, error) {
	lock := ""
	if db.dialect == postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	n := ts(now)
	d, err := scanDocument(db.w.QueryRowContext(ctx, db.q(`UPDATE documents
		SET status = 'in_progress', lease_owner = ?, lease_until = ?, attempts = attempts + 1
		WHERE id = (SELECT id FROM documents
			WHERE (status = 'todo' AND lease_until <= ?) OR (status = 'in_progress' AND lease_until < ?)
			ORDER BY created_at, id LIMIT 1`+lock+`)
		RETURNING `+docCols), owner, ts(until), n, n))
	if err != nil {
		return nil, notFound(err)
	}
	return d, nil
}

// ExtendDocumentLease renews owner's lease.
func (db *DB) ExtendDocumentLease(ctx context.Context, id, owner string, until time.Time) error {
	res, err := db.w.ExecContext(ctx, db.q(`UPDATE documents SET lease_until = ? WHERE id = ? AND lease_owner = ? AND status = 'in_progress'`), ts(until), id, owner)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrConflict
	}
	return nil
}

// claimed locks a job that owner must still hold and returns its library.
func (db *DB) claimed(ctx context.Context, q querier, id, owner string) (string, error) {
	var lib string
	err := q.QueryRowContext(ctx, db.q(`SELECT library_id FROM documents WHERE id = ? AND lease_owner = ? AND status = 'in_progress'`+db.forUpdate()), id, owner).Scan(&lib)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrConflict
	}
	return lib, err
}

// FinishDocumentJob stores a job's outcome if owner still holds it.
func (db *DB) FinishDocumentJob(ctx context.Context, id, owner string, r *store.DocumentResult) error {
	return db.tx(ctx, func(q querier) error {
		lib, err := db.claimed(ctx, q, id, owner)
		if err != nil {
			return err
		}
		if r.Status == store.DocDone {
			for _, stmt := range append(deleteChunks("document_id"), `DELETE FROM document_pages WHERE document_id = ?`) {
				if _, err := q.ExecContext(ctx, db.q(stmt), id); err != nil {
					return err
				}
			}
			for _, p := range r.Text {
				if _, err := q.ExecContext(ctx, db.q(`INSERT INTO document_pages (document_id, page, text) VALUES (?, ?, ?)`), id, p.Page, p.Text); err != nil {
					return err
				}
			}
			if err := db.insertChunks(ctx, q, id, lib, r.Chunks); err != nil {
				return err
			}
		}
		if _, err := q.ExecContext(ctx, db.q(`UPDATE documents SET status = ?, status_reason = ?, tokens = ?, pages = ?,
			last_processed_at = ?, lease_owner = '', lease_until = 0 WHERE id = ?`),
			r.Status, r.Reason, r.Tokens, nullInt(r.Pages), ts(r.At), id); err != nil {
			return err
		}
		return db.bumpIndex(ctx, q, lib)
	})
}

// DeferDocumentJob returns a claimed job to the queue for later.
func (db *DB) DeferDocumentJob(ctx context.Context, id, owner, reason string, notBefore time.Time) error {
	res, err := db.w.ExecContext(ctx, db.q(`UPDATE documents SET status = 'todo', status_reason = ?, lease_owner = '', lease_until = ?
		WHERE id = ? AND lease_owner = ? AND status = 'in_progress'`), reason, ts(notBefore), id, owner)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrConflict
	}
	return nil
}

// ResetDocumentJob queues a document again. A worker still processing it
// loses its claim (its FinishDocumentJob gets ErrConflict).
func (db *DB) ResetDocumentJob(ctx context.Context, libraryID, id string, at time.Time) error {
	res, err := db.w.ExecContext(ctx, db.q(`UPDATE documents SET status = 'todo', status_reason = '', attempts = 0, lease_owner = '', lease_until = 0, updated_at = ?
		WHERE id = ? AND library_id = ?`), ts(at), id, libraryID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func nullInt(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// ts0 stores the zero time as 0.
func ts0(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return ts(t)
}
