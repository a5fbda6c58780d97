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

func deploymentChat(cfg json.RawMessage) int {
	var c struct {
		DeploymentChat bool `json:"deployment_chat"`
	}
	_ = json.Unmarshal(cfg, &c)
	if c.DeploymentChat {
		return 1
	}
	return 0
}

// CreateAgent inserts an agent and its first version.
func (db *DB) CreateAgent(ctx context.Context, a *store.Agent) error {
	v := &a.Version
	return db.tx(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, db.q(`INSERT INTO agents (id, workspace_id, active_version, name, source, deployment_chat, metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			a.ID, a.WorkspaceID, v.Version, v.Name, v.Source, deploymentChat(v.Config), nullJSON(v.Metadata), ts(a.CreatedAt), ts(a.UpdatedAt)); err != nil {
			if isUnique(err) {
				return store.ErrConflict
			}
			return err
		}
		return db.insertVersion(ctx, q, a.ID, v)
	})
}

func (db *DB) insertVersion(ctx context.Context, q querier, id string, v *store.AgentVersion) error {
	_, err := q.ExecContext(ctx, db.q(`INSERT INTO agent_versions (agent_id, version, name, model, source, config, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		id, v.Version, v.Name, v.Model, v.Source, string(v.Config), nullJSON(v.Metadata), ts(v.CreatedAt))
	if isUnique(err) {
		return store.ErrConflict
	}
	return err
}

// GetAgent returns an agent at a version (version < 0: the active one).
func (db *DB) GetAgent(ctx context.Context, workspaceID, id string, version int) (*store.Agent, error) {
	return db.getAgent(ctx, db.rq(), workspaceID, id, version)
}

func (db *DB) getAgent(ctx context.Context, q querier, workspaceID, id string, version int) (*store.Agent, error) {
	var a store.Agent
	var created, updated int64
	err := q.QueryRowContext(ctx, db.q(`SELECT id, workspace_id, active_version, created_at, updated_at FROM agents WHERE id = ? AND workspace_id = ?`), id, workspaceID).
		Scan(&a.ID, &a.WorkspaceID, &a.ActiveVersion, &created, &updated)
	if err != nil {
		return nil, notFound(err)
	}
	a.CreatedAt, a.UpdatedAt = fromTS(created), fromTS(updated)
	if version < 0 {
		version = a.ActiveVersion
	}
	versions, err := db.versionNumbers(ctx, q, []string{id})
	if err != nil {
		return nil, err
	}
	a.Versions = versions[id]
	v, err := db.getVersion(ctx, q, id, version)
	if err != nil {
		return nil, err
	}
	a.Version = *v
	return &a, nil
}

func (db *DB) getVersion(ctx context.Context, q querier, id string, version int) (*store.AgentVersion, error) {
	var v store.AgentVersion
	var cfg string
	var meta sql.NullString
	var created int64
	err := q.QueryRowContext(ctx, db.q(`SELECT version, name, model, source, config, metadata, created_at FROM agent_versions WHERE agent_id = ? AND version = ?`), id, version).
		Scan(&v.Version, &v.Name, &v.Model, &v.Source, &cfg, &meta, &created)
	if err != nil {
		return nil, notFound(err)
	}
	v.Config = json.RawMessage(cfg)
	if meta.Valid {
		v.Metadata = json.RawMessage(meta.String)
	}
	v.CreatedAt = fromTS(created)
	return &v, nil
}

func (db *DB) versionNumbers(ctx context.Context, q querier, ids []string) (map[string][]int, error) {
	out := make(map[string][]int, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, db.q(`SELECT agent_id, version FROM agent_versions WHERE agent_id IN (?`+strings.Repeat(",?", len(ids)-1)+`) ORDER BY version`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var v int
		if err := rows.Scan(&id, &v); err != nil {
			return nil, err
		}
		out[id] = append(out[id], v)
	}
	return out, rows.Err()
}

// AddAgentVersion appends a version and makes it active.
func (db *DB) AddAgentVersion(ctx context.Context, workspaceID, id string, v *store.AgentVersion) error {
	return db.tx(ctx, func(q querier) error {
		var maxV int
		if err := q.QueryRowContext(ctx, db.q(`SELECT active_version FROM agents WHERE id = ? AND workspace_id = ?`+db.forUpdate()), id, workspaceID).Scan(&maxV); err != nil {
			return notFound(err)
		}
		if err := q.QueryRowContext(ctx, db.q(`SELECT COALESCE(MAX(version), -1) FROM agent_versions WHERE agent_id = ?`), id).Scan(&maxV); err != nil {
			return err
		}
		if maxV < 0 {
			return store.ErrNotFound
		}
		if v.Version != maxV+1 {
			return store.ErrConflict
		}
		if err := db.insertVersion(ctx, q, id, v); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, db.q(`UPDATE agents SET active_version = ?, name = ?, source = ?, deployment_chat = ?, metadata = ?, updated_at = ? WHERE id = ?`),
			v.Version, v.Name, v.Source, deploymentChat(v.Config), nullJSON(v.Metadata), ts(v.CreatedAt), id)
		return err
	})
}

// SetActiveVersion makes an existing version active.
func (db *DB) SetActiveVersion(ctx context.Context, workspaceID, id string, version int, at time.Time) error {
	return db.tx(ctx, func(q querier) error {
		var owner string
		if err := q.QueryRowContext(ctx, db.q(`SELECT workspace_id FROM agents WHERE id = ? AND workspace_id = ?`), id, workspaceID).Scan(&owner); err != nil {
			return notFound(err)
		}
		v, err := db.getVersion(ctx, q, id, version)
		if err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, db.q(`UPDATE agents SET active_version = ?, name = ?, source = ?, deployment_chat = ?, metadata = ?, updated_at = ? WHERE id = ?`),
			v.Version, v.Name, v.Source, deploymentChat(v.Config), nullJSON(v.Metadata), ts(at), id)
		return err
	})
}

// ListAgents lists a workspace's agents (active versions), newest first.
func (db *DB) ListAgents(ctx context.Context, workspaceID string, f store.AgentFilter, p store.Page) ([]store.Agent, error) {
	where := []string{"a.workspace_id = ?"}
	args := []any{workspaceID}
	if f.Name != "" {
		where = append(where, "a.name = ?")
		args = append(args, f.Name)
	}
	if f.ID != "" {
		where = append(where, "a.id = ?")
		args = append(args, f.ID)
	}
	if f.Search != "" {
		where = append(where, "(LOWER(a.name) LIKE ? ESCAPE '\\' OR a.id = ?)")
		args = append(args, "%"+likeEscape(strings.ToLower(f.Search))+"%", f.Search)
	}
	if len(f.Sources) > 0 {
		where = append(where, "a.source IN (?"+strings.Repeat(",?", len(f.Sources)-1)+")")
		for _, s := range f.Sources {
			args = append(args, s)
		}
	}
	if f.DeploymentChat != nil {
		where = append(where, "a.deployment_chat = ?")
		if *f.DeploymentChat {
			args = append(args, 1)
		} else {
			args = append(args, 0)
		}
	}
	keys := make([]string, 0, len(f.Metadata))
	for k := range f.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cond, karg := db.jsonEq("a.metadata", k)
		where = append(where, cond)
		args = append(args, karg, string(f.Metadata[k]))
	}
	query := `SELECT a.id FROM agents a WHERE ` + strings.Join(where, " AND ") + ` ORDER BY a.created_at DESC, a.id DESC LIMIT ? OFFSET ?`
	args = append(args, p.Limit, p.Offset)
	rows, err := db.rq().QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]store.Agent, 0, len(ids))
	for _, id := range ids {
		a, err := db.getAgent(ctx, db.rq(), workspaceID, id, -1)
		if err == store.ErrNotFound {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, nil
}

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// ListAgentVersions lists every version of an agent, newest first.
func (db *DB) ListAgentVersions(ctx context.Context, workspaceID, id string, p store.Page) ([]store.Agent, error) {
	head, err := db.getAgent(ctx, db.rq(), workspaceID, id, -1)
	if err != nil {
		return nil, err
	}
	rows, err := db.rq().QueryContext(ctx, db.q(`SELECT version FROM agent_versions WHERE agent_id = ? ORDER BY version DESC LIMIT ? OFFSET ?`), id, p.Limit, p.Offset)
	if err != nil {
		return nil, err
	}
	var nums []int
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		nums = append(nums, n)
	}
	rows.Close()
	out := make([]store.Agent, 0, len(nums))
	for _, n := range nums {
		v, err := db.getVersion(ctx, db.rq(), id, n)
		if err != nil {
			return nil, err
		}
		a := *head
		a.Version = *v
		out = append(out, a)
	}
	return out, nil
}

