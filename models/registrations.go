package models

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Registration statuses; see "Registration lifecycle" in DESIGN.md.
const (
	RegSubmitted       = "submitted"
	RegPending         = "pending"
	RegApproved        = "approved"
	RegAwaitingPayment = "awaiting_payment"
	RegConfirmed       = "confirmed"
	RegWaitlisted      = "waitlisted"
	RegDenied          = "denied"
	RegCancelled       = "cancelled"
)

// transitions lists where each status may go. Transition is the only code
// that writes the status column.
var transitions = map[string][]string{
	RegSubmitted:       {RegPending, RegApproved, RegWaitlisted, RegCancelled},
	RegPending:         {RegApproved, RegDenied, RegCancelled},
	RegApproved:        {RegConfirmed, RegAwaitingPayment, RegCancelled},
	RegAwaitingPayment: {RegConfirmed, RegCancelled},
	RegConfirmed:       {RegCancelled},
	RegWaitlisted:      {RegSubmitted, RegCancelled},
	RegDenied:          {RegApproved},
	RegCancelled:       {},
}

// Active reports whether a status still counts as a live registration.
func Active(status string) bool { return status != RegCancelled && status != RegDenied }

// Registration is one person's registration for a conference.
type Registration struct {
	ID             int64          `db:"id"`
	ConferenceID   int64          `db:"conference_id"`
	CategoryID     int64          `db:"category_id"`
	UserID         *int64         `db:"user_id"`
	CreatedBy      *int64         `db:"created_by"`
	CreatedAs      string         `db:"created_as"`
	Status         string         `db:"status"`
	FirstName      string         `db:"first_name"`
	LastName       string         `db:"last_name"`
	Email          string         `db:"email"`
	Phone          string         `db:"phone"`
	LocalID        *int64         `db:"local_id"`
	MemberNumber   string         `db:"member_number"`
	Accessibility  string         `db:"accessibility"`
	Interpretation string         `db:"interpretation"`
	ChildcareCount int            `db:"childcare_count"`
	ChildcareAges  string         `db:"childcare_ages"`
	Dietary        string         `db:"dietary"`
	EmergencyName  string         `db:"emergency_name"`
	EmergencyPhone string         `db:"emergency_phone"`
	RosterEntryID  *int64         `db:"roster_entry_id"`
	Verification   string         `db:"verification"`
	VerifyArgs     pq.StringArray `db:"verification_args"`
	Approver       string         `db:"approver"`
	PriceCents     int64          `db:"price_cents"`
	AmountDueCents int64          `db:"amount_due_cents"`
	HoldsSeat      bool           `db:"holds_seat"`
	DecidedBy      *int64         `db:"decided_by"`
	DecidedAt      *time.Time     `db:"decided_at"`
	DenialReason   string         `db:"denial_reason"`
	TicketToken    *string        `db:"ticket_token"`
	BadgePrintedAt *time.Time     `db:"badge_printed_at"`
	CheckedInAt    *time.Time     `db:"checked_in_at"`
	CheckedInBy    *int64         `db:"checked_in_by"`
	WaitlistRank   *int64         `db:"waitlist_rank"`
	ApprovedAt     *time.Time     `db:"approved_at"`
	PaymentDueAt   *time.Time     `db:"payment_due_at"`
	CreatedAt      time.Time      `db:"created_at"`
	UpdatedAt      time.Time      `db:"updated_at"`

	// Joined for display.
	ConferenceSlug     string  `db:"conference_slug"`
	ConferenceTitle    string  `db:"conference_title"`
	ConferenceTitleES  string  `db:"conference_title_es"`
	ConferenceCurrency string  `db:"conference_currency"`
	ConferenceZone     string  `db:"conference_zone"`
	CategorySlug       string  `db:"category_slug"`
	CategoryName       string  `db:"category_name"`
	CategoryNameES     string  `db:"category_name_es"`
	LocalNumber        *string `db:"local_number"`
	LocalName          *string `db:"local_name"`
	DecidedByName      *string `db:"decided_by_name"`
	// WaitlistPosition is 1 for the first in line; 0 when not waitlisted.
	WaitlistPosition int `db:"waitlist_position"`
}

// VerificationMessage is the verification note in English.
func (r Registration) VerificationMessage() string {
	if len(r.VerifyArgs) == 0 {
		return r.Verification
	}
	args := make([]any, len(r.VerifyArgs))
	for i, a := range r.VerifyArgs {
		args[i] = a
	}
	return fmt.Sprintf(r.Verification, args...)
}

// ConferenceIn is the conference's title in lang, falling back to English.
func (r Registration) ConferenceIn(lang string) string {
	if lang == "es" && r.ConferenceTitleES != "" {
		return r.ConferenceTitleES
	}
	return r.ConferenceTitle
}

// CategoryIn is the category's name in lang, falling back to English.
func (r Registration) CategoryIn(lang string) string {
	if lang == "es" && r.CategoryNameES != "" {
		return r.CategoryNameES
	}
	return r.CategoryName
}

// FullName is the attendee's name as printed.
func (r Registration) FullName() string { return r.FirstName + " " + r.LastName }

// registrationSelect reads registrations with what is joined for display.
// Register fills the same fields for a registration it has just stored
// instead of reading it back; TestRegisterReturnsWhatARereadFinds keeps the
// two in step.
const registrationSelect = `SELECT r.id, r.conference_id, r.category_id, r.user_id, r.created_by, r.created_as, r.status,
	r.first_name, r.last_name, r.email, r.phone, r.local_id, r.member_number, r.accessibility, r.interpretation,
	r.childcare_count, r.childcare_ages, r.dietary, r.emergency_name, r.emergency_phone, r.roster_entry_id,
	r.verification, r.verification_args, r.approver, r.price_cents, r.amount_due_cents, r.holds_seat, r.decided_by, r.decided_at,
	r.denial_reason, r.ticket_token, r.badge_printed_at, r.checked_in_at, r.checked_in_by, r.waitlist_rank, r.approved_at, r.payment_due_at, r.created_at, r.updated_at,
	c.slug AS conference_slug, c.title AS conference_title, c.title_es AS conference_title_es, c.currency AS conference_currency, c.time_zone AS conference_zone, k.slug AS category_slug, k.name AS category_name, k.name_es AS category_name_es,
	l.number AS local_number, l.name AS local_name, d.name AS decided_by_name,
	CASE WHEN r.status = 'waitlisted' THEN (SELECT count(*) FROM registrations w WHERE w.conference_id = r.conference_id
		AND w.status = 'waitlisted' AND w.waitlist_rank <= r.waitlist_rank) ELSE 0 END AS waitlist_position
	FROM registrations r
	JOIN conferences c ON c.id = r.conference_id
	JOIN categories k ON k.id = r.category_id
	LEFT JOIN locals l ON l.id = r.local_id
	LEFT JOIN users d ON d.id = r.decided_by`

const (
	registrationByID          = registrationSelect + ` WHERE r.id = $1`
	registrationByIDForUpdate = registrationByID + ` FOR UPDATE OF r`
)

// Actor is who is acting: the user and the locals they are an officer of.
type Actor struct {
	User      User
	OfficerOf []Local
	// Token and Addr are the API token a scanner signed in with and where
	// from, when it was found in the remembered tokens (ScannerUser): CheckIn
	// then checks in the same statement that the token still works.
	Token, Addr string
}

// System is the actor for background work.
var System = Actor{}

// IsStaff reports whether the actor is conference staff.
func (a Actor) IsStaff() bool { return a.User.IsStaff }

// IsOfficer reports whether the actor is an officer of any local.
func (a Actor) IsOfficer() bool { return len(a.OfficerOf) > 0 }

// OfficerOfLocal reports whether the actor is an officer of the local.
func (a Actor) OfficerOfLocal(localID *int64) bool {
	if localID == nil {
		return false
	}
	for _, l := range a.OfficerOf {
		if l.ID == *localID {
			return true
		}
	}
	return false
}

// LocalIDs lists the ids of the actor's locals.
func (a Actor) LocalIDs() []int64 {
	ids := make([]int64, len(a.OfficerOf))
	for i, l := range a.OfficerOf {
		ids[i] = l.ID
	}
	return ids
}

// ActorFor loads what a user may act on.
func (s *Store) ActorFor(ctx context.Context, u User) (Actor, error) {
	if u.officerKnown && !u.IsOfficer {
		return Actor{User: u}, nil // SessionUser has just looked: no locals
	}
	locals, err := s.OfficerLocals(ctx, u.ID)
	return Actor{User: u, OfficerOf: locals}, err
}

