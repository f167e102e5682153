package models_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"convene/internal/testdb"
	"convene/models"

	"github.com/lib/pq"
)

func newStore(t *testing.T) *models.Store {
	db, _ := testdb.New(t)
	return models.NewStore(db)
}

// fieldErr returns the message err gives for field, failing when err is not
// a validation error.
func fieldErr(t *testing.T, err error, field string) string {
	t.Helper()
	var ve *models.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a validation error on %q, got %v", field, err)
	}
	return ve.Fields[field]
}

func TestMigrationsFromEmptyDatabase(t *testing.T) {
	server := testdb.ServerURL()
	name := fmt.Sprintf("convene_empty_%d", time.Now().UnixNano())
	u, _ := url.Parse(server)
	u.Path = "/" + name
	t.Cleanup(func() {
		a, _ := sql.Open("postgres", server)
		defer a.Close()
		a.Exec("DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name) + " WITH (FORCE)")
	})
	// Open creates the database when it does not exist, then migrates it.
	db, err := models.Open(context.Background(), u.String(), nil)
	if err != nil {
		t.Fatalf("open on a missing database: %v", err)
	}
	defer db.Close()
	for _, table := range []string{"users", "sessions", "conferences", "categories", "agenda_sessions", "locals", "officers", "audit_log"} {
		var n int
		if err := db.Get(&n, `SELECT count(*) FROM information_schema.tables WHERE table_name = $1`, table); err != nil || n != 1 {
			t.Errorf("table %s missing after migrating (err %v)", table, err)
		}
	}
	// Opening again is a no-op, not an error.
	db2, err := models.Open(context.Background(), u.String(), nil)
	if err != nil {
		t.Fatalf("second open: %v", err)
	}
	db2.Close()
}

func validConference(slug string) models.ConferenceInput {
	return models.ConferenceInput{Slug: slug, Title: "Leadership Conference", TimeZone: "America/Los_Angeles",
		StartsOn: "2027-03-05", EndsOn: "2027-03-07", Mode: "in_person", Capacity: "450",
		RegistrationOpensAt: "2027-01-04T09:00", RegistrationClosesAt: "2027-02-05"}
}

func TestConferenceValidation(t *testing.T) {
	tests := []struct {
		name, field, want string
		edit              func(*models.ConferenceInput)
	}{
		{"end before start", "ends_on", "ends before it starts", func(in *models.ConferenceInput) { in.EndsOn = "2027-03-04" }},
		{"unknown time zone", "time_zone", "Unknown time zone", func(in *models.ConferenceInput) { in.TimeZone = "Mars/Olympus_Mons" }},
		{"empty time zone", "time_zone", "Unknown time zone", func(in *models.ConferenceInput) { in.TimeZone = "" }},
		{"closes before opens", "registration_closes_at", "close after it opens", func(in *models.ConferenceInput) { in.RegistrationClosesAt = "2027-01-01" }},
		{"bad slug", "slug", "lower-case", func(in *models.ConferenceInput) { in.Slug = "Bad Slug!" }},
		{"missing title", "title", "Enter a title", func(in *models.ConferenceInput) { in.Title = " " }},
		{"negative capacity", "capacity", "negative", func(in *models.ConferenceInput) { in.Capacity = "-1" }},
		{"bad mode", "mode", "in person", func(in *models.ConferenceInput) { in.Mode = "telepathy" }},
		{"bad date", "starts_on", "YYYY-MM-DD", func(in *models.ConferenceInput) { in.StartsOn = "March 5" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := validConference("x")
			tc.edit(&in)
			_, err := in.Parse()
			if got := fieldErr(t, err, tc.field); !strings.Contains(got, tc.want) {
				t.Errorf("%s: message %q does not say %q", tc.field, got, tc.want)
			}
		})
	}
	if _, err := validConference("fine").Parse(); err != nil {
		t.Fatalf("control: a valid conference was refused: %v", err)
	}
}

func TestDuplicateSlugAndNothingChanges(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.CreateConference(ctx, validConference("pal-2027")); err != nil {
		t.Fatal(err)
	}
	_, err := s.CreateConference(ctx, validConference("pal-2027"))
	if got := fieldErr(t, err, "slug"); !strings.Contains(got, "already uses") {
		t.Errorf("duplicate slug message = %q", got)
	}
	all, _ := s.AllConferences(ctx)
	if len(all) != 1 {
		t.Errorf("a refused conference was saved: %d conferences", len(all))
	}
}

func TestCategoryValidation(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	conf, err := s.CreateConference(ctx, validConference("cats"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, field, want string
		in                models.CategoryInput
	}{
		{"negative price", "price", "negative", models.CategoryInput{Name: "Delegate", Price: "-5"}},
		{"negative early price", "early_price", "negative", models.CategoryInput{Name: "Delegate", Price: "100", EarlyPrice: "-1", EarlyUntil: "2027-01-20"}},
		{"early-bird after registration closes", "early_until", "before registration closes",
			models.CategoryInput{Name: "Delegate", Price: "100", EarlyPrice: "80", EarlyUntil: "2027-02-06"}},
		{"early price without date", "early_until", "both", models.CategoryInput{Name: "Delegate", Price: "100", EarlyPrice: "80"}},
		{"not an amount", "price", "amount", models.CategoryInput{Name: "Delegate", Price: "ten dollars"}},
		{"missing name", "name", "Enter a name", models.CategoryInput{Price: "10"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateCategory(ctx, conf, tc.in)
			if got := fieldErr(t, err, tc.field); !strings.Contains(got, tc.want) {
				t.Errorf("%s: message %q does not say %q", tc.field, got, tc.want)
			}
		})
	}
	// The boundary: early-bird ending exactly when registration closes is fine.
	cat, err := s.CreateCategory(ctx, conf, models.CategoryInput{Name: "Member delegate", Price: "150", EarlyPrice: "125", EarlyUntil: "2027-02-05"})
	if err != nil {
		t.Fatalf("control: valid category refused: %v", err)
	}
	if cat.Slug != "member-delegate" || cat.PriceCents != 15000 || *cat.EarlyPriceCents != 12500 {
		t.Errorf("saved category = %+v", cat)
	}
	if _, err := s.CreateCategory(ctx, conf, models.CategoryInput{Name: "Member delegate", Price: "1"}); !strings.Contains(fieldErr(t, err, "slug"), "already has") {
		t.Errorf("duplicate category slug not refused: %v", err)
	}
	cats, _ := s.Categories(ctx, conf.ID)
	if len(cats) != 1 {
		t.Errorf("refused categories were saved: %d", len(cats))
	}
}

func TestSessionMustFallWithinConferenceDays(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	conf, err := s.CreateConference(ctx, validConference("agenda"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, start, end, field, want string }{
		{"the day before", "2027-03-04T09:00", "2027-03-04T10:00", "starts_at", "within the conference's days"},
		{"the day after", "2027-03-08T09:00", "2027-03-08T10:00", "starts_at", "within the conference's days"},
		{"runs past midnight of the last day", "2027-03-07T23:00", "2027-03-08T00:30", "starts_at", "within the conference's days"},
		{"ends before it starts", "2027-03-05T10:00", "2027-03-05T09:00", "ends_at", "end after it starts"},
		{"no time", "2027-03-05", "2027-03-05", "starts_at", "Enter a start"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateAgendaSession(ctx, conf, models.SessionInput{Title: "Opening", Kind: "plenary", StartsAt: tc.start, EndsAt: tc.end})
			if got := fieldErr(t, err, tc.field); !strings.Contains(got, tc.want) {
				t.Errorf("%s: %q does not say %q", tc.field, got, tc.want)
			}
		})
	}
	// Local times are read in the conference's zone: 23:00 on the last day in
	// Los Angeles is 07:00 UTC the next day, and still inside.
	a, err := s.CreateAgendaSession(ctx, conf, models.SessionInput{Title: "Late caucus", Kind: "caucus", StartsAt: "2027-03-07T22:00", EndsAt: "2027-03-07T23:30"})
	if err != nil {
		t.Fatalf("control: session on the last evening refused: %v", err)
	}
	if got := a.StartsAt.UTC().Format(time.RFC3339); got != "2027-03-08T06:00:00Z" {
		t.Errorf("22:00 PST stored as %s", got)
	}
}

func TestDateOnlyDeadlineIsEndOfDayInZone(t *testing.T) {
	in := validConference("eod")
	c, err := in.Parse()
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("America/Los_Angeles")
	want := time.Date(2027, 2, 5, 23, 59, 59, 0, loc)
	if !c.RegistrationClosesAt.Equal(want) {
		t.Errorf("closes at %s, want %s", c.RegistrationClosesAt.In(loc), want)
	}
	c.Status = models.StatusPublished
	if got := c.RegistrationState(want.Add(-time.Second)); got != "open" {
		t.Errorf("one second before the deadline: %s, want open", got)
	}
	if got := c.RegistrationState(want.Add(time.Second)); got != "closed" {
		t.Errorf("one second after the deadline: %s, want closed", got)
	}
}

func TestSignInThrottling(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.CreateUser(ctx, "tomas.rivera@example.org", "Tomás Rivera", "correct horse"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < models.ThrottlePerAccount; i++ {
		if _, err := s.Authenticate(ctx, "tomas.rivera@example.org", "wrong", "10.0.0.1"); !errors.Is(err, models.ErrBadCredential) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	// Now even the right password is refused, from any address.
	if _, err := s.Authenticate(ctx, "Tomas.Rivera@example.org", "correct horse", "10.0.0.2"); !errors.Is(err, models.ErrThrottled) {
		t.Fatalf("after %d failures: want ErrThrottled, got %v", models.ThrottlePerAccount, err)
	}
	// Another account from the first address is not yet throttled.
	if _, err := s.CreateUser(ctx, "li.wei@example.org", "Li Wei", "another pass"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "li.wei@example.org", "another pass", "10.0.0.1"); err != nil {
		t.Fatalf("other account: %v", err)
	}
}

func TestSignInThrottlingPerAddress(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for i := 0; i < models.ThrottlePerAddress; i++ {
		s.Authenticate(ctx, fmt.Sprintf("nobody%d@example.org", i), "guess", "10.9.9.9")
	}
	if _, err := s.Authenticate(ctx, "someone@example.org", "guess", "10.9.9.9"); !errors.Is(err, models.ErrThrottled) {
		t.Fatalf("address spraying many accounts not throttled: %v", err)
	}
}

func TestSessionsAndPasswordReset(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, "maria.lopez@example.org", "María López", "first password")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.CreateSession(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.SessionUser(ctx, tok); err != nil || got.ID != u.ID {
		t.Fatalf("session lookup: %v %v", got, err)
	}
	_, reset, err := s.CreatePasswordReset(ctx, "MARIA.LOPEZ@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ResetPassword(ctx, reset, "short"); fieldErr(t, err, "password") == "" {
		t.Fatal("short password accepted")
	}
	if err := s.ResetPassword(ctx, reset, "second password"); err != nil {
		t.Fatalf("reset: %v", err)
	}
	if err := s.ResetPassword(ctx, reset, "third password"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("a reset link worked twice: %v", err)
	}
	if _, err := s.SessionUser(ctx, tok); !errors.Is(err, models.ErrNotFound) {
		t.Fatal("sessions survived a password reset")
	}
	if _, err := s.Authenticate(ctx, "maria.lopez@example.org", "second password", "10.1.1.1"); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

func TestPasswordLengthLimits(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	long := strings.Repeat("ñ", 128) // 256 bytes: beyond bcrypt's 72, fine for argon2id
	if _, err := s.CreateUser(ctx, "long@example.org", "Long Pass", long); err != nil {
		t.Fatalf("128-character password refused: %v", err)
	}
	if _, err := s.Authenticate(ctx, "long@example.org", long, "10.2.2.2"); err != nil {
		t.Fatalf("128-character password does not sign in: %v", err)
	}
	if _, err := s.Authenticate(ctx, "long@example.org", long[:len(long)-2], "10.2.2.2"); err == nil {
		t.Fatal("a prefix of the password signed in")
	}
	_, err := s.CreateUser(ctx, "short@example.org", "Short", "1234567")
	if !strings.Contains(fieldErr(t, err, "password"), "at least 8") {
		t.Errorf("7-character password: %v", err)
	}
}

// A conference re-saved from its own form keeps its deadlines to the second:
// "registration is due Feb 5" stays 23:59:59, not 23:59:00.
func TestFormRoundTripKeepsDeadlines(t *testing.T) {
	c, err := validConference("round").Parse()
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Input().Parse()
	if err != nil {
		t.Fatal(err)
	}
	if !again.RegistrationClosesAt.Equal(c.RegistrationClosesAt) || !again.RegistrationOpensAt.Equal(c.RegistrationOpensAt) {
		t.Errorf("round trip moved the window: %s -> %s", c.RegistrationClosesAt, again.RegistrationClosesAt)
	}
}
