package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/tramontane/tramontane/internal/store"
)

const libCols = `l.id, l.workspace_id, l.name, l.description, l.chunk_size, l.owner_type, l.created_at, l.updated_at`

// libStats are the computed columns of a library: live document count and
// size. The single placeholder is "now" (expired documents do not count).
const libStats = `(SELECT COUNT(*) FROM documents d WHERE d.library_id = l.id AND (d.expires_at IS NULL OR d.expires_at > ?)),
 (SELECT COALESCE(SUM(d.size), 0) FROM documents d WHERE d.library_id = l.id AND (d.expires_at IS NULL OR d.expires_at > ?))`

// libRole is the reader's role; its placeholders are the reader twice.
// MIN picks 'Editor' over 'Viewer' when a workspace has both a grant of its
// own and an "every workspace" grant.
const libRole = `CASE WHEN l.workspace_id = ? THEN 'Owner' ELSE
 (SELECT MIN(a.role) FROM library_accesses a WHERE a.library_id = l.id AND a.grantee IN (?, '*')) END`

// libVisible is the condition that the reader (placeholders: twice) may see l.
const libVisible = `(l.workspace_id = ? OR EXISTS (SELECT 1 FROM library_accesses a WHERE a.library_id = l.id AND a.grantee IN (?, '*')))`

func scanLibrary(sc interface{ Scan(...any) error }) (*store.Library, error) {
	var l store.Library
	var desc sql.NullString
	var chunk sql.NullInt64
	var created, updated int64
	var role sql.NullString
	if err := sc.Scan(&l.ID, &l.WorkspaceID, &l.Name, &desc, &chunk, &l.OwnerType, &created, &updated,
		&l.NbDocuments, &l.TotalSize, &role); err != nil {
		return nil, err
	}
	if desc.Valid {
		l.Description = &desc.String
	}
	if chunk.Valid {
		n := int(chunk.Int64)
		l.ChunkSize = &n
	}
	l.CreatedAt, l.UpdatedAt = fromTS(created), fromTS(updated)
	l.Role = role.String
	return &l, nil
}