// CanSee reports whether the actor may see a registration: its owner, an
// officer of its local, or staff.
func (a Actor) CanSee(r Registration) bool {
	return a.IsStaff() || a.OfficerOfLocal(r.LocalID) || (r.UserID != nil && *r.UserID == a.User.ID && a.User.ID != 0)
}

// CanDecide reports whether the actor may approve or deny a registration.
func (a Actor) CanDecide(r Registration) bool {
	return a.IsStaff() || (r.Approver == "officer" && a.OfficerOfLocal(r.LocalID))
}

// Registration loads one registration.
func (s *Store) Registration(ctx context.Context, id int64) (Registration, error) {
	return s.registration(ctx, nil, id, false)
}

// registration loads one registration in tx (nil: on the pool), locking its
// row when asked.
func (s *Store) registration(ctx context.Context, tx *sqlx.Tx, id int64, lock bool) (Registration, error) {
	var r Registration
	query := registrationByID
	if lock {
		query = registrationByIDForUpdate
	}
	err := s.get(ctx, tx, &r, query, id)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// ClosedError says which deadline refused a registration, and when it was.
type ClosedError struct {
	Code string // registration_not_open, registration_closed
	At   time.Time
	Loc  *time.Location
}

func (e *ClosedError) Error() string {
	if e.Code == "registration_not_open" {
		return "Registration opens " + e.At.In(e.Loc).Format("Jan 2, 2006, 3:04 PM MST") + "."
	}
	return "Registration closed " + e.At.In(e.Loc).Format("Jan 2, 2006, 3:04 PM MST") + "."
}

// Is makes errors.Is(err, ErrClosed) true.
func (e *ClosedError) Is(target error) bool { return target == ErrClosed }

// RegistrationInput is a registration as typed into the form or sent to the API.
type RegistrationInput struct {
	Category                          string
	FirstName, LastName, Email, Phone string
	Local, MemberNumber               string
	Accessibility, Interpretation     string
	ChildcareCount                    int
	ChildcareAges, Dietary            string
	EmergencyName, EmergencyPhone     string
	Sessions                          []int64
	// OverrideDeadline lets staff register someone outside the window; audited.
	OverrideDeadline bool
}

func limit(p Problems, field, v string, n int) string {
	v = strings.TrimSpace(v)
	if utf8.RuneCountInString(v) > n {
		p.Add(field, fmt.Sprintf("Use at most %d characters.", n))
	}
	return v
}

// Register creates a registration: it checks the input and the deadlines,
// holds a seat (or waitlists), verifies the member against the local's roster
// and moves the registration as far along as it can go, all in one transaction.
func (s *Store) Register(ctx context.Context, conf Conference, in RegistrationInput, actor Actor, now time.Time) (Registration, error) {
	var r Registration
	if actor.User.ID == 0 {
		return r, ErrForbidden
	}
	if conf.Status != StatusPublished && !actor.IsStaff() {
		return r, &ClosedError{Code: "registration_closed", At: conf.RegistrationClosesAt, Loc: conf.Location()}
	}
	p := Problems{}
	r = Registration{ConferenceID: conf.ID, FirstName: limit(p, "first_name", in.FirstName, 100), LastName: limit(p, "last_name", in.LastName, 100),
		Email: NormalizeEmail(in.Email), Phone: limit(p, "phone", in.Phone, 40), MemberNumber: limit(p, "member_number", in.MemberNumber, 40),
		Accessibility: limit(p, "accessibility", in.Accessibility, 1000), Interpretation: limit(p, "interpretation", in.Interpretation, 100),
		ChildcareCount: in.ChildcareCount, ChildcareAges: limit(p, "childcare_ages", in.ChildcareAges, 200),
		Dietary: limit(p, "dietary", in.Dietary, 500), EmergencyName: limit(p, "emergency_name", in.EmergencyName, 100),
		EmergencyPhone: limit(p, "emergency_phone", in.EmergencyPhone, 40)}
	if r.FirstName == "" {
		p.Add("first_name", "Enter the first name.")
	}
	if r.LastName == "" {
		p.Add("last_name", "Enter the last name.")
	}
	if !ValidEmail(r.Email) {
		p.Add("email", "Enter an email address like name@example.org.")
	}
	if r.ChildcareCount < 0 || r.ChildcareCount > 20 {
		p.Add("childcare_count", "Enter the number of children, from 0 to 20.")
	}
	cats, err := s.Categories(ctx, conf.ID)
	if err != nil {
		return r, err
	}
	var cat Category
	for _, c := range cats {
		if c.Slug == strings.TrimSpace(in.Category) {
			cat = c
		}
	}
	if cat.ID == 0 {
		p.Add("category", "Choose a registration type.")
	}
	var local Local
	if num := strings.TrimSpace(in.Local); num != "" {
		if local, err = s.LocalByNumber(ctx, localNumber(num)); errors.Is(err, ErrNotFound) {
			p.Add("local", "We do not know this local. Check its number.")
		} else if err != nil {
			return r, err
		} else {
			r.LocalID = &local.ID
		}
	}
	if cat.ID != 0 && cat.RequiresMembership {
		if r.LocalID == nil && p["local"] == "" {
			p.Add("local", "Choose your local.")
		}
		if r.MemberNumber == "" {
			p.Add("member_number", "Enter your member number, as on your union card.")
		}
	}
	if r.MemberNumber != "" && r.LocalID == nil && p["local"] == "" {
		p.Add("local", "Choose the local this member number belongs to.")
	}
	sessions, err := s.checkWorkshops(ctx, conf, in.Sessions, now, actor, p)
	if err != nil {
		return r, err
	}
	if err := p.Err(); err != nil {
		return r, err
	}
	// Who is registering whom.
	switch {
	case actor.IsStaff():
		r.CreatedAs = "staff"
	case actor.IsOfficer() && !strings.EqualFold(r.Email, actor.User.Email):
		if !actor.OfficerOfLocal(r.LocalID) {
			return r, ErrForbidden
		}
		r.CreatedAs = "officer"
	default:
		r.CreatedAs = "self"
		r.UserID = &actor.User.ID
	}
	if r.CreatedAs != "self" {
		if u, err := s.UserByEmail(ctx, r.Email); err == nil {
			r.UserID = &u.ID
		}
	}
	r.CreatedBy = &actor.User.ID
	if err := conf.checkWindow(now); err != nil {
		if !(in.OverrideDeadline && actor.IsStaff()) {
			return r, err
		}
	}
	r.CategoryID, r.Approver = cat.ID, cat.Approver
	r.PriceCents = cat.PriceAt(now)
	r.AmountDueCents = r.PriceCents
	token := NewTicketToken()
	r.TicketToken = &token

	details := map[string]any{"created_as": r.CreatedAs, "category": cat.Slug, "price_cents": r.PriceCents}
	if in.OverrideDeadline && actor.IsStaff() && conf.checkWindow(now) != nil {
		details["deadline_override"] = true
	}
	slices.Sort(sessions)
	submitted := r
	// Most registrations find a seat. Those that look like they will (the
	// counters read with the conference and its categories are a guess, not
	// a decision) go as far as they can first and take their seats last, so
	// the category and conference rows that every registration updates stay
	// locked only for that update and the commit. Should the last seat go
	// meanwhile, the transaction is undone and the registration starts over
	// in line.
	if conf.SeatsLeft() != 0 && cat.SeatsLeft() != 0 {
		if len(sessions) == 0 {
			err = s.registerAtOnce(ctx, &r, conf, cat, local, actor, details)
		} else {
			err = s.InTx(ctx, func(tx *sqlx.Tx) error {
				return s.registerSeated(ctx, tx, &r, conf, cat, local, actor, sessions, details)
			})
		}
		if !errors.Is(err, errNoSeat) {
			if err != nil {
				return r, err
			}
			// Everything read back would be what was just written: it is
			// returned as is, with the names joined for display.
			r.ConferenceSlug, r.ConferenceTitle, r.ConferenceTitleES = conf.Slug, conf.Title, conf.TitleES
			r.ConferenceCurrency, r.ConferenceZone = conf.Currency, conf.TimeZone
			r.CategorySlug, r.CategoryName, r.CategoryNameES = cat.Slug, cat.Name, cat.NameES
			if r.LocalID != nil {
				r.LocalNumber, r.LocalName = &local.Number, &local.Name
			}
			if r.DecidedBy != nil {
				r.DecidedByName = &actor.User.Name
			}
			return r, nil
		}
		r = submitted
	}
	err = s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.insertRegistration(ctx, tx, &r, actor, sessions, details); err != nil {
			return err
		}
		held, err := s.holdNewSeats(ctx, tx, &r)
		if err != nil {
			return err
		}
		if held {
			return s.evaluate(ctx, tx, &r, conf, cat, local, actor)
		}
		if _, err := s.exec(ctx, tx, `UPDATE registrations SET waitlist_rank = id WHERE id = $1`, r.ID); err != nil {
			return err
		}
		return s.Transition(ctx, tx, &r, RegWaitlisted, actor, map[string]any{"reason": "full"})
	})
	if err != nil {
		return r, err
	}
	// This way, people may wait who could take a free seat: a seat freed
	// while this registration read the conference full and joined the
	// line, or one left for a first in line who was busy. The line is
	// looked at after the commit.
	s.moveLineOn(ctx, conf.ID)
	return s.Registration(ctx, r.ID)
}

