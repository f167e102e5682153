package models

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Check-in results, as the API names them.
const (
	CheckedIn        = "checked_in"
	AlreadyCheckedIn = "already_checked_in"
	UnknownCode      = "not_found"
	WrongConference  = "wrong_conference"
	NotConfirmed     = "not_confirmed"
	CancelledTicket  = "cancelled"
	// ReadyToCheckIn is what Preview says of a ticket that would check in
	// now; the check-in API never answers it.
	ReadyToCheckIn = "ready"
)

// CheckIn is what scanning a code found, and did.
type CheckIn struct {
	Result string
	// Registration is nil when no ticket has the code.
	Registration    *Registration
	CheckedInByName string
}

// ErrTokenRefused is a scan whose remembered API token no longer works; it
// also wraps why (ErrNotFound: revoked or not staff; ErrThrottled).
var ErrTokenRefused = errors.New("the API token no longer works")

// ErrNonceReused is a client nonce sent again with another code or conference.
var ErrNonceReused = fmt.Errorf("%w: this nonce was already used for another code", ErrConflict)

// checkinGuard is the "not yet checked in" condition of the check-in update.
// Tests switch it off to show the concurrency test detects double check-ins.
var checkinGuard = true

// TicketToken reads the ticket token from what a scanner or a person typed:
// the bare token or the whole QR text (BASE_URL/t/TOKEN), in any case, with
// Crockford's look-alikes (O for 0, I and L for 1) and hyphens forgiven. It
// reports false for anything that cannot be a token, with no lookup needed.
func TicketToken(code string) (string, bool) {
	code = strings.TrimSpace(code)
	if i := strings.LastIndex(code, "/t/"); i >= 0 {
		code = code[i+3:]
	}
	if i := strings.IndexAny(code, "?#"); i >= 0 {
		code = code[:i]
	}
	code = strings.TrimSuffix(code, "/")
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		switch r {
		case '-', ' ':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if !strings.ContainsRune(crockford, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != 26 {
		return "", false
	}
	return b.String(), true
}

// checkInSQL is a batch of scans as one statement, so a check-in costs one
// round trip, and scans that queued together share it (see scanQueue). Its
// arguments are arrays with an element per scan: $1 tokens, $2 conference
// slugs, $3 who scans, $4 nonces, $5 the codes' hashes, $6 remembered API
// tokens' hashes (empty when none) and $7 their addresses' throttle keys;
// $8 is the throttle's window. No two scans in a batch have the same token
// or the same person's nonce.
//
//   - desk finds each scan's conference, unless the scan came with a
//     remembered API token that no longer works: it checks, first, that the
//     token is not revoked, that its owner is still staff and that its
//     address is not throttled, as TokenUser would;
//   - reg locks the badges' registrations (FOR UPDATE, in id order, so
//     batches never wait on each other in a circle): scans of one badge in
//     other batches or processes queue here, and each sees the row as the
//     one before left it, so exactly one of them finds it not yet checked in;
//   - verdict says what each scan does, from its locked row;
//   - req records each client nonce with its verdict; when the nonce exists
//     already (a retry, or a retry still in flight, which it waits for), it
//     records nothing and that scan does nothing;
//   - done checks in and audit audits, only where the verdict is checked_in.
//
// input also turns synchronous_commit off for the statement's own
// transaction (set_config's third argument), so the batch commits without
// waiting for the write-ahead log to reach the disk. Batches go one at a
// time, and at a busy desk the next is always waiting: each flush the
// batch waits for (about 0.2 ms of 1 ms on the bench machine) is time every
// queued scan waits too. What it gives up is durability in a crash of the
// database server only: the check-ins of its last fraction of a second (at
// most three times wal_writer_delay, 0.6 s by default) may be gone after
// the restart, with their audit entries and nonces, all or nothing per
// batch, and those badges then scan as not yet checked in. Nothing else
// changes: the commit is seen by every other transaction as soon as the
// statement answers, so the row lock still gives exactly one check-in per
// badge, and a server that does not crash loses nothing.
//
// It returns a row per scan (n, its place in the arrays) with the
// registration (read as the statement started, so the fields a scan could
// change come again as cur_*), and none for a scan whose conference or code
// is unknown or whose remembered token no longer works.
func checkInSQL() string {
	if checkinGuard {
		return checkInGuarded
	}
	return checkInUnguarded
}

// The check-in statement, built once: with and without the guard.
var checkInGuarded, checkInUnguarded = buildCheckInSQL(true), buildCheckInSQL(false)

func buildCheckInSQL(guarded bool) string {
	already := `WHEN reg.checked_in_at IS NOT NULL THEN 'already_checked_in'`
	guard := ` AND r.checked_in_at IS NULL`
	if !guarded {
		already, guard = ``, ``
	}
	return `WITH input AS (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bytea[], $6::bytea[], $7::text[])
		WITH ORDINALITY AS i(token, slug, user_id, nonce, code_hash, token_hash, throttle_key, n)
		WHERE set_config('synchronous_commit', 'off', true) IS NOT NULL),
	desk AS (SELECT i.*, c.id AS desk_id FROM input i JOIN conferences c ON c.slug = i.slug
		WHERE i.token_hash = '' OR (
			EXISTS (SELECT FROM api_tokens t JOIN users u ON u.id = t.user_id
				WHERE t.token_hash = i.token_hash AND t.revoked_at IS NULL AND u.id = i.user_id AND u.is_staff)
			AND (SELECT count(*) FROM login_failures f WHERE f.key = i.throttle_key AND f.failed_at > now() - $8::interval) < ` + strconv.Itoa(TokenFailuresPerAddress) + `)),
	reg AS (SELECT r.id, r.ticket_token, r.conference_id, r.status, r.amount_due_cents, r.checked_in_at, r.checked_in_by, r.updated_at
		FROM registrations r WHERE r.ticket_token = ANY ($1::text[]) ORDER BY r.id FOR UPDATE),
	verdict AS (SELECT d.n, d.user_id, d.nonce, d.code_hash, d.desk_id, reg.id, reg.status, reg.amount_due_cents,
			reg.checked_in_at, reg.checked_in_by, reg.updated_at, CASE
			WHEN reg.id IS NULL THEN 'not_found'
			WHEN reg.conference_id <> d.desk_id THEN 'wrong_conference'
			WHEN reg.status = 'cancelled' THEN 'cancelled'
			WHEN reg.status <> 'confirmed' THEN 'not_confirmed'
			` + already + `
			ELSE 'checked_in' END AS result
		FROM desk d LEFT JOIN reg ON reg.ticket_token = d.token),
	req AS (INSERT INTO checkin_requests (user_id, nonce, conference_id, code_hash, registration_id, result, checked_in_at, checked_in_by)
		SELECT v.user_id, v.nonce, v.desk_id, v.code_hash, v.id, v.result,
			CASE WHEN v.result = 'checked_in' THEN now() ELSE v.checked_in_at END,
			CASE WHEN v.result = 'checked_in' THEN v.user_id ELSE v.checked_in_by END
		FROM verdict v WHERE v.nonce <> ''
		ON CONFLICT DO NOTHING RETURNING user_id, nonce),
	done AS (UPDATE registrations r SET checked_in_at = now(), checked_in_by = v.user_id, updated_at = now()
		FROM verdict v WHERE r.id = v.id AND v.result = 'checked_in'` + guard + `
		AND (v.nonce = '' OR EXISTS (SELECT FROM req WHERE req.user_id = v.user_id AND req.nonce = v.nonce))
		RETURNING r.id, r.checked_in_at, r.checked_in_by, r.updated_at),
	audit AS (INSERT INTO audit_log (actor_id, action, entity, entity_id) SELECT checked_in_by, 'checked_in', 'registration', id FROM done)
	SELECT v.n, v.result, EXISTS (SELECT FROM req WHERE req.user_id = v.user_id AND req.nonce = v.nonce) AS recorded,
		v.status AS cur_status, v.amount_due_cents AS cur_amount_due_cents,
		coalesce(done.checked_in_at, v.checked_in_at) AS cur_checked_in_at, coalesce(done.checked_in_by, v.checked_in_by) AS cur_checked_in_by,
		coalesce(done.updated_at, v.updated_at) AS cur_updated_at, cu.name AS checked_in_by_name, x.*
	FROM verdict v LEFT JOIN done ON done.id = v.id
	LEFT JOIN users cu ON cu.id = coalesce(done.checked_in_by, v.checked_in_by)
	JOIN (` + registrationSelect + ` WHERE r.ticket_token = ANY ($1::text[])) x ON x.id = v.id`
}

// scanRow is checkInSQL's answer for one scan.
type scanRow struct {
	checkinRow
	N           int64      `db:"n"`
	Result      string     `db:"result"`
	Recorded    bool       `db:"recorded"`
	CurStatus   string     `db:"cur_status"`
	CurDue      int64      `db:"cur_amount_due_cents"`
	CurAt       *time.Time `db:"cur_checked_in_at"`
	CurBy       *int64     `db:"cur_checked_in_by"`
	CurUpdateAt time.Time  `db:"cur_updated_at"`
}

// CheckIn checks in the ticket whose code was scanned at the desk of the
// conference with this slug (ErrNotFound when there is none). Only a
// confirmed registration of this conference that is not yet checked in is
// checked in, exactly once however many desks scan it at the same moment,
// and audited; every other code gets its result and changes nothing. With a
// client nonce, a retried request gets the first answer again (replayed is
// true: the same result, check-in time and person) and never counts twice;
// the nonce sent again with another code gives ErrNonceReused.
func (s *Store) CheckIn(ctx context.Context, slug, code, nonce string, actor Actor) (ci CheckIn, replayed bool, err error) {
	if !actor.IsStaff() {
		return ci, false, ErrForbidden
	}
	if err := checkNonce(nonce); err != nil {
		return ci, false, err
	}
	// An unreadable code matches no ticket, but still goes through the
	// statement: it checks the conference and records the nonce.
	token, _ := TicketToken(code)
	codeHash := sha256.Sum256([]byte(token))
	a := scanArgs{token: token, slug: slug, nonce: nonce, userID: actor.User.ID, codeHash: codeHash[:],
		tokenHash: []byte{}, throttleKey: "token:" + actor.Addr}
	if actor.Token != "" {
		// A remembered token, which the statement checks again.
		a.tokenHash = hashToken(actor.Token)
	}
	row, err := s.checkInQueued(ctx, a)
	switch {
	case err == nil && row != nil:
		r := row.Registration
		r.Status, r.AmountDueCents, r.CheckedInAt, r.CheckedInBy, r.UpdatedAt = row.CurStatus, row.CurDue, row.CurAt, row.CurBy, row.CurUpdateAt
		ci = CheckIn{Result: row.Result, Registration: &r}
		if row.CheckedInByName != nil {
			ci.CheckedInByName = *row.CheckedInByName
		}
		if nonce == "" || row.Recorded {
			return ci, false, nil
		}
	case err == nil:
		ci = CheckIn{Result: UnknownCode}
		if actor.Token != "" {
			// The statement did nothing: was it the token?
			if _, err := s.TokenUser(ctx, actor.Token, actor.Addr); err != nil {
				s.ForgetScanner(actor.Token)
				return CheckIn{}, false, fmt.Errorf("%w: %w", ErrTokenRefused, err)
			}
		}
	default:
		return ci, false, err
	}
	ci, replayed, err = s.replay(ctx, slug, nonce, codeHash[:], ci, actor)
	// An unknown code says not_found whether this request stored its nonce
	// or an earlier one did, and the statement cannot tell which: it is
	// not called a replay.
	return ci, replayed && err == nil && ci.Registration != nil, err
}

// replay answers a scan that did nothing: its conference or its code is
// unknown, or its nonce was sent before. A nonce sent before gets the first
// answer.
func (s *Store) replay(ctx context.Context, slug, nonce string, codeHash []byte, ci CheckIn, actor Actor) (CheckIn, bool, error) {
	var prev struct {
		DeskID       *int64     `db:"desk_id"`
		ConferenceID *int64     `db:"conference_id"`
		CodeHash     []byte     `db:"code_hash"`
		Result       *string    `db:"result"`
		CheckedInAt  *time.Time `db:"checked_in_at"`
		CheckedInBy  *int64     `db:"checked_in_by"`
		ByName       *string    `db:"by_name"`
	}
	err := s.db.GetContext(ctx, &prev, `SELECT (SELECT id FROM conferences WHERE slug = $1) AS desk_id,
		q.conference_id, q.code_hash, q.result, q.checked_in_at, q.checked_in_by, u.name AS by_name
		FROM (SELECT 1) one LEFT JOIN checkin_requests q ON q.user_id = $2 AND q.nonce = $3
		LEFT JOIN users u ON u.id = q.checked_in_by`, slug, actor.User.ID, nonce)
	if err != nil {
		return ci, false, err
	}
	if prev.DeskID == nil {
		return CheckIn{}, false, ErrNotFound
	}
	if nonce == "" || prev.Result == nil {
		return ci, false, nil
	}
	if *prev.ConferenceID != *prev.DeskID || string(prev.CodeHash) != string(codeHash) {
		return CheckIn{}, false, ErrNonceReused
	}
	ci.Result = *prev.Result
	if r := ci.Registration; r != nil {
		r.CheckedInAt, r.CheckedInBy, ci.CheckedInByName = prev.CheckedInAt, prev.CheckedInBy, ""
		if prev.ByName != nil {
			ci.CheckedInByName = *prev.ByName
		}
	}
	return ci, true, nil
}

func checkNonce(nonce string) error {
	if len(nonce) > 100 {
		return &ValidationError{Fields: map[string]string{"nonce": "Use a nonce of at most 100 characters."}}
	}
	for _, r := range nonce {
		if r < '!' || r > '~' {
			return &ValidationError{Fields: map[string]string{"nonce": "Use only letters, digits and punctuation in the nonce."}}
		}
	}
	return nil
}

// checkinSelect is a registration with the name of who checked it in.
const checkinSelect = `SELECT x.*, cu.name AS checked_in_by_name FROM (` + registrationSelect + ` WHERE %s) x
	LEFT JOIN users cu ON cu.id = x.checked_in_by`

type checkinRow struct {
	Registration
	CheckedInByName *string `db:"checked_in_by_name"`
}

func (row checkinRow) checkIn(conferenceID int64) CheckIn {
	r := row.Registration
	ci := CheckIn{Result: classify(r, conferenceID), Registration: &r}
	if row.CheckedInByName != nil {
		ci.CheckedInByName = *row.CheckedInByName
	}
	return ci
}

// classify says what scanning r at conferenceID's desk would do.
func classify(r Registration, conferenceID int64) string {
	switch {
	case r.ConferenceID != conferenceID:
		return WrongConference
	case r.Status == RegCancelled:
		return CancelledTicket
	case r.Status != RegConfirmed:
		return NotConfirmed
	case r.CheckedInAt != nil:
		return AlreadyCheckedIn
	}
	return ReadyToCheckIn
}

// Ticket says what scanning a ticket at its own conference's desk would do,
// changing nothing: for the page a ticket's QR code opens. ErrNotFound when
// no registration has the code.
func (s *Store) Ticket(ctx context.Context, code string) (CheckIn, error) {
	token, ok := TicketToken(code)
	if !ok {
		return CheckIn{}, ErrNotFound
	}
	var row checkinRow
	err := s.db.GetContext(ctx, &row, fmt.Sprintf(checkinSelect, `r.ticket_token = $1`), token)
	if errors.Is(err, sql.ErrNoRows) {
		return CheckIn{}, ErrNotFound
	}
	if err != nil {
		return CheckIn{}, err
	}
	return row.checkIn(row.ConferenceID), nil
}

// CheckInStatus is a registration as the desk sees it, changing nothing.
func (s *Store) CheckInStatus(ctx context.Context, id int64) (CheckIn, error) {
	var row checkinRow
	err := s.db.GetContext(ctx, &row, fmt.Sprintf(checkinSelect, `r.id = $1`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return CheckIn{}, ErrNotFound
	}
	if err != nil {
		return CheckIn{}, err
	}
	return row.checkIn(row.ConferenceID), nil
}

// UndoCheckIn clears a registration's check-in (staff only) and audits who
// undid it and what it was. ErrConflict when it is not checked in.
func (s *Store) UndoCheckIn(ctx context.Context, id int64, actor Actor) (CheckIn, error) {
	if !actor.IsStaff() {
		return CheckIn{}, ErrForbidden
	}
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var prev struct {
			At time.Time `db:"checked_in_at"`
			By *int64    `db:"checked_in_by"`
		}
		err := tx.GetContext(ctx, &prev, `UPDATE registrations r SET checked_in_at = NULL, checked_in_by = NULL, updated_at = now()
			FROM (SELECT id, checked_in_at, checked_in_by FROM registrations WHERE id = $1 AND checked_in_at IS NOT NULL FOR UPDATE) old
			WHERE r.id = old.id RETURNING old.checked_in_at, old.checked_in_by`, id)
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := s.registration(ctx, tx, id, false); err != nil {
				return err
			}
			return fmt.Errorf("%w: this person is not checked in", ErrConflict)
		}
		if err != nil {
			return err
		}
		return s.Audit(ctx, tx, actor.User.ID, "checkin_undone", "registration", id,
			map[string]any{"checked_in_at": prev.At, "checked_in_by": prev.By})
	})
	if err != nil {
		return CheckIn{}, err
	}
	return s.CheckInStatus(ctx, id)
}