// CreateLibrary inserts a library.
func (db *DB) CreateLibrary(ctx context.Context, l *store.Library) error {
	var chunk any
	if l.ChunkSize != nil {
		chunk = *l.ChunkSize
	}
	_, err := db.w.ExecContext(ctx, db.q(`INSERT INTO libraries (id, workspace_id, name, description, chunk_size, owner_type, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		l.ID, l.WorkspaceID, l.Name, nullStr(l.Description), chunk, l.OwnerType, ts(l.CreatedAt), ts(l.UpdatedAt))
	if isUnique(err) {
		return store.ErrConflict
	}
	return err
}

// LibraryFor returns a library the workspace owns or that is shared with it.
func (db *DB) LibraryFor(ctx context.Context, workspaceID, id string, now time.Time) (*store.Library, error) {
	n := ts(now)
	l, err := scanLibrary(db.r.QueryRowContext(ctx, db.q(`SELECT `+libCols+`, `+libStats+`, `+libRole+`
		FROM libraries l WHERE l.id = ? AND `+libVisible),
		n, n, workspaceID, workspaceID, id, workspaceID, workspaceID))
	if err != nil {
		return nil, notFound(err)
	}
	return l, nil
}

// LibraryAccess is LibraryFor without the document statistics.
func (db *DB) LibraryAccess(ctx context.Context, workspaceID, id string) (*store.Library, error) {
	l, err := scanLibrary(db.r.QueryRowContext(ctx, db.q(`SELECT `+libCols+`, 0, 0, `+libRole+`
		FROM libraries l WHERE l.id = ? AND `+libVisible),
		workspaceID, workspaceID, id, workspaceID, workspaceID))
	if err != nil {
		return nil, notFound(err)
	}
	return l, nil
}

// ListLibraries lists the libraries visible to the workspace, newest first.
func (db *DB) ListLibraries(ctx context.Context, workspaceID string, f store.LibraryFilter, p store.Page, now time.Time) ([]store.Library, int, error) {
	cond := libVisible
	args := []any{workspaceID, workspaceID}
	if f.OwnedOnly {
		cond = "l.workspace_id = ?"
		args = []any{workspaceID}
	}
	if f.Search != "" {
		cond += ` AND (LOWER(l.name) LIKE ? ESCAPE '\' OR l.id = ?)`
		args = append(args, "%"+likeEscape(strings.ToLower(f.Search))+"%", f.Search)
	}
	var total int
	if err := db.r.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM libraries l WHERE `+cond), args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	n := ts(now)
	all := append([]any{n, n, workspaceID, workspaceID}, args...)
	all = append(all, p.Limit, p.Offset)
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+libCols+`, `+libStats+`, `+libRole+`
		FROM libraries l WHERE `+cond+` ORDER BY l.created_at DESC, l.id DESC LIMIT ? OFFSET ?`), all...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []store.Library{}
	for rows.Next() {
		l, err := scanLibrary(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *l)
	}
	return out, total, rows.Err()
}

// UpdateLibrary writes the library's name, description and updated_at.
func (db *DB) UpdateLibrary(ctx context.Context, l *store.Library) error {
	res, err := db.w.ExecContext(ctx, db.q(`UPDATE libraries SET name = ?, description = ?, updated_at = ? WHERE id = ?`),
		l.Name, nullStr(l.Description), ts(l.UpdatedAt), l.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// DeleteLibrary removes an owned library with everything in it.
func (db *DB) DeleteLibrary(ctx context.Context, owner, id string) ([]string, error) {
	var keys []string
	err := db.tx(ctx, func(q querier) error {
		var one int
		if err := q.QueryRowContext(ctx, db.q(`SELECT 1 FROM libraries WHERE id = ? AND workspace_id = ?`+db.forUpdate()), id, owner).Scan(&one); err != nil {
			return notFound(err)
		}
		rows, err := q.QueryContext(ctx, db.q(`SELECT storage_key FROM documents WHERE library_id = ?`), id)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return err
			}
			keys = append(keys, k)
		}
		rows.Close()
		// Chunks first, explicitly, so the FTS triggers see every row.
		for _, stmt := range append(deleteChunks("library_id"),
			`DELETE FROM document_pages WHERE document_id IN (SELECT id FROM documents WHERE library_id = ?)`,
			`DELETE FROM documents WHERE library_id = ?`,
			`DELETE FROM library_accesses WHERE library_id = ?`,
			`DELETE FROM libraries WHERE id = ?`,
		) {
			if _, err := q.ExecContext(ctx, db.q(stmt), id); err != nil {
				return err
			}
		}
		return nil
	})
	return keys, err
}

// PutLibraryAccess creates or updates a grant.
func (db *DB) PutLibraryAccess(ctx context.Context, a *store.LibraryAccess) error {
	return db.tx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, db.q(`UPDATE library_accesses SET role = ?, updated_at = ? WHERE library_id = ? AND grantee = ?`),
			a.Role, ts(a.UpdatedAt), a.LibraryID, a.Grantee)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		_, err = q.ExecContext(ctx, db.q(`INSERT INTO library_accesses (library_id, grantee, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`),
			a.LibraryID, a.Grantee, a.Role, ts(a.CreatedAt), ts(a.UpdatedAt))
		if isUnique(err) {
			return store.ErrConflict
		}
		return err
	})
}

// ListLibraryAccesses lists a library's grants, oldest first.
func (db *DB) ListLibraryAccesses(ctx context.Context, libraryID string) ([]store.LibraryAccess, error) {
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT library_id, grantee, role, created_at, updated_at FROM library_accesses
		WHERE library_id = ? ORDER BY created_at, grantee`), libraryID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.LibraryAccess{}
	for rows.Next() {
		var a store.LibraryAccess
		var c, u int64
		if err := rows.Scan(&a.LibraryID, &a.Grantee, &a.Role, &c, &u); err != nil {
			return nil, err
		}
		a.CreatedAt, a.UpdatedAt = fromTS(c), fromTS(u)
		out = append(out, a)
	}
	return out, rows.Err()
}

// DeleteLibraryAccess removes a grant.
func (db *DB) DeleteLibraryAccess(ctx context.Context, libraryID, grantee string) error {
	res, err := db.w.ExecContext(ctx, db.q(`DELETE FROM library_accesses WHERE library_id = ? AND grantee = ?`), libraryID, grantee)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// bumpIndex marks the library's chunks as changed.
func (db *DB) bumpIndex(ctx context.Context, q querier, libraryID string) error {
	_, err := q.ExecContext(ctx, db.q(`UPDATE libraries SET index_version = index_version + 1 WHERE id = ?`), libraryID)
	return err
}

// LibraryIndexVersion returns the library's chunk version.
func (db *DB) LibraryIndexVersion(ctx context.Context, libraryID string) (int64, error) {
	var v int64
	err := db.r.QueryRowContext(ctx, db.q(`SELECT index_version FROM libraries WHERE id = ?`), libraryID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, store.ErrNotFound
	}
	return v, err
}