// DeleteAgent removes an agent, its versions and aliases.
func (db *DB) DeleteAgent(ctx context.Context, workspaceID, id string) error {
	res, err := db.wq().ExecContext(ctx, db.q(`DELETE FROM agents WHERE id = ? AND workspace_id = ?`), id, workspaceID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// UpsertAlias creates or re-points an alias.
func (db *DB) UpsertAlias(ctx context.Context, workspaceID string, al *store.AgentAlias) error {
	return db.tx(ctx, func(q querier) error {
		var one int
		if err := q.QueryRowContext(ctx, db.q(`SELECT 1 FROM agents WHERE id = ? AND workspace_id = ?`), al.AgentID, workspaceID).Scan(&one); err != nil {
			return notFound(err)
		}
		if _, err := db.getVersion(ctx, q, al.AgentID, al.Version); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, db.q(`INSERT INTO agent_aliases (agent_id, alias, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (agent_id, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`),
			al.AgentID, al.Alias, al.Version, ts(al.CreatedAt), ts(al.UpdatedAt)); err != nil {
			return err
		}
		var created, updated int64
		if err := q.QueryRowContext(ctx, db.q(`SELECT created_at, updated_at FROM agent_aliases WHERE agent_id = ? AND alias = ?`), al.AgentID, al.Alias).Scan(&created, &updated); err != nil {
			return err
		}
		al.CreatedAt, al.UpdatedAt = fromTS(created), fromTS(updated)
		return nil
	})
}

const aliasQuery = `SELECT l.agent_id, l.alias, l.version, l.created_at, l.updated_at FROM agent_aliases l JOIN agents a ON a.id = l.agent_id WHERE a.workspace_id = ? AND l.agent_id = ?`

func scanAlias(sc interface{ Scan(...any) error }) (*store.AgentAlias, error) {
	var al store.AgentAlias
	var created, updated int64
	if err := sc.Scan(&al.AgentID, &al.Alias, &al.Version, &created, &updated); err != nil {
		return nil, err
	}
	al.CreatedAt, al.UpdatedAt = fromTS(created), fromTS(updated)
	return &al, nil
}

// GetAlias returns one alias of an agent.
func (db *DB) GetAlias(ctx context.Context, workspaceID, agentID, alias string) (*store.AgentAlias, error) {
	al, err := scanAlias(db.rq().QueryRowContext(ctx, db.q(aliasQuery+` AND l.alias = ?`), workspaceID, agentID, alias))
	if err != nil {
		return nil, notFound(err)
	}
	return al, nil
}

// ListAliases lists an agent's aliases by name. It returns ErrNotFound for
// an unknown agent.
func (db *DB) ListAliases(ctx context.Context, workspaceID, agentID string) ([]store.AgentAlias, error) {
	var one int
	if err := db.rq().QueryRowContext(ctx, db.q(`SELECT 1 FROM agents WHERE id = ? AND workspace_id = ?`), agentID, workspaceID).Scan(&one); err != nil {
		return nil, notFound(err)
	}
	rows, err := db.rq().QueryContext(ctx, db.q(aliasQuery+` ORDER BY l.alias`), workspaceID, agentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.AgentAlias{}
	for rows.Next() {
		al, err := scanAlias(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *al)
	}
	return out, rows.Err()
}

// DeleteAlias removes an alias.
func (db *DB) DeleteAlias(ctx context.Context, workspaceID, agentID, alias string) error {
	res, err := db.wq().ExecContext(ctx, db.q(`DELETE FROM agent_aliases WHERE agent_id = ? AND alias = ? AND agent_id IN (SELECT id FROM agents WHERE workspace_id = ?)`), agentID, alias, workspaceID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}