// errNoSeat undoes registerSeated's transaction when a seat it expected is gone.
var errNoSeat = errors.New("no seat after all")

// registerSeated stores a registration already verified, moved on and
// holding its seat, then takes the seats, last: errNoSeat when they are
// gone, and the caller rolls back.
func (s *Store) registerSeated(ctx context.Context, tx *sqlx.Tx, r *Registration, conf Conference, cat Category, local Local,
	actor Actor, sessions []int64, details map[string]any) error {
	steps, err := s.seated(ctx, tx, r, conf, cat, local, actor)
	if err != nil {
		return err
	}
	// It is stored already moved on: one row written once, not inserted
	// and then updated.
	if err := s.insertRegistration(ctx, tx, r, actor, sessions, details, steps...); err != nil {
		return err
	}
	held, err := s.takeCounters(ctx, tx, r, sessions, newcomerAlone)
	if err == nil && !held {
		return errNoSeat
	}
	return err
}

// registerAtOnce is registerSeated for a registration with no workshops, as
// one statement with no transaction around it (registerAtOnceSQL): the
// conference's and category's counters, which every registration updates,
// stay locked only while it commits, not also for a round trip to the app
// and back to say COMMIT. When the seats are gone it undoes all of itself
// and reports errNoSeat.
func (s *Store) registerAtOnce(ctx context.Context, r *Registration, conf Conference, cat Category, local Local,
	actor Actor, details map[string]any) error {
	steps, err := s.seated(ctx, s.db, r, conf, cat, local, actor)
	if err != nil {
		return err
	}
	err = s.storeRegistration(ctx, nil, registerAtOnceSQL(), r, actor, details, steps...)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == noSeatCode {
		return errNoSeat
	}
	return err
}

// noSeatCode is the SQLSTATE of convene_no_seat() (migration 00008).
const noSeatCode = "CV001"

// seated verifies a registration that will hold a seat and returns the
// moves that take it from submitted to where it goes on.
func (s *Store) seated(ctx context.Context, q sqlx.QueryerContext, r *Registration, conf Conference, cat Category, local Local, actor Actor) ([]step, error) {
	approve, err := s.verify(ctx, q, r, cat, local)
	if err != nil {
		return nil, err
	}
	if approve {
		approveNow(r, conf, actor, time.Now().Truncate(time.Microsecond))
	}
	r.HoldsSeat = true
	return moveOnSteps(r, approve), nil
}

// registerAtOnceSQL is registrationInsert that then takes the seats, last,
// when the registration was stored: the category's, then the conference's
// (the order every seat-taking statement locks them in). When either is
// full, convene_no_seat() fails the statement, and with it the insert.
//
// It takes a seat only while nobody waits (newcomerAlone): a registration
// rush, which this is for, has no line until the seats are gone.
func registerAtOnceSQL() string {
	return registrationInsertCTEs + `,
	` + seatTaking("$2", "$1", ` AND EXISTS (SELECT FROM reg)`, newcomerAlone) + `
	SELECT id AS entity_id, created_at FROM reg
	WHERE CASE WHEN EXISTS (SELECT FROM conference) THEN true ELSE convene_no_seat() END`
}

// insertRegistration stores a submitted registration, its audit entry and
// its workshop sign-ups. With steps, the registration is stored as those
// moves of its lifecycle leave it, each checked and audited as Transition
// checks and audits them: the row is written once instead of inserted and
// then updated, which in a registration rush is an update of every index
// of the table saved.
func (s *Store) insertRegistration(ctx context.Context, tx *sqlx.Tx, r *Registration, actor Actor, sessions []int64, details map[string]any, steps ...step) error {
	if err := s.storeRegistration(ctx, tx, registrationInsert, r, actor, details, steps...); err != nil {
		return err
	}
	for _, sid := range sessions {
		if _, err := tx.ExecContext(ctx, `INSERT INTO registration_sessions (registration_id, session_id) VALUES ($1, $2)`, r.ID, sid); err != nil {
			return err
		}
	}
	return nil
}

// storeRegistration runs query, registrationInsert or a statement built on
// it, for r moved on by steps, in tx or (nil) in a transaction of its own.
func (s *Store) storeRegistration(ctx context.Context, tx *sqlx.Tx, query string, r *Registration, actor Actor, details map[string]any, steps ...step) error {
	args := r.VerifyArgs
	if args == nil {
		args = pq.StringArray{}
	}
	b, err := json.Marshal(details)
	if err != nil {
		return err
	}
	status, actions, moves, err := plan(RegSubmitted, steps)
	if err != nil {
		return err
	}
	actions = append([]string{"registration_submitted"}, actions...)
	moves = append([]string{string(b)}, moves...)
	var stored struct {
		ID        int64     `db:"entity_id"`
		CreatedAt time.Time `db:"created_at"`
	}
	err = s.get(ctx, tx, &stored, query,
		r.ConferenceID, r.CategoryID, r.UserID, r.CreatedBy, r.CreatedAs, r.FirstName, r.LastName, r.Email, r.Phone,
		r.LocalID, r.MemberNumber, r.Accessibility, r.Interpretation, r.ChildcareCount, r.ChildcareAges, r.Dietary,
		r.EmergencyName, r.EmergencyPhone, r.Approver, r.PriceCents, r.AmountDueCents, r.TicketToken,
		r.Verification, args, r.RosterEntryID, r.DecidedBy, r.DecidedAt, r.ApprovedAt, r.PaymentDueAt, r.HoldsSeat,
		auditActor(actor.User.ID), pq.Array(actions), pq.Array(moves), status)
	if isUniqueViolation(err, "") {
		return ErrDuplicate
	}
	if err != nil {
		return err
	}
	// updated_at too is the transaction's start, whatever moves follow.
	r.ID, r.CreatedAt, r.UpdatedAt, r.Status = stored.ID, stored.CreatedAt, stored.CreatedAt, status
	return nil
}

// registrationInsert stores a registration with status $34 and its audit
// entries ($31 actor, $32 actions, $33 details: registration_submitted and
// the moves that led to $34, in order) in one statement, and returns its id
// and creation time.
const registrationInsert = registrationInsertCTEs + `
	SELECT id AS entity_id, created_at FROM reg`

// registrationInsertCTEs is registrationInsert but its answer.
const registrationInsertCTEs = `WITH reg AS (
	INSERT INTO registrations (conference_id, category_id, user_id, created_by, created_as, status,
		first_name, last_name, email, phone, local_id, member_number, accessibility, interpretation, childcare_count,
		childcare_ages, dietary, emergency_name, emergency_phone, approver, price_cents, amount_due_cents, ticket_token,
		verification, verification_args, roster_entry_id, decided_by, decided_at, approved_at, payment_due_at, holds_seat)
	VALUES ($1,$2,$3,$4,$5,$34,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,
		$23,$24,$25,$26,$27,$28,$29,$30) RETURNING id, created_at),
	audit AS (INSERT INTO audit_log (actor_id, action, entity, entity_id, details)
		SELECT $31::bigint, a.action, 'registration', reg.id, a.details::jsonb
		FROM reg, unnest($32::text[], $33::text[]) WITH ORDINALITY AS a(action, details, n) ORDER BY a.n)`

// localNumber accepts "4121", "Local 4121" or "4121 — Harbor City ...".
func localNumber(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "Local "), "local ")
	if i := strings.IndexAny(s, " —-"); i > 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// checkWindow refuses registration outside the conference's window.
