package models

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
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

// checkInSQL checks a confirmed registration of the conference in and audits
// it in one statement. Concurrent scans of one badge queue on the row lock and
// re-check "checked_in_at IS NULL" once the first commits, so exactly one
// of them returns a row.
func checkInSQL() string {
	guard := ` AND checked_in_at IS NULL`
	if !checkinGuard {
		guard = ``
	}
	return `WITH done AS (
		UPDATE registrations SET checked_in_at = now(), checked_in_by = $3, updated_at = now()
		WHERE ticket_token = $1 AND conference_id = $2 AND status = 'confirmed'` + guard + `
		RETURNING id)
	INSERT INTO audit_log (actor_id, action, entity, entity_id) SELECT $3, 'checked_in', 'registration', id FROM done
	RETURNING entity_id`
}

// CheckIn checks in the ticket whose code was scanned at a conference's desk.
// Only a confirmed registration of this conference that is not yet checked
// in is checked in, exactly once however many desks scan it at the same
// moment; every other code gets its result and changes nothing. With a
// client nonce, a retried request gets the first answer again (replayed is
// true) and never counts twice.
func (s *Store) CheckIn(ctx context.Context, conferenceID int64, code, nonce string, actor Actor) (ci CheckIn, replayed bool, err error) {
	if !actor.IsStaff() {
		return ci, false, ErrForbidden
	}
	token, ok := TicketToken(code)
	if nonce == "" {
		if !ok {
			return CheckIn{Result: UnknownCode}, false, nil
		}
		ci, err = s.checkIn(ctx, s.db, conferenceID, token, actor.User.ID)
		return ci, false, err
	}
	if err := checkNonce(nonce); err != nil {
		return ci, false, err
	}
	codeHash := sha256.Sum256([]byte(strings.TrimSpace(code)))
	err = s.InTx(ctx, func(tx *sqlx.Tx) error {
		// A retry of a request still in flight waits here for it to commit.
		var fresh bool
		err := tx.GetContext(ctx, &fresh, `INSERT INTO checkin_requests (user_id, nonce, conference_id, code_hash)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true`, actor.User.ID, nonce, conferenceID, codeHash[:])
		if errors.Is(err, sql.ErrNoRows) {
			replayed = true
			return s.firstAnswer(ctx, tx, actor.User.ID, nonce, conferenceID, codeHash[:], &ci)
		}
		if err != nil {
			return err
		}
		if ci = (CheckIn{Result: UnknownCode}); ok {
			if ci, err = s.checkIn(ctx, tx, conferenceID, token, actor.User.ID); err != nil {
				return err
			}
		}
		answer, err := json.Marshal(ci)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE checkin_requests SET answer = $3 WHERE user_id = $1 AND nonce = $2`, actor.User.ID, nonce, answer)
		return err
	})
	return ci, replayed, err
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

func (s *Store) firstAnswer(ctx context.Context, tx *sqlx.Tx, userID int64, nonce string, conferenceID int64, codeHash []byte, ci *CheckIn) error {
	var prev struct {
		ConferenceID int64  `db:"conference_id"`
		CodeHash     []byte `db:"code_hash"`
		Answer       []byte `db:"answer"`
	}
	if err := tx.GetContext(ctx, &prev, `SELECT conference_id, code_hash, answer FROM checkin_requests WHERE user_id = $1 AND nonce = $2`,
		userID, nonce); err != nil {
		return err
	}
	if prev.ConferenceID != conferenceID || string(prev.CodeHash) != string(codeHash) {
		return ErrNonceReused
	}
	return json.Unmarshal(prev.Answer, ci)
}

func (s *Store) checkIn(ctx context.Context, q sqlx.ExtContext, conferenceID int64, token string, actorID int64) (CheckIn, error) {
	// Between the update finding nothing and the read, the registration may
	// become checkable (an undo, a payment): then try the update again.
	for range 3 {
		var id int64
		err := sqlx.GetContext(ctx, q, &id, checkInSQL(), token, conferenceID, actorID)
		if err == nil {
			ci, err := s.checkinView(ctx, q, conferenceID, `r.id = $1`, id)
			ci.Result = CheckedIn
			return ci, err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return CheckIn{}, err
		}
		ci, err := s.checkinView(ctx, q, conferenceID, `r.ticket_token = $1`, token)
		if errors.Is(err, ErrNotFound) {
			return CheckIn{Result: UnknownCode}, nil
		}
		if err != nil || ci.Result != ReadyToCheckIn {
			return ci, err
		}
	}
	return CheckIn{}, fmt.Errorf("%w: the registration kept changing; scan again", ErrConflict)
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

func (s *Store) checkinView(ctx context.Context, q sqlx.QueryerContext, conferenceID int64, where string, arg any) (CheckIn, error) {
	var row checkinRow
	err := sqlx.GetContext(ctx, q, &row, fmt.Sprintf(checkinSelect, where), arg)
	if errors.Is(err, sql.ErrNoRows) {
		return CheckIn{}, ErrNotFound
	}
	if err != nil {
		return CheckIn{}, err
	}
	return row.checkIn(conferenceID), nil
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
