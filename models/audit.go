package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"
)

// sqlxExecer is a database handle or a transaction.
type sqlxExecer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// AuditEntry is one recorded action.
type AuditEntry struct {
	ID        int64           `db:"id"`
	ActorID   *int64          `db:"actor_id"`
	ActorName *string         `db:"actor_name"`
	Action    string          `db:"action"`
	Entity    string          `db:"entity"`
	EntityID  int64           `db:"entity_id"`
	Details   json.RawMessage `db:"details"`
	CreatedAt time.Time       `db:"created_at"`
}

// Audit records that actor (0 for the system) did action to entity.
func (s *Store) Audit(ctx context.Context, q sqlxExecer, actorID int64, action, entity string, entityID int64, details map[string]any) error {
	actor, b, err := auditValues(actorID, details)
	if err != nil {
		return err
	}
	if tx, ok := q.(*sqlx.Tx); ok {
		_, err = s.exec(ctx, tx, auditInsert, actor, action, entity, entityID, b)
		return err
	}
	_, err = q.ExecContext(ctx, auditInsert, actor, action, entity, entityID, b)
	return err
}

const auditInsert = `INSERT INTO audit_log (actor_id, action, entity, entity_id, details) VALUES ($1,$2,$3,$4,$5)`

// auditValues is how an audit entry stores its actor and its details (a
// JSON object).
func auditValues(actorID int64, details map[string]any) (*int64, []byte, error) {
	if details == nil {
		details = map[string]any{}
	}
	b, err := json.Marshal(details)
	return auditActor(actorID), b, err
}

// auditActor is an audit entry's actor: NULL for the system.
func auditActor(actorID int64) *int64 {
	if actorID == 0 {
		return nil
	}
	return &actorID
}

// History lists what was done to a record, oldest first.
func (s *Store) History(ctx context.Context, entity string, id int64) ([]AuditEntry, error) {
	var es []AuditEntry
	err := s.db.SelectContext(ctx, &es, `SELECT a.id, a.actor_id, u.name AS actor_name, a.action, a.entity, a.entity_id, a.details, a.created_at
		FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id WHERE a.entity = $1 AND a.entity_id = $2 ORDER BY a.created_at, a.id`, entity, id)
	return es, err
}