func (c Conference) checkWindow(now time.Time) error {
	switch {
	case now.Before(c.RegistrationOpensAt):
		return &ClosedError{Code: "registration_not_open", At: c.RegistrationOpensAt, Loc: c.Location()}
	case !now.Before(c.RegistrationClosesAt):
		return &ClosedError{Code: "registration_closed", At: c.RegistrationClosesAt, Loc: c.Location()}
	}
	return nil
}

// checkWorkshops validates the chosen sessions: workshops of this conference,
// before workshop sign-up closes.
func (s *Store) checkWorkshops(ctx context.Context, conf Conference, ids []int64, now time.Time, actor Actor, p Problems) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if conf.WorkshopSignupClosesAt != nil && !now.Before(*conf.WorkshopSignupClosesAt) && !actor.IsStaff() {
		p.Add("sessions", "Workshop sign-up has closed.")
		return nil, nil
	}
	var found []AgendaSession
	err := s.db.SelectContext(ctx, &found, `SELECT `+sessionColumns+` FROM agenda_sessions WHERE conference_id = $1 AND id = ANY($2)`, conf.ID, pq.Array(ids))
	if err != nil {
		return nil, err
	}
	if len(found) != len(dedupe(ids)) {
		p.Add("sessions", "Choose workshops of this conference.")
		return nil, nil
	}
	for i, a := range found {
		for _, b := range found[i+1:] {
			if a.StartsAt.Before(b.EndsAt) && b.StartsAt.Before(a.EndsAt) {
				p.Add("sessions", "Two of the chosen workshops are at the same time: "+a.Title+" and "+b.Title+".")
			}
		}
	}
	return dedupe(ids), nil
}

func dedupe(ids []int64) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// seatGuard is the capacity condition in holdSeats. Tests switch it off to
// show that the concurrency test detects overselling.
var seatGuard = true

func guarded(q string) string { return q + seatCondition() }

func seatCondition() string {
	if seatGuard {
		return ` AND (capacity IS NULL OR taken < capacity)`
	}
	return ""
}

// holdNewSeats is holdSeats for a new registration, which takes a seat
// only when more are free than the people waiting could take
// (newcomerCounted). Seats are free while people wait only while a seat
// freed by a cancellation, or added by staff, waits for a first in line
// whose row is busy, or for the moment between a release's commit and its
// look at the line.
func (s *Store) holdNewSeats(ctx context.Context, tx *sqlx.Tx, r *Registration) (bool, error) {
	// Full, it joins the line without trying the counts: in a rush, the
	// registrations that come after the last seat would otherwise each
	// lock the type's row a moment, one after the other.
	var room bool
	if err := s.get(ctx, tx, &room, `SELECT (c.capacity IS NULL OR c.taken < c.capacity) AND (k.capacity IS NULL OR k.taken < k.capacity)
		FROM conferences c, categories k WHERE c.id = $1 AND k.id = $2`, r.ConferenceID, r.CategoryID); err != nil || !room {
		return false, err
	}
	return s.holdSeatsFor(ctx, tx, r, newcomerCounted)
}

// NewcomerSeats is what the register page says of the seats: how many a
// new registration could take now, in the conference (Conference) and by
// type id (ByType), -1 for no limit and 0 where every free seat is for
// those waiting; and how many wait, by type id (Waiting) and in all.
type NewcomerSeats struct {
	Conference     int
	ByType         map[int64]int
	Waiting        map[int64]int
	WaitlistLength int
}

// SeatsForNewcomers works out NewcomerSeats for a conference, with the
// counts seatTaking's newcomerCounted uses.
func (s *Store) SeatsForNewcomers(ctx context.Context, conferenceID int64) (NewcomerSeats, error) {
	var rows []struct {
		ID         int64 `db:"id"`
		Waiting    int   `db:"waiting"`
		Type       *int  `db:"type_seats"`
		Conference *int  `db:"conference_seats"`
	}
	err := s.db.SelectContext(ctx, &rows, `SELECT k.id, w.n AS waiting,
			CASE WHEN k.capacity IS NULL THEN NULL ELSE greatest(k.capacity - k.taken - w.n, 0) END AS type_seats,
			CASE WHEN c.capacity IS NULL THEN NULL ELSE greatest(c.capacity - c.taken - (`+lineClaims("$1")+`), 0) END AS conference_seats
		FROM categories k JOIN conferences c ON c.id = k.conference_id,
			LATERAL (SELECT count(*) AS n FROM registrations w WHERE w.category_id = k.id AND w.status = 'waitlisted') w
		WHERE k.conference_id = $1`, conferenceID)
	out := NewcomerSeats{Conference: -1, ByType: make(map[int64]int, len(rows)), Waiting: make(map[int64]int, len(rows))}
	for _, r := range rows {
		if r.Conference != nil {
			out.Conference = *r.Conference
		}
		out.ByType[r.ID] = -1
		if r.Type != nil {
			out.ByType[r.ID] = *r.Type
		}
		out.Waiting[r.ID] = r.Waiting
		out.WaitlistLength += r.Waiting
	}
	return out, err
}

// moveLineOn gives a conference's free seats to its waiting line after a
// newcomer committed behind it, or after a release committed (see
// fillSeatsAfter), so that no seat stays free while someone who could take
// it waits. It costs one query when the conference is full, and never
// waits for a busy row:
//   - nobody waiting whose type and the conference have room: done;
//   - the first of them busy (their row locked): the seat waits for them,
//     as for a cancellation's; whoever frees them, or the next newcomer,
//     moves the line on;
//   - otherwise it promotes, as a cancellation does, with no time to wait
//     for rows.
//
// It runs on its own time (10 s), as fillSeatsAfter does.
func (s *Store) moveLineOn(ctx context.Context, conferenceID int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	first, err := firstInLine(ctx, s.db, conferenceID, []int64{})
	if err != nil {
		return
	}
	var free []int64
	if err := s.sel(ctx, nil, &free, `SELECT id FROM registrations WHERE id = $1 FOR UPDATE SKIP LOCKED`, first); err != nil || len(free) == 0 {
		return
	}
	_ = s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.lockSeats(ctx, tx, conferenceID); err != nil {
			return err
		}
		_, err := s.promote(ctx, tx, conferenceID, true, &waitBudget{})
		return err
	})
}

// holdSeats takes a seat in the category and the conference with
// conditional updates in the registration's transaction, so concurrent
// registrations never oversell. It reports false, holding nothing, when
// either is full. Workshops are held one by one: a full workshop puts that
// sign-up on the workshop's own waiting list, not the whole registration.
// A new registration holds seats with holdNewSeats.
func (s *Store) holdSeats(ctx context.Context, tx *sqlx.Tx, r *Registration) (bool, error) {
	return s.holdSeatsFor(ctx, tx, r, fromLine)
}

func (s *Store) holdSeatsFor(ctx context.Context, tx *sqlx.Tx, r *Registration, who seatTaker) (bool, error) {
	var sessionIDs []int64
	if err := s.sel(ctx, tx, &sessionIDs, `SELECT session_id FROM registration_sessions WHERE registration_id = $1 ORDER BY session_id`, r.ID); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT hold_seats`); err != nil {
		return false, err
	}
	if _, err := s.exec(ctx, tx, `UPDATE registrations SET holds_seat = true, waitlist_rank = NULL WHERE id = $1`, r.ID); err != nil {
		return false, err
	}
	held, err := s.takeCounters(ctx, tx, r, sessionIDs, who)
	if err != nil {
		return false, err
	}
	if !held {
		_, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT hold_seats`)
		return false, err
	}
	r.HoldsSeat = true
	return true, nil
}