// CheckinCount is how many of a group are checked in, out of how many expected.
type CheckinCount struct {
	Key       string `db:"key"`
	Label     string `db:"label"`
	LabelES   string `db:"label_es"`
	CheckedIn int    `db:"checked_in"`
	Expected  int    `db:"expected"`
}

// CheckinCounts is a conference's check-in progress: confirmed registrations
// checked in, overall, by local and by category.
type CheckinCounts struct {
	CheckedIn, Expected int
	ByLocal             []CheckinCount
	ByCategory          []CheckinCount
}

// CheckinCounts counts a conference's confirmed registrations and how many
// of them are checked in.
func (s *Store) CheckinCounts(ctx context.Context, conferenceID int64) (CheckinCounts, error) {
	var out CheckinCounts
	err := s.db.SelectContext(ctx, &out.ByLocal, `SELECT coalesce(l.number, '') AS key, coalesce(l.name, '') AS label, '' AS label_es,
		count(*) FILTER (WHERE r.checked_in_at IS NOT NULL) AS checked_in, count(*) AS expected
		FROM registrations r LEFT JOIN locals l ON l.id = r.local_id
		WHERE r.conference_id = $1 AND r.status = 'confirmed'
		GROUP BY l.number, l.name ORDER BY l.number IS NULL, length(l.number), l.number`, conferenceID)
	if err != nil {
		return out, err
	}
	err = s.db.SelectContext(ctx, &out.ByCategory, `SELECT k.slug AS key, k.name AS label, k.name_es AS label_es,
		count(r.id) FILTER (WHERE r.checked_in_at IS NOT NULL) AS checked_in, count(r.id) AS expected
		FROM categories k LEFT JOIN registrations r ON r.category_id = k.id AND r.status = 'confirmed'
		WHERE k.conference_id = $1
		GROUP BY k.id ORDER BY k.position, k.id`, conferenceID)
	for _, c := range out.ByCategory {
		out.CheckedIn += c.CheckedIn
		out.Expected += c.Expected
	}
	return out, err
}

