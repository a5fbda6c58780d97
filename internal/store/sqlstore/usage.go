package sqlstore

import (
	"context"
	"fmt"

	"github.com/tramontane/tramontane/internal/store"
)

var _ store.UsageStore = (*DB)(nil)

// AddUsage adds to a (workspace, day, model) usage row. On SQLite the
// counters are written with the next group commit (usagebatch.go).
func (db *DB) AddUsage(ctx context.Context, workspaceID string, u store.UsageDay) error {
	var err error
	if db.group != nil {
		err = db.group.addUsage(workspaceID, u)
	} else {
		err = db.upsertUsage(ctx, db.wq(), workspaceID, u)
	}
	if err != nil {
		return fmt.Errorf("sqlstore.AddUsage: %w", err)
	}
	return nil
}

// upsertUsage adds u to its row through q.
func (db *DB) upsertUsage(ctx context.Context, q querier, workspaceID string, u store.UsageDay) error {
	_, err := q.ExecContext(ctx, db.q(`
		INSERT INTO usage_daily (workspace_id, day, model, requests, prompt_tokens, completion_tokens, connector_tokens)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace_id, day, model) DO UPDATE SET
			requests = usage_daily.requests + excluded.requests,
			prompt_tokens = usage_daily.prompt_tokens + excluded.prompt_tokens,
			completion_tokens = usage_daily.completion_tokens + excluded.completion_tokens,
			connector_tokens = usage_daily.connector_tokens + excluded.connector_tokens`),
		workspaceID, u.Day, u.Model, u.Requests, u.PromptTokens, u.CompletionTokens, u.ConnectorTokens)
	return err
}

// ListUsage lists a workspace's usage rows between two days (inclusive).
func (db *DB) ListUsage(ctx context.Context, workspaceID, from, to string) ([]store.UsageDay, error) {
	if db.group != nil {
		if err := db.group.flush(ctx); err != nil {
			return nil, fmt.Errorf("sqlstore.ListUsage: write pending usage: %w", err)
		}
	}
	rows, err := db.rq().QueryContext(ctx, db.q(`
		SELECT day, model, requests, prompt_tokens, completion_tokens, connector_tokens
		FROM usage_daily WHERE workspace_id = ? AND day >= ? AND day <= ?
		ORDER BY day, model`), workspaceID, from, to)
	if err != nil {
		return nil, fmt.Errorf("sqlstore.ListUsage: %w", err)
	}
	defer rows.Close()
	var out []store.UsageDay
	for rows.Next() {
		var u store.UsageDay
		if err := rows.Scan(&u.Day, &u.Model, &u.Requests, &u.PromptTokens, &u.CompletionTokens, &u.ConnectorTokens); err != nil {
			return nil, fmt.Errorf("sqlstore.ListUsage: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