// takeCounters takes a seat in the category and the conference, then a
// place in each workshop or on its waiting list. On false (the category or
// the conference is full) the caller must undo the transaction or roll back
// to a savepoint: a category seat may have been taken. A newcomer (a new
// registration) is also refused a seat the line could take (seatTaking).
//
// Every registration updates the same category and conference rows, and
// each waits for the one before to commit, so a registration comes here
// last, and both rows are taken in one statement: they stay locked for that
// round trip and the commit. The conference's update needs the category's
// result, so the category row is always locked first, as in releaseSeats;
// the workshops' rows come after both, also as there, so no two
// transactions take the same rows in opposite orders.
func (s *Store) takeCounters(ctx context.Context, tx *sqlx.Tx, r *Registration, sessionIDs []int64, who seatTaker) (bool, error) {
	var held bool
	if err := s.get(ctx, tx, &held, holdCounters(who), r.CategoryID, r.ConferenceID); err != nil {
		return false, err
	}
	if !held {
		return false, nil
	}
	for _, sid := range sessionIDs {
		var id int64
		err := s.get(ctx, tx, &id, `UPDATE agenda_sessions SET taken = taken + 1 WHERE id = $1`+seatCondition()+` RETURNING id`, sid)
		waitlisted := errors.Is(err, sql.ErrNoRows)
		if err != nil && !waitlisted {
			return false, err
		}
		if _, err := s.exec(ctx, tx, `UPDATE registration_sessions SET waitlisted = $3,
			waitlist_rank = CASE WHEN $3 THEN registration_id ELSE NULL END
			WHERE registration_id = $1 AND session_id = $2`, r.ID, sid, waitlisted); err != nil {
			return false, err
		}
	}
	return true, nil
}

// holdCounters is takeCounters' statement: $1 the category, $2 the conference.
func holdCounters(who seatTaker) string {
	return `WITH ` + seatTaking("$1", "$2", "", who) + `
	SELECT EXISTS (SELECT FROM category) AND EXISTS (SELECT FROM conference)`
}

// Who takes a seat, for seatTaking's conditions.
type seatTaker int

const (
	// fromLine is someone moving off the waiting list, or whom staff seat:
	// only the capacities count.
	fromLine seatTaker = iota
	// newcomerAlone is a new registration's one-statement way: it takes
	// a seat only while nobody waits, and otherwise takes nothing and goes
	// on as newcomerCounted, in a transaction.
	newcomerAlone
	// newcomerCounted is a new registration that takes a seat only when
	// more are free than the people waiting could take (lineClaims).
	newcomerCounted
)

// seatTaking is the two CTEs that take a seat in the category (its id the
// parameter category) and then, when it had one, in the conference: each
// returns its row's id when it took the seat. when adds to the category's
// condition; who adds the line's (seatTaker).
//
// The line's conditions read the waiting list as the statement began,
// before it waits for the rows it updates, and the rows' counts as they
// are once it has them: of two newcomers racing for the last seat beyond
// the line's, the second sees the first's. The waiting list itself changes
// only in transactions that hold the counts (a cancellation, a promotion,
// a newcomer joining the line).
func seatTaking(category, conference, when string, who seatTaker) string {
	conf, before := "", ""
	switch who {
	case newcomerAlone:
		when += `
		AND NOT EXISTS (SELECT FROM registrations w WHERE w.conference_id = ` + conference + ` AND w.status = 'waitlisted')`
	case newcomerCounted:
		// The line is read once, before the statement waits for the
		// category's row: every registration waits there for the one
		// before, and what it does while holding that row and the
		// conference's sets the rate of a registration rush.
		before = `line AS MATERIALIZED (SELECT (` + lineClaims(conference) + `) AS claims),
	`
		when += `
		AND (SELECT claims FROM line) >= 0`
		if seatGuard { // the guard's control run takes no seat's condition
			when += `
		AND (capacity IS NULL OR taken + (SELECT count(*) FROM registrations w
			WHERE w.category_id = ` + category + ` AND w.status = 'waitlisted') < capacity)`
			conf = `
		AND (capacity IS NULL OR taken + (SELECT claims FROM line) < capacity)`
		}
	}
	return before + `category AS (
		UPDATE categories SET taken = taken + 1 WHERE id = ` + category + when + seatCondition() + ` RETURNING id),
	conference AS (
		UPDATE conferences SET taken = taken + 1 WHERE id = ` + conference + seatCondition() + ` AND EXISTS (SELECT FROM category)` + conf + ` RETURNING id)`
}

// lineClaims is SQL for how many of a conference's free seats the people
// on its waiting list could take: those waiting for a type take at most
// its free seats, and those of a type with no capacity of its own any.
//
// Full types are passed over without counting their lines, which may be
// long (registrations_waitlist_type_idx counts the others).
func lineClaims(conference string) string {
	return `SELECT coalesce(sum(CASE WHEN wk.capacity IS NULL THEN w.n ELSE least(w.n, wk.capacity - wk.taken) END), 0)
			FROM categories wk, LATERAL (SELECT count(*) AS n FROM registrations w WHERE w.category_id = wk.id AND w.status = 'waitlisted') w
			WHERE wk.conference_id = ` + conference + ` AND (wk.capacity IS NULL OR wk.taken < wk.capacity)`
}

// releaseSeats gives back what holdSeats took, then lets the first in line
// for each freed workshop place and for the conference move on. busy is
// true when the first in line's row stayed locked, perhaps by a transaction
// waiting for the registration this one releases: the caller then runs
// fillSeatsAfter once it has committed.
//
// Who moves on is moved on by the system, as a seat freed, not by whoever
// freed it: a member who cancels does not approve someone of another local.
func (s *Store) releaseSeats(ctx context.Context, tx *sqlx.Tx, r *Registration) (busy bool, err error) {
	budget := newWaitBudget()
	freed, err := s.giveBackSeats(ctx, tx, r)
	if err != nil || !freed {
		return false, err
	}
	return s.promote(ctx, tx, r.ConferenceID, true, budget)
}

// giveBackSeats is releaseSeats but for the conference's waiting line:
// freed says whether a conference seat was given back, for the caller to
// promote.
func (s *Store) giveBackSeats(ctx context.Context, tx *sqlx.Tx, r *Registration) (freed bool, err error) {
	if !r.HoldsSeat {
		_, err := tx.ExecContext(ctx, `UPDATE registration_sessions SET waitlisted = false, waitlist_rank = NULL WHERE registration_id = $1`, r.ID)
		return false, err
	}
	if err := s.lockSeats(ctx, tx, r.ConferenceID); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE categories SET taken = taken - 1 WHERE id = $1 AND taken > 0`, r.CategoryID); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE conferences SET taken = taken - 1 WHERE id = $1 AND taken > 0`, r.ConferenceID); err != nil {
		return false, err
	}
	var places []int64
	if err := tx.SelectContext(ctx, &places, `UPDATE agenda_sessions SET taken = taken - 1 WHERE taken > 0 AND id IN
		(SELECT session_id FROM registration_sessions WHERE registration_id = $1 AND NOT waitlisted) RETURNING id`, r.ID); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE registrations SET holds_seat = false WHERE id = $1`, r.ID); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE registration_sessions SET waitlisted = false, waitlist_rank = NULL WHERE registration_id = $1`, r.ID); err != nil {
		return false, err
	}
	r.HoldsSeat = false
	for _, sid := range places {
		if _, err := s.promoteWorkshop(ctx, tx, sid); err != nil {
			return false, err
		}
	}
	return true, nil
}

