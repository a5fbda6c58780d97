package store

import "context"

// UsageDay is one workspace's usage of one model on one UTC day.
type UsageDay struct {
	Day              string // YYYY-MM-DD
	Model            string
	Requests         int64
	PromptTokens     int64
	CompletionTokens int64
	ConnectorTokens  int64
}

// UsageStore keeps per-day, per-model usage counters. It is separate from
// Store: only the usage recorder and the console use it.
type UsageStore interface {
	// AddUsage adds u's counters to its (workspace, day, model) row.
	AddUsage(ctx context.Context, workspaceID string, u UsageDay) error
	// ListUsage returns a workspace's rows with from <= day <= to, by day.
	ListUsage(ctx context.Context, workspaceID, from, to string) ([]UsageDay, error)
}
