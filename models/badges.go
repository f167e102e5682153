package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ErrNoBadges means no registration matches a badge batch's filters.
var ErrNoBadges = errors.New("no badges match")

// BadgeQuery is a badge batch's filters as typed into the form or the URL.
type BadgeQuery struct {
	Local     string // a local's number
	Category  string // a category's slug
	Status    string // empty: confirmed
	Unprinted string // true: only badges never printed
	CheckedIn string // true or false; empty: either
}

// BadgeFilter chooses which of a conference's registrations get badges.
type BadgeFilter struct {
	LocalID    *int64
	CategoryID *int64
	Status     string
	Unprinted  bool
	CheckedIn  *bool
}

// Details describes the filter for the audit log.
func (q BadgeQuery) Details() map[string]any {
	return map[string]any{"local": q.Local, "category": q.Category, "status": q.Status,
		"unprinted": q.Unprinted, "checked_in": q.CheckedIn}
}

// parseFlag reads a form or URL flag: true/1/on/yes, false/0/off/no, or empty.
func parseFlag(s string) (value, set, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return false, false, true
	case "true", "1", "on", "yes":
		return true, true, true
	case "false", "0", "off", "no":
		return false, true, true
	}
	return false, false, false
}

// BadgeFilter checks q against conf: the local must exist, the category must
// be the conference's, the status one that people come to the door with.
// Problems come back as a *ValidationError, field by field.
func (s *Store) BadgeFilter(ctx context.Context, conf Conference, q BadgeQuery) (BadgeFilter, error) {
	p := Problems{}
	f := BadgeFilter{Status: strings.TrimSpace(q.Status)}
	if num := strings.TrimSpace(q.Local); num != "" {
		l, err := s.LocalByNumber(ctx, localNumber(num))
		switch {
		case errors.Is(err, ErrNotFound):
			p.Add("local", "We do not know this local. Check its number.")
		case err != nil:
			return f, err
		default:
			f.LocalID = &l.ID
		}
	}
	if slug := strings.TrimSpace(q.Category); slug != "" {
		cats, err := s.Categories(ctx, conf.ID)
		if err != nil {
			return f, err
		}
		for _, c := range cats {
			if c.Slug == slug {
				f.CategoryID = &c.ID
			}
		}
		if f.CategoryID == nil {
			p.Add("category", "Choose a registration type of this conference.")
		}
	}
	switch f.Status {
	case "":
		f.Status = RegConfirmed
	case RegDenied, RegCancelled:
		p.Add("status", "Badges are not printed for denied or cancelled registrations.")
	default:
		if _, known := transitions[f.Status]; !known {
			p.Add("status", "Choose a status such as confirmed, approved or awaiting_payment.")
		}
	}
	var ok, set bool
	if f.Unprinted, _, ok = parseFlag(q.Unprinted); !ok {
		p.Add("unprinted", "Use true or false.")
	}
	var checkedIn bool
	if checkedIn, set, ok = parseFlag(q.CheckedIn); !ok {
		p.Add("checked_in", "Use true or false, or leave it empty for either.")
	} else if set {
		f.CheckedIn = &checkedIn
	}
	return f, p.Err()
}

const badgeWhere = ` WHERE r.conference_id = $1 AND ($2::bigint IS NULL OR r.local_id = $2)
	AND ($3::bigint IS NULL OR r.category_id = $3) AND r.status = $4
	AND (NOT $5 OR r.badge_printed_at IS NULL) AND ($6::boolean IS NULL OR (r.checked_in_at IS NOT NULL) = $6)`

func (f BadgeFilter) args(conferenceID int64) []any {
	return []any{conferenceID, f.LocalID, f.CategoryID, f.Status, f.Unprinted, f.CheckedIn}
}

// BadgeCount is how many badges a filter matches, and how many of those were
// printed before.
type BadgeCount struct {
	Matching int `db:"matching"`
	Printed  int `db:"printed"`
}

// CountBadges counts the registrations a batch with filter f would print.
func (s *Store) CountBadges(ctx context.Context, conferenceID int64, f BadgeFilter) (BadgeCount, error) {
	var n BadgeCount
	err := s.db.GetContext(ctx, &n, `SELECT count(*) AS matching, count(r.badge_printed_at) AS printed
		FROM registrations r`+badgeWhere, f.args(conferenceID)...)
	return n, err
}