// promoteWorkshop gives a freed workshop place to the first sign-up in its
// line, as the system, and says whether it gave one.
func (s *Store) promoteWorkshop(ctx context.Context, tx *sqlx.Tx, sessionID int64) (bool, error) {
	var next struct {
		RegistrationID int64 `db:"registration_id"`
	}
	err := tx.GetContext(ctx, &next, `SELECT rs.registration_id FROM registration_sessions rs
		JOIN registrations r ON r.id = rs.registration_id
		WHERE rs.session_id = $1 AND rs.waitlisted AND r.holds_seat
		ORDER BY rs.waitlist_rank LIMIT 1 FOR UPDATE OF rs SKIP LOCKED`, sessionID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var id int64
	err = tx.GetContext(ctx, &id, guarded(`UPDATE agenda_sessions SET taken = taken + 1 WHERE id = $1`)+` RETURNING id`, sessionID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE registration_sessions SET waitlisted = false, waitlist_rank = NULL
		WHERE registration_id = $1 AND session_id = $2`, next.RegistrationID, sessionID); err != nil {
		return false, err
	}
	return true, s.Audit(ctx, tx, System.User.ID, "workshop_place_given", "registration", next.RegistrationID, map[string]any{"session_id": sessionID})
}

// The seat counts and the waiting line are locked in one order, so that no
// two transactions wait for each other in a circle: first the registration
// an action is about (the one cancelled, denied or approved), then all the
// conference's registration types in id order, then the conference, then
// the people on its waiting list. A registration takes its own type and
// then the conference, a subset in the same order; a cancellation, which
// may give its seat to someone of another type, takes them all (lockSeats).
//
// Check-in batches and badge print runs lock several registrations, in id
// order, and may wait for one (a cancelled member's, say) while holding
// another (someone on the waiting line's). So whatever holds the seat
// counts never waits long for a registration's row: promote, PromoteNow and
// waiting-list moves wait at most lockWait (lockWithin), which ends any
// such circle before PostgreSQL's deadlock check would fail one side.

// lockSeats locks a conference's registration types, in id order, and then
// the conference itself, before anything that may move someone off its
// waiting line. FOR NO KEY UPDATE is what the seat-count UPDATEs take, and
// it lets new registrations check their keys to these rows meanwhile.
func (s *Store) lockSeats(ctx context.Context, tx *sqlx.Tx, conferenceID int64) error {
	if _, err := tx.ExecContext(ctx, `SELECT FROM categories WHERE conference_id = $1 ORDER BY id FOR NO KEY UPDATE`, conferenceID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `SELECT FROM conferences WHERE id = $1 FOR NO KEY UPDATE`, conferenceID)
	return err
}

// lockWait is the longest a transaction holding seat counts, or moving
// people on the waiting line, waits in all for registrations' rows that
// others hold. Scans, print runs and payments hold one for milliseconds.
// It is below PostgreSQL's default deadlock_timeout of 1 s: a transaction
// queued behind the seat counts (another cancellation, holding its own
// row) started waiting after they were taken, so the holder's waits are
// over before that one's deadlock check could fail it.
const lockWait = 500 * time.Millisecond

// waitBudget is when a transaction that takes seat counts stops waiting
// for rows: lockWait after it began to take them, however long it then
// waited for the counts themselves or worked while holding them.
type waitBudget struct{ until time.Time }

func newWaitBudget() *waitBudget { return &waitBudget{until: time.Now().Add(lockWait)} }

// lockWithin runs a locking query (into dest, when not nil), waiting for
// rows another transaction holds at most until budget runs out; false,
// with nothing locked and the transaction still usable, when they are
// still held then (or PostgreSQL found this wait in a deadlock). A spent
// budget still lets it take rows nobody holds.
func lockWithin(ctx context.Context, tx *sqlx.Tx, budget *waitBudget, dest any, query string, args ...any) (bool, error) {
	wait := max(time.Until(budget.until), time.Millisecond)
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`SAVEPOINT lock_within; SET LOCAL lock_timeout = %d`, wait.Milliseconds())); err != nil {
		return false, err
	}
	var err error
	if dest != nil {
		err = tx.SelectContext(ctx, dest, query, args...)
	} else {
		_, err = tx.ExecContext(ctx, query, args...)
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && (pqErr.Code == "55P03" || pqErr.Code == "40P01") { // lock_not_available, deadlock_detected
		// Undoes the SET LOCAL too.
		_, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT lock_within; RELEASE SAVEPOINT lock_within`)
		return false, err
	}
	if err != nil {
		return false, err
	}
	_, err = tx.ExecContext(ctx, `SET LOCAL lock_timeout TO DEFAULT; RELEASE SAVEPOINT lock_within`)
	return err == nil, err
}

// promote moves waitlisted registrations of a conference on, as the system,
// first in line first, while their seats can be held: a registration whose
// type is still full keeps its place and the next one is tried. The caller holds the
// conference's seat counts (lockSeats), so nobody else promotes meanwhile.
//
// budget is what the transaction may still wait for rows (lockWithin).
// When the first in line's row stays locked past it, the holder may
// be waiting for a row the caller holds (a batch of scans at the door
// holding them and waiting for the member who is cancelling). With
// stopAtBusy, promote then stops and reports it: the seat waits for them,
// and the caller promotes again after its commit (fillSeats). Without, they
// keep their place and the seat goes to the next in line.
func (s *Store) promote(ctx context.Context, tx *sqlx.Tx, conferenceID int64, stopAtBusy bool, budget *waitBudget) (busy bool, err error) {
	passed := []int64{} // kept their places this time (never NULL in SQL)
	for range 200 {
		var free bool
		if err := tx.GetContext(ctx, &free, `SELECT capacity IS NULL OR taken < capacity FROM conferences WHERE id = $1`, conferenceID); err != nil {
			return false, err
		}
		if !free {
			return false, nil
		}
		id, err := firstInLine(ctx, tx, conferenceID, passed)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		locked, err := lockWithin(ctx, tx, budget, nil, `SELECT FROM registrations WHERE id = $1 FOR UPDATE`, id)
		if err != nil {
			return false, err
		}
		if !locked && stopAtBusy {
			return true, nil
		}
		if !locked {
			passed = append(passed, id)
			continue
		}
		// While this waited, they may have left the line, or a staff move
		// may have put someone ahead of them.
		if now, err := firstInLine(ctx, tx, conferenceID, passed); err != nil || now != id {
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return false, err
			}
			continue
		}
		r, err := s.registration(ctx, tx, id, false)
		if err != nil {
			return false, err
		}
		held, err := s.holdSeats(ctx, tx, &r)
		if err != nil {
			return false, err
		}
		if !held {
			passed = append(passed, id)
			continue
		}
		if err := s.Transition(ctx, tx, &r, RegSubmitted, System, map[string]any{"reason": "a seat freed"}); err != nil {
			return false, err
		}
		if err := s.reevaluate(ctx, tx, &r, System); err != nil {
			return false, err
		}
	}
	return false, nil
}

// firstInLine is the id of the first on a conference's waiting list whose
// registration type has a seat free, but those passed; sql.ErrNoRows when
// there is nobody. Those whose type is full keep their places. The caller
// holds the types' rows (lockSeats), so what it reads of them stays true.
//
// With the conference full there is nobody, and the line is not read.
func firstInLine(ctx context.Context, q sqlx.QueryerContext, conferenceID int64, passed []int64) (int64, error) {
	var id int64
	err := sqlx.GetContext(ctx, q, &id, `SELECT r.id FROM registrations r
		WHERE EXISTS (SELECT FROM conferences c WHERE c.id = $1 AND (c.capacity IS NULL OR c.taken < c.capacity))
		AND r.conference_id = $1 AND r.status = 'waitlisted'
		AND r.category_id = ANY (ARRAY(SELECT k.id FROM categories k WHERE k.conference_id = $1 AND (k.capacity IS NULL OR k.taken < k.capacity)))
		AND r.id <> ALL ($2::bigint[]) ORDER BY r.waitlist_rank, r.id LIMIT 1`, conferenceID, pq.Array(passed))
	return id, err
}

// fillSeatsAfter runs fillSeats when a release found the first in line
// busy, after the release committed, or after staff raised a capacity
// (seatsRaised): on its own time, as the member who
// cancelled may have given up by then. Should it fail, the seat stays free
// until the next cancellation's promotion, or staff's "give a seat now".
//
// Otherwise it looks at the line once more (moveLineOn): a member who read
// the conference full and joined the line while this release was
// committing was not in line for its promotion to see. Each side looks
// after its own commit, so one of them sees the other: the release sees
// the member in line, or the member, looking after the release committed,
// sees the seat.
func (s *Store) fillSeatsAfter(ctx context.Context, busy bool, conferenceID int64) {
	if !busy {
		s.moveLineOn(ctx, conferenceID)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = s.fillSeats(ctx, conferenceID)
}

// fillSeats gives a conference's free seats to its waiting line, in a
// transaction of its own, after a cancellation that found the first in
// line busy has committed.
func (s *Store) fillSeats(ctx context.Context, conferenceID int64) error {
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		budget := newWaitBudget()
		if err := s.lockSeats(ctx, tx, conferenceID); err != nil {
			return err
		}
		_, err := s.promote(ctx, tx, conferenceID, false, budget)
		return err
	})
}

// reevaluate runs verification again for a registration leaving the waiting list.
func (s *Store) reevaluate(ctx context.Context, tx *sqlx.Tx, r *Registration, actor Actor) error {
	var cat Category
	if err := tx.GetContext(ctx, &cat, `SELECT `+categoryColumns+` FROM categories WHERE id = $1`, r.CategoryID); err != nil {
		return err
	}
	var local Local
	if r.LocalID != nil {
		if err := tx.GetContext(ctx, &local, `SELECT `+localColumns+` FROM locals WHERE id = $1`, *r.LocalID); err != nil {
			return err
		}
	}
	conf, err := s.conferenceInTx(ctx, tx, r.ConferenceID)
	if err != nil {
		return err
	}
	return s.evaluate(ctx, tx, r, conf, cat, local, actor)
}

