package store

import (
	"context"
	"encoding/json"
	"time"
)

// Conversation is a stored dialogue. Its entries are kept append-only in
// order of Seq.
type Conversation struct {
	ID          string
	WorkspaceID string
	// AgentID and AgentVersion are set for agent conversations; the version
	// is pinned for the conversation's life.
	AgentID      string
	AgentVersion *int
	// Model and Config are set for model conversations (Config holds
	// instructions, tools, completion_args, guardrails as JSON).
	Model       string
	Config      json.RawMessage
	Name        *string
	Description *string
	Metadata    json.RawMessage
	// State is the engine's own JSON (current agent after a handoff,
	// pending calls, ...).
	State     json.RawMessage
	CreatedAt time.Time
	UpdatedAt time.Time
	// NextSeq is the sequence number the next entry will take.
	NextSeq int
	// RunOwner and RunUntil are the lease of the run in progress, if any.
	RunOwner string
	RunUntil time.Time
}

// Entry is one immutable event of a conversation.
type Entry struct {
	ConversationID string
	Seq            int
	ID             string
	Type           string
	// Body is the entry's full wire JSON.
	Body      json.RawMessage
	CreatedAt time.Time
}

// ConversationStore persists conversations and their entries.
type ConversationStore interface {
	// CreateConversation inserts c and its first entries atomically.
	CreateConversation(ctx context.Context, c *Conversation, entries []Entry) error
	GetConversation(ctx context.Context, workspaceID, id string) (*Conversation, error)
	// ListConversations returns conversations newest first.
	ListConversations(ctx context.Context, workspaceID string, metadata map[string]json.RawMessage, p Page) ([]Conversation, error)
	DeleteConversation(ctx context.Context, workspaceID, id string) error
	// AppendEntries appends entries after the last one, giving them
	// consecutive Seq values, and stores state when it is not nil. It
	// writes only the new rows, so its cost does not grow with history.
	AppendEntries(ctx context.Context, workspaceID, id string, entries []Entry, state json.RawMessage) error
	// ListEntries returns all entries in order; upToSeq < 0 means all,
	// otherwise entries with Seq <= upToSeq.
	ListEntries(ctx context.Context, workspaceID, id string, upToSeq int) ([]Entry, error)
	// EntryByID finds one entry of a conversation by its public id.
	EntryByID(ctx context.Context, workspaceID, conversationID, entryID string) (*Entry, error)
	// UpdateEntry replaces an entry's body (used only to record a tool
	// confirmation decision on a pending call).
	UpdateEntry(ctx context.Context, workspaceID, conversationID, entryID string, body json.RawMessage) error
	// ClaimRun takes the conversation's run lease for owner until the given
	// time. It fails with ErrConflict while another owner holds an
	// unexpired lease; the same owner may extend its lease.
	ClaimRun(ctx context.Context, workspaceID, id, owner string, until time.Time) error
	// ReleaseRun gives the lease up if owner holds it.
	ReleaseRun(ctx context.Context, workspaceID, id, owner string) error
}