// PrintBadges prints a batch of badges. One statement claims the
// registrations f matches by marking them printed; write then makes the
// document from them, in the order they are handed out (by local, then
// name), and the batch gets one audit entry. No row stays locked while the
// document is made, so check-in desks never wait on a print run. Rows are
// locked in id order, as check-in batches lock theirs, so the two never
// wait on each other in a circle. Two staff
// printing "not yet printed" at the same moment get disjoint batches: the
// second claim waits for the first and then skips what it took. When write
// fails, the badges get back the printed time they had. ErrNoBadges means
// nothing matched.
func (s *Store) PrintBadges(ctx context.Context, conf Conference, f BadgeFilter, actor Actor, details map[string]any, write func([]Registration) error) (int, error) {
	if !actor.IsStaff() {
		return 0, ErrForbidden
	}
	var claimed []struct {
		ID       int64      `db:"id"`
		Previous *time.Time `db:"previous"`
		Printed  time.Time  `db:"printed"`
	}
	err := s.db.SelectContext(ctx, &claimed, `WITH picked AS (
			SELECT r.id, r.badge_printed_at AS previous FROM registrations r`+badgeWhere+` ORDER BY r.id FOR UPDATE)
		UPDATE registrations r SET badge_printed_at = now() FROM picked WHERE r.id = picked.id
		RETURNING r.id, picked.previous, r.badge_printed_at AS printed`, f.args(conf.ID)...)
	if err != nil {
		return 0, err
	}
	if len(claimed) == 0 {
		return 0, ErrNoBadges
	}
	ids := make([]int64, len(claimed))
	for i, c := range claimed {
		ids[i] = c.ID
	}
	var rs []Registration
	err = s.db.SelectContext(ctx, &rs, registrationSelect+` WHERE r.id = ANY($1)
		ORDER BY l.number NULLS LAST, lower(r.last_name), lower(r.first_name), r.id`, pq.Array(ids))
	if err == nil {
		err = ensureTicketTokens(ctx, s.db, rs)
	}
	if err == nil {
		err = write(rs)
	}
	if err != nil {
		// Give the badges back the printed time they had, unless someone
		// printed them again meanwhile.
		prev := make([]string, len(claimed))
		for i, c := range claimed {
			if c.Previous != nil {
				prev[i] = c.Previous.Format(time.RFC3339Nano)
			}
		}
		if _, rerr := s.db.ExecContext(context.WithoutCancel(ctx), `WITH locked AS (
				SELECT id FROM registrations WHERE id = ANY ($1::bigint[]) ORDER BY id FOR UPDATE)
			UPDATE registrations r SET badge_printed_at = NULLIF(v.previous, '')::timestamptz
			FROM unnest($1::bigint[], $2::text[]) AS v(id, previous), locked
			WHERE r.id = v.id AND locked.id = r.id AND r.badge_printed_at = $3`,
			pq.Array(ids), pq.Array(prev), claimed[0].Printed); rerr != nil {
			return 0, errors.Join(err, fmt.Errorf("giving back the printed times: %w", rerr))
		}
		return 0, err
	}
	if details == nil {
		details = map[string]any{}
	}
	details["count"], details["registrations"] = len(ids), ids
	return len(ids), s.Audit(ctx, s.db, actor.User.ID, "badges_printed", "conference", conf.ID, details)
}

// PrintBadge prints one registration's badge, as PrintBadges does a batch:
// write makes the document, and only if it succeeds is the badge marked
// printed and the reprint audited. Denied and cancelled registrations get no
// badge.
func (s *Store) PrintBadge(ctx context.Context, id int64, actor Actor, details map[string]any, write func(Registration) error) error {
	if !actor.IsStaff() {
		return ErrForbidden
	}
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		r, err := s.registration(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if !Active(r.Status) {
			return fmt.Errorf("%w: a %s registration gets no badge", ErrConflict, r.Status)
		}
		rs := []Registration{r}
		if err := ensureTicketTokens(ctx, tx, rs); err != nil {
			return err
		}
		if err := write(rs[0]); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE registrations SET badge_printed_at = now() WHERE id = $1`, id); err != nil {
			return err
		}
		if details == nil {
			details = map[string]any{}
		}
		details["reprint"] = r.BadgePrintedAt != nil
		return s.Audit(ctx, tx, actor.User.ID, "badge_printed", "registration", id, details)
	})
}

// ensureTicketTokens gives a ticket token to any of rs that has none (rows
// written before every registration got one at submission), so every badge
// carries a code.
func ensureTicketTokens(ctx context.Context, q sqlxExecer, rs []Registration) error {
	for i := range rs {
		if rs[i].TicketToken != nil && *rs[i].TicketToken != "" {
			continue
		}
		tok := NewTicketToken()
		if _, err := q.ExecContext(ctx, `UPDATE registrations SET ticket_token = $2 WHERE id = $1`, rs[i].ID, tok); err != nil {
			return err
		}
		rs[i].TicketToken = &tok
	}
	return nil
}

// BadgeLocals lists the locals that have registrations for a conference, by
// number, for the badge form's choice of local.
func (s *Store) BadgeLocals(ctx context.Context, conferenceID int64) ([]Local, error) {
	var ls []Local
	err := s.db.SelectContext(ctx, &ls, `SELECT `+prefixed("l", localColumns)+` FROM locals l
		WHERE EXISTS (SELECT 1 FROM registrations r WHERE r.local_id = l.id AND r.conference_id = $1)
		ORDER BY length(l.number), l.number`, conferenceID)
	return ls, err
}

// PersonalAgenda is one registration's program: every session that is not a
// workshop (plenaries, meals, panels, caucuses: everyone attends those) and
// the sessions it signed up for, in time order.
func (s *Store) PersonalAgenda(ctx context.Context, r Registration) ([]AgendaSession, error) {
	var as []AgendaSession
	err := s.db.SelectContext(ctx, &as, `SELECT `+prefixed("a", sessionColumns)+` FROM agenda_sessions a
		WHERE a.conference_id = $1 AND (a.kind <> 'workshop' OR EXISTS
			(SELECT 1 FROM registration_sessions rs WHERE rs.registration_id = $2 AND rs.session_id = a.id))
		ORDER BY a.starts_at, a.title`, r.ConferenceID, r.ID)
	return as, err
}