// conferenceInTx loads a conference inside a transaction (or outside one,
// with tx nil).
func (s *Store) conferenceInTx(ctx context.Context, tx *sqlx.Tx, id int64) (Conference, error) {
	var conf Conference
	err := s.get(ctx, tx, &conf, `SELECT `+conferenceColumns+` FROM conferences WHERE id = $1`, id)
	return conf, err
}

// Verification outcomes, in words a member understands.
const (
	VerifyMatched         = "Your membership was verified against Local %s's roster."
	VerifyNeedsOfficer    = "Waiting for Local %s's officers to approve: this registration type is credentialed by your local."
	VerifyUnknownNumber   = "Waiting for Local %s's officers: member number %s is not on the local's roster."
	VerifyWrongName       = "Waiting for Local %s's officers: the last name does not match the roster for member number %s."
	VerifyLapsed          = "Waiting for Local %s's officers: the roster shows member number %s as not in good standing."
	VerifyStaff           = "Waiting for conference staff to approve: %s registrations are approved by staff."
	VerifyNoCheck         = "No membership check is needed for this registration type."
	VerifyByOfficer       = "Registered by an officer of Local %s."
	VerifyByStaff         = "Registered by conference staff."
	VerifyNoLocalToDecide = "Waiting for conference staff to approve: no local was given."
)

// evaluate runs verification on a submitted registration and moves it on:
// to approved (then confirmed or awaiting payment) or to pending.
func (s *Store) evaluate(ctx context.Context, tx *sqlx.Tx, r *Registration, conf Conference, cat Category, local Local, actor Actor) error {
	approve, err := s.verify(ctx, tx, r, cat, local)
	if err != nil {
		return err
	}
	if approve {
		approveNow(r, conf, actor, time.Now().Truncate(time.Microsecond))
	}
	if _, err := s.exec(ctx, tx, `UPDATE registrations SET verification = $2, verification_args = $3, roster_entry_id = $4, approver = $5,
		decided_by = coalesce($6, decided_by), decided_at = coalesce($7, decided_at), approved_at = $8, payment_due_at = $9 WHERE id = $1`,
		r.ID, r.Verification, r.VerifyArgs, r.RosterEntryID, r.Approver, r.DecidedBy, r.DecidedAt, r.ApprovedAt, r.PaymentDueAt); err != nil {
		return err
	}
	return s.moveOn(ctx, tx, r, approve, actor)
}

// verify checks a registration against its local's roster and fills in its
// verification note, the roster line and who must decide; approve reports
// whether it is approved on the spot.
func (s *Store) verify(ctx context.Context, q sqlx.QueryerContext, r *Registration, cat Category, local Local) (approve bool, err error) {
	var note string
	var args []string
	var entryID *int64
	match := false
	if r.LocalID != nil && r.MemberNumber != "" {
		e, err := s.RosterEntry(ctx, q, *r.LocalID, r.MemberNumber)
		switch {
		case errors.Is(err, ErrNotFound):
			note, args = VerifyUnknownNumber, []string{local.Number, r.MemberNumber}
		case err != nil:
			return false, err
		case FoldName(e.LastName) != FoldName(r.LastName):
			note, args = VerifyWrongName, []string{local.Number, r.MemberNumber}
			entryID = &e.ID
		case e.Standing != "good":
			note, args = VerifyLapsed, []string{local.Number, r.MemberNumber}
			entryID = &e.ID
		default:
			match, entryID = true, &e.ID
			note, args = VerifyMatched, []string{local.Number}
		}
	}
	switch {
	case r.CreatedAs == "staff":
		approve, note, args = true, VerifyByStaff, nil
	case r.CreatedAs == "officer":
		approve, note, args = true, VerifyByOfficer, []string{local.Number}
	case !cat.RequiresMembership && !cat.RequiresApproval:
		approve, note, args = true, VerifyNoCheck, nil
	case cat.Approver == "staff":
		note, args = VerifyStaff, []string{cat.Name}
	case match && cat.RequiresApproval:
		note, args = VerifyNeedsOfficer, []string{local.Number}
	case match:
		approve = true
	case r.LocalID == nil:
		note, args = VerifyNoLocalToDecide, nil
	}
	if r.LocalID == nil && !approve {
		r.Approver = "staff"
	}
	if args == nil {
		args = []string{}
	}
	r.Verification, r.VerifyArgs, r.RosterEntryID = note, args, entryID
	return approve, nil
}

// approveNow fills in what approval on the spot records: who decided (an
// officer or staff registering someone), when, and the payment deadline.
// now is as precise as PostgreSQL stores it, so r is what a read returns.
func approveNow(r *Registration, conf Conference, actor Actor, now time.Time) {
	if r.CreatedAs != "self" {
		// Approved by whoever registered them: staff, or their officer.
		// Not the actor, who may be moving them off the waiting line (the
		// member who cancelled, or the system).
		r.DecidedBy, r.DecidedAt = r.CreatedBy, &now
	}
	r.ApprovedAt, r.PaymentDueAt = &now, PaymentDue(conf, now)
}

// moveOn takes a verified registration to pending, or to approved and then
// confirmed or awaiting payment.
func (s *Store) moveOn(ctx context.Context, tx *sqlx.Tx, r *Registration, approve bool, actor Actor) error {
	return s.transition(ctx, tx, r, actor, moveOnSteps(r, approve)...)
}

// moveOnSteps are moveOn's moves.
func moveOnSteps(r *Registration, approve bool) []step {
	verified := map[string]any{"verification": r.VerificationMessage()}
	if !approve {
		return []step{{RegPending, verified}}
	}
	return []step{{RegApproved, verified}, billing(r)}
}

// settle moves an approved registration to confirmed when nothing is owed,
// else to awaiting payment, with its payment deadline.
func (s *Store) settle(ctx context.Context, tx *sqlx.Tx, r *Registration, actor Actor) error {
	conf, err := s.conferenceInTx(ctx, tx, r.ConferenceID)
	if err != nil {
		return err
	}
	now := time.Now()
	due := PaymentDue(conf, now)
	if _, err := tx.ExecContext(ctx, `UPDATE registrations SET approved_at = $2, payment_due_at = $3 WHERE id = $1`, r.ID, now, due); err != nil {
		return err
	}
	r.ApprovedAt, r.PaymentDueAt = &now, due
	return s.confirmOrBill(ctx, tx, r, actor)
}

// confirmOrBill is settle's last step: confirmed when nothing is owed, else
// awaiting payment.
func (s *Store) confirmOrBill(ctx context.Context, tx *sqlx.Tx, r *Registration, actor Actor) error {
	return s.transition(ctx, tx, r, actor, billing(r))
}

// billing is where an approved registration goes: confirmed when nothing is
// owed, else awaiting payment.
func billing(r *Registration) step {
	if r.AmountDueCents <= 0 {
		return step{RegConfirmed, nil}
	}
	return step{RegAwaitingPayment, map[string]any{"amount_due_cents": r.AmountDueCents}}
}

// PaymentDue is when a registration approved at approvedAt must be paid:
// the end of the day payment_due_days later, in the conference's zone; nil
// when the conference sets no payment deadline.
func PaymentDue(conf Conference, approvedAt time.Time) *time.Time {
	if conf.PaymentDueDays == nil {
		return nil
	}
	t := approvedAt.In(conf.Location())
	due := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location()).AddDate(0, 0, *conf.PaymentDueDays+1).Add(-time.Second)
	return &due
}

// Transition moves a registration to another status, if the lifecycle allows
// it, and records who did it. It is the only writer of the status column.
func (s *Store) Transition(ctx context.Context, tx *sqlx.Tx, r *Registration, to string, actor Actor, details map[string]any) error {
	return s.transition(ctx, tx, r, actor, step{to, details})
}

// step is one move in a registration's lifecycle and its audit details.
type step struct {
	to      string
	details map[string]any
}

// transition makes Transition's moves, one or several in a row, in a single
// statement: each is checked against the lifecycle and gets its own audit
// entry, in order, and the status column is written once, with the last.
func (s *Store) transition(ctx context.Context, tx *sqlx.Tx, r *Registration, actor Actor, steps ...step) error {
	status, actions, details, err := plan(r.Status, steps)
	if err != nil {
		return err
	}
	res, err := s.exec(ctx, tx, transitionSQL, r.ID, r.Status, status, auditActor(actor.User.ID), pq.Array(actions), pq.Array(details))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != int64(len(steps)) {
		return fmt.Errorf("%w: the registration changed meanwhile", ErrConflict)
	}
	r.Status = status
	return nil
}