// SearchAttendees finds a conference's registrations by name (any order,
// case and accents ignored), local number or member number, confirmed ones
// first, at most limit.
func (s *Store) SearchAttendees(ctx context.Context, conferenceID int64, q string, limit int) ([]CheckIn, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, nil
	}
	if r := []rune(q); len(r) > 100 {
		q = string(r[:100])
	}
	like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%"
	var rows []checkinRow
	err := s.db.SelectContext(ctx, &rows, fmt.Sprintf(checkinSelect, `r.conference_id = $1 AND (
			unaccent(lower(r.first_name || ' ' || r.last_name)) LIKE unaccent(lower($2))
			OR unaccent(lower(r.last_name || ' ' || r.first_name)) LIKE unaccent(lower($2))
			OR unaccent(lower(r.last_name || ', ' || r.first_name)) LIKE unaccent(lower($2))
			OR l.number = $3 OR (r.member_number <> '' AND lower(r.member_number) = lower($4)))`)+`
		ORDER BY x.status = 'confirmed' DESC, lower(x.last_name), lower(x.first_name), x.id LIMIT $5`,
		conferenceID, like, localNumber(q), q, limit)
	out := make([]CheckIn, len(rows))
	for i, row := range rows {
		out[i] = row.checkIn(conferenceID)
	}
	return out, err
}

// PruneCheckinRequests forgets check-in nonces older than a day: retries
// come within seconds, and the stored answers hold personal data.
func (s *Store) PruneCheckinRequests(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM checkin_requests WHERE created_at < now() - interval '1 day'`)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
