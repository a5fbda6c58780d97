package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/tramontane/tramontane/internal/store"
)

const fileCols = `id, workspace_id, filename, bytes, purpose, sample_type, source, mimetype, num_lines, signature, visibility, created_at, expires_at, storage_key`

// CreateFile stores a file's metadata.
func (db *DB) CreateFile(ctx context.Context, f *store.File) error {
	_, err := db.wq().ExecContext(ctx, db.q(`INSERT INTO files (`+fileCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		f.ID, f.WorkspaceID, f.Filename, f.Bytes, f.Purpose, f.SampleType, f.Source, f.MimeType, f.NumLines, f.Signature, f.Visibility, ts(f.CreatedAt), nullTS(f.ExpiresAt), f.StorageKey)
	if isUnique(err) {
		return store.ErrConflict
	}
	return err
}

func scanFile(sc interface{ Scan(...any) error }) (*store.File, error) {
	var f store.File
	var created int64
	var expires, lines sql.NullInt64
	if err := sc.Scan(&f.ID, &f.WorkspaceID, &f.Filename, &f.Bytes, &f.Purpose, &f.SampleType, &f.Source, &f.MimeType, &lines, &f.Signature, &f.Visibility, &created, &expires, &f.StorageKey); err != nil {
		return nil, err
	}
	f.CreatedAt = fromTS(created)
	f.ExpiresAt = fromNullTS(expires)
	if lines.Valid {
		n := lines.Int64
		f.NumLines = &n
	}
	return &f, nil
}

// GetFile returns a workspace's file.
func (db *DB) GetFile(ctx context.Context, workspaceID, id string) (*store.File, error) {
	f, err := scanFile(db.rq().QueryRowContext(ctx, db.q(`SELECT `+fileCols+` FROM files WHERE id = ? AND workspace_id = ?`), id, workspaceID))
	if err != nil {
		return nil, notFound(err)
	}
	return f, nil
}

// GetFileAnyWorkspace returns a file whatever its workspace (signed URLs).
func (db *DB) GetFileAnyWorkspace(ctx context.Context, id string) (*store.File, error) {
	f, err := scanFile(db.rq().QueryRowContext(ctx, db.q(`SELECT `+fileCols+` FROM files WHERE id = ?`), id))
	if err != nil {
		return nil, notFound(err)
	}
	return f, nil
}

// ListFiles lists a workspace's files, newest first, with the total count.
func (db *DB) ListFiles(ctx context.Context, workspaceID string, f store.FileFilter, p store.Page) ([]store.File, int, error) {
	where := []string{"workspace_id = ?"}
	args := []any{workspaceID}
	if f.Purpose != "" {
		where = append(where, "purpose = ?")
		args = append(args, f.Purpose)
	}
	if f.Search != "" {
		where = append(where, "(LOWER(filename) LIKE ? ESCAPE '\\' OR id = ?)")
		args = append(args, "%"+likeEscape(strings.ToLower(f.Search))+"%", f.Search)
	}
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		where = append(where, col+" IN (?"+strings.Repeat(",?", len(vals)-1)+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	in("sample_type", f.SampleTypes)
	in("source", f.Sources)
	in("mimetype", f.MimeTypes)
	cond := strings.Join(where, " AND ")
	var total int
	if err := db.rq().QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM files WHERE `+cond), args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := db.rq().QueryContext(ctx, db.q(`SELECT `+fileCols+` FROM files WHERE `+cond+` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`), append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []store.File{}
	for rows.Next() {
		fl, err := scanFile(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *fl)
	}
	return out, total, rows.Err()
}

// DeleteFile removes a file's metadata.
func (db *DB) DeleteFile(ctx context.Context, workspaceID, id string) error {
	res, err := db.wq().ExecContext(ctx, db.q(`DELETE FROM files WHERE id = ? AND workspace_id = ?`), id, workspaceID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}