// plan checks moves from status against the lifecycle and returns the
// status they end in, with each move's audit action and details. It is the
// one place a registration's status is decided: transition writes what it
// returns to an existing row, insertRegistration to a new one.
func plan(status string, steps []step) (to string, actions, details []string, err error) {
	actions, details = make([]string, len(steps)), make([]string, len(steps))
	for i, st := range steps {
		if !slices.Contains(transitions[status], st.to) {
			return "", nil, nil, fmt.Errorf("%w: a %s registration cannot become %s", ErrConflict, status, st.to)
		}
		d := st.details
		if d == nil {
			d = map[string]any{}
		}
		d["from"] = status
		b, err := json.Marshal(d)
		if err != nil {
			return "", nil, nil, err
		}
		actions[i], details[i], status = "status_"+st.to, string(b), st.to
	}
	return status, actions, details, nil
}

// transitionSQL moves a registration from status $2 to $3 and writes the
// audit entries ($5 actions, $6 details) in the same statement: none unless
// the row moved.
const transitionSQL = `WITH moved AS (
		UPDATE registrations SET status = $3, updated_at = now() WHERE id = $1 AND status = $2 RETURNING id)
	INSERT INTO audit_log (actor_id, action, entity, entity_id, details)
	SELECT $4::bigint, a.action, 'registration', moved.id, a.details::jsonb
	FROM moved, unnest($5::text[], $6::text[]) WITH ORDINALITY AS a(action, details, n) ORDER BY a.n`

// Approve approves a pending registration (or, for staff only, a denied one).
func (s *Store) Approve(ctx context.Context, id int64, actor Actor) (Registration, error) {
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		r, err := s.registration(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if !actor.CanSee(r) && !actor.CanDecide(r) {
			return ErrForbidden
		}
		if !actor.CanDecide(r) {
			return ErrForbidden
		}
		switch r.Status {
		case RegPending:
		case RegDenied:
			if !actor.IsStaff() {
				return fmt.Errorf("%w: only conference staff can approve a denied registration", ErrForbidden)
			}
			held, err := s.holdSeats(ctx, tx, &r)
			if err != nil {
				return err
			}
			if !held {
				return fmt.Errorf("%w: there is no seat left for this registration", ErrFull)
			}
		default:
			return fmt.Errorf("%w: a %s registration cannot be approved", ErrConflict, r.Status)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE registrations SET decided_by = $2, decided_at = now(), denial_reason = '' WHERE id = $1`, id, actor.User.ID); err != nil {
			return err
		}
		if err := s.Transition(ctx, tx, &r, RegApproved, actor, nil); err != nil {
			return err
		}
		return s.settle(ctx, tx, &r, actor)
	})
	if err != nil {
		return Registration{}, err
	}
	return s.Registration(ctx, id)
}

// Deny refuses a pending registration with a reason the member will read,
// and frees its seat.
func (s *Store) Deny(ctx context.Context, id int64, actor Actor, reason string) (Registration, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Registration{}, &ValidationError{Fields: map[string]string{"reason": "Say why, so the member knows what to do."}}
	}
	if utf8.RuneCountInString(reason) > 1000 {
		return Registration{}, &ValidationError{Fields: map[string]string{"reason": "Use at most 1000 characters."}}
	}
	var busy bool
	var conferenceID int64
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		r, err := s.registration(ctx, tx, id, true)
		if err != nil {
			return err
		}
		conferenceID = r.ConferenceID
		if !actor.CanDecide(r) {
			return ErrForbidden
		}
		if r.Status != RegPending {
			return fmt.Errorf("%w: a %s registration cannot be denied", ErrConflict, r.Status)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE registrations SET decided_by = $2, decided_at = now(), denial_reason = $3 WHERE id = $1`, id, actor.User.ID, reason); err != nil {
			return err
		}
		if err := s.Transition(ctx, tx, &r, RegDenied, actor, map[string]any{"reason": reason}); err != nil {
			return err
		}
		busy, err = s.releaseSeats(ctx, tx, &r)
		return err
	})
	if err != nil {
		return Registration{}, err
	}
	s.fillSeatsAfter(ctx, busy, conferenceID)
	return s.Registration(ctx, id)
}

// Cancel cancels a live registration at the request of its owner, an officer
// of its local or staff, and frees its seat.
func (s *Store) Cancel(ctx context.Context, id int64, actor Actor) (Registration, error) {
	var busy bool
	var conferenceID int64
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		r, err := s.registration(ctx, tx, id, true)
		if err != nil {
			return err
		}
		conferenceID = r.ConferenceID
		if !actor.CanSee(r) {
			return ErrForbidden
		}
		if !Active(r.Status) {
			return fmt.Errorf("%w: this registration is already %s", ErrConflict, r.Status)
		}
		if err := s.Transition(ctx, tx, &r, RegCancelled, actor, nil); err != nil {
			return err
		}
		busy, err = s.releaseSeats(ctx, tx, &r)
		return err
	})
	if err != nil {
		return Registration{}, err
	}
	s.fillSeatsAfter(ctx, busy, conferenceID)
	return s.Registration(ctx, id)
}

// RegistrationFilter narrows a conference's list.
type RegistrationFilter struct {
	LocalID *int64
	Status  string
}

// ConferenceRegistrations lists a conference's registrations the actor may
// see: staff all, officers their locals' only.
func (s *Store) ConferenceRegistrations(ctx context.Context, conferenceID int64, f RegistrationFilter, actor Actor) ([]Registration, error) {
	if !actor.IsStaff() {
		if !actor.IsOfficer() {
			return nil, ErrForbidden
		}
		if f.LocalID != nil && !actor.OfficerOfLocal(f.LocalID) {
			return nil, ErrForbidden
		}
	}
	var locals []int64
	if !actor.IsStaff() {
		locals = actor.LocalIDs()
	}
	var rs []Registration
	err := s.db.SelectContext(ctx, &rs, registrationSelect+`
		WHERE r.conference_id = $1 AND ($2::bigint IS NULL OR r.local_id = $2) AND ($3 = '' OR r.status = $3)
		AND ($4::bigint[] IS NULL OR r.local_id = ANY($4))
		ORDER BY l.number NULLS LAST, lower(r.last_name), lower(r.first_name), r.id`,
		conferenceID, f.LocalID, f.Status, nullableArray(locals))
	return rs, err
}

func nullableArray(ids []int64) any {
	if ids == nil {
		return nil
	}
	return pq.Array(ids)
}

// UserRegistrations lists a member's own registrations, newest conference first.
func (s *Store) UserRegistrations(ctx context.Context, userID int64) ([]Registration, error) {
	var rs []Registration
	err := s.db.SelectContext(ctx, &rs, registrationSelect+` WHERE r.user_id = $1 ORDER BY c.starts_on DESC, r.id DESC`, userID)
	return rs, err
}

// PendingForActor lists the pending registrations the actor can decide, per
// conference in date order: an officer's locals, or everything for staff.
func (s *Store) PendingForActor(ctx context.Context, actor Actor, conferenceID *int64) ([]Registration, error) {
	var rs []Registration
	err := s.db.SelectContext(ctx, &rs, registrationSelect+`
		WHERE r.status = 'pending' AND ($1 OR (r.approver = 'officer' AND r.local_id = ANY($2)))
		AND ($3::bigint IS NULL OR r.conference_id = $3)
		ORDER BY c.starts_on, c.id, l.number NULLS LAST, r.created_at, r.id`,
		actor.IsStaff(), pq.Array(actor.LocalIDs()), conferenceID)
	return rs, err
}

// RegistrationSessions lists the workshops a registration signed up for.
func (s *Store) RegistrationSessions(ctx context.Context, id int64) ([]AgendaSession, error) {
	var as []AgendaSession
	err := s.db.SelectContext(ctx, &as, `SELECT `+prefixed("a", sessionColumns)+` FROM agenda_sessions a
		JOIN registration_sessions rs ON rs.session_id = a.id WHERE rs.registration_id = $1 ORDER BY a.starts_at`, id)
	return as, err
}

func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// crockford is Crockford's base32 alphabet: no I, L, O or U.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewTicketToken returns 130 random bits as 26 Crockford base32 characters.
func NewTicketToken() string {
	b := make([]byte, 26)
	rand.Read(b)
	for i := range b {
		b[i] = crockford[b[i]&31]
	}
	return string(b)
}
