package models_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"convene/models"
)

type regFixture struct {
	s               *models.Store
	conf            models.Conference
	local, other    models.Local
	member, member2 models.Actor
	officer         models.Actor // of local 4121
	otherOfficer    models.Actor // of local 7600
	staff           models.Actor
	now             time.Time
}

func actor(t *testing.T, s *models.Store, email string, staff bool) models.Actor {
	t.Helper()
	ctx := context.Background()
	u, err := s.CreateUser(ctx, email, "Test "+email, "union strong 2027")
	if err != nil {
		t.Fatal(err)
	}
	if staff {
		s.SetRoles(ctx, u.ID, true, false)
		u.IsStaff = true
	}
	a, err := s.ActorFor(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func newRegFixture(t *testing.T) *regFixture {
	t.Helper()
	s := newStore(t)
	ctx := context.Background()
	f := &regFixture{s: s, now: time.Date(2027, 1, 15, 12, 0, 0, 0, time.UTC)}
	conf, err := s.CreateConference(ctx, validConference("pal"))
	if err != nil {
		t.Fatal(err)
	}
	f.conf, _ = s.SetConferenceStatus(ctx, conf.ID, models.StatusPublished)
	for _, c := range []models.CategoryInput{
		{Slug: "member-delegate", Name: "Member delegate", Price: "0", RequiresMembership: true, Approver: "officer"},
		{Slug: "credentialed", Name: "Credentialed delegate", Price: "0", RequiresMembership: true, RequiresApproval: true, Approver: "officer"},
		{Slug: "organizing", Name: "Organizing-drive worker", Price: "0", RequiresApproval: true, Approver: "staff"},
		{Slug: "paid", Name: "Paid delegate", Price: "150", RequiresMembership: true, Approver: "officer"},
	} {
		if _, err := s.CreateCategory(ctx, f.conf, c); err != nil {
			t.Fatal(err)
		}
	}
	if f.local, err = s.CreateLocal(ctx, models.LocalInput{Number: "4121", Name: "Harbor City Academic Workers"}); err != nil {
		t.Fatal(err)
	}
	if f.other, err = s.CreateLocal(ctx, models.LocalInput{Number: "7600", Name: "Inland Valley Health Care Workers"}); err != nil {
		t.Fatal(err)
	}
	f.member = actor(t, s, "member@example.org", false)
	f.member2 = actor(t, s, "member2@example.org", false)
	f.staff = actor(t, s, "staff@example.org", true)
	o := actor(t, s, "officer@example.org", false)
	s.AddOfficer(ctx, o.User.ID, f.local.ID)
	f.officer, _ = s.ActorFor(ctx, o.User)
	oo := actor(t, s, "officer7600@example.org", false)
	s.AddOfficer(ctx, oo.User.ID, f.other.ID)
	f.otherOfficer, _ = s.ActorFor(ctx, oo.User)
	roster := "Member #,First Name,Last Name,Email,Standing\n" +
		"1001,Luis,Chávez-Nava,luis@example.org,good\n" +
		"1002,Ana,Cortés,ana@example.org,good\n" +
		"1003,Sam,Okafor,,lapsed\n" +
		"1004,Jordan,Reyes,,good\n"
	if _, _, err := s.ApplyRoster(ctx, f.local.ID, f.staff.User.ID, []byte(roster)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ApplyRoster(ctx, f.other.ID, f.staff.User.ID, []byte("Card No.,First,Last\n2001,Grace,Liu\n")); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *regFixture) register(t *testing.T, a models.Actor, in models.RegistrationInput) (models.Registration, error) {
	t.Helper()
	if in.Category == "" {
		in.Category = "member-delegate"
	}
	if in.Email == "" {
		in.Email = a.User.Email
	}
	return f.s.Register(context.Background(), f.conf, in, a, f.now)
}

func TestVerificationAgainstRoster(t *testing.T) {
	f := newRegFixture(t)
	tests := []struct {
		name                    string
		last, local, number     string
		wantStatus, wantMessage string
	}{
		{"roster match", "Cortés", "4121", "1002", models.RegConfirmed, "verified against Local 4121"},
		{"accents and case", "CHAVEZ NAVA", "4121", "1001", models.RegConfirmed, "verified"},
		{"unknown number", "Cortés", "4121", "9999", models.RegPending, "member number 9999 is not on the local's roster"},
		{"wrong last name", "Smith", "4121", "1004", models.RegPending, "last name does not match"},
		{"lapsed standing", "Okafor", "4121", "1003", models.RegPending, "not in good standing"},
		{"another local's member", "Liu", "4121", "2001", models.RegPending, "Local 4121's officers"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := actor(t, f.s, "v"+string(rune('a'+i))+"@example.org", false)
			r, err := f.register(t, a, models.RegistrationInput{FirstName: "Test", LastName: tc.last, Local: tc.local, MemberNumber: tc.number})
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tc.wantStatus || !strings.Contains(r.VerificationMessage(), tc.wantMessage) {
				t.Errorf("status %s (%q), want %s with %q", r.Status, r.VerificationMessage(), tc.wantStatus, tc.wantMessage)
			}
			if r.Status == models.RegPending && r.Approver != "officer" {
				t.Errorf("pending on %s, want the local's officers", r.Approver)
			}
		})
	}
}

func TestCategoryThatAlwaysNeedsApproval(t *testing.T) {
	f := newRegFixture(t)
	r, err := f.register(t, f.member, models.RegistrationInput{Category: "credentialed", FirstName: "Ana", LastName: "Cortés", Local: "4121", MemberNumber: "1002"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != models.RegPending || !strings.Contains(r.VerificationMessage(), "credentialed by your local") {
		t.Fatalf("roster match in an approval category: %s %q", r.Status, r.VerificationMessage())
	}
	if r.RosterEntryID == nil {
		t.Error("the matching roster line was not recorded for the officer")
	}
	w, err := f.register(t, f.member2, models.RegistrationInput{Category: "organizing", FirstName: "Kai", LastName: "Moana"})
	if err != nil {
		t.Fatal(err)
	}
	if w.Status != models.RegPending || w.Approver != "staff" || !strings.Contains(w.VerificationMessage(), "conference staff") {
		t.Fatalf("organizing-drive worker: %s %s %q", w.Status, w.Approver, w.VerificationMessage())
	}
	if _, err := f.s.Approve(context.Background(), w.ID, f.officer); !errors.Is(err, models.ErrForbidden) {
		t.Errorf("an officer approved a staff-approved registration: %v", err)
	}
	if got, err := f.s.Approve(context.Background(), w.ID, f.staff); err != nil || got.Status != models.RegConfirmed {
		t.Errorf("staff approval: %v %v", got.Status, err)
	}
}

func TestSecondRegistrationRefused(t *testing.T) {
	f := newRegFixture(t)
	in := models.RegistrationInput{FirstName: "Ana", LastName: "Cortés", Local: "4121", MemberNumber: "1002"}
	if _, err := f.register(t, f.member, in); err != nil {
		t.Fatal(err)
	}
	if _, err := f.register(t, f.member, in); !errors.Is(err, models.ErrDuplicate) {
		t.Errorf("same account twice: %v", err)
	}
	// The same member number through another account is the same person.
	in.Email = "ana.other@example.org"
	if _, err := f.register(t, f.member2, in); !errors.Is(err, models.ErrDuplicate) {
		t.Errorf("same member number twice: %v", err)
	}
	rs, _ := f.s.ConferenceRegistrations(context.Background(), f.conf.ID, models.RegistrationFilter{}, f.staff)
	if len(rs) != 1 {
		t.Errorf("%d registrations after refusals, want 1", len(rs))
	}
	// After cancelling, registering again works.
	if _, err := f.s.Cancel(context.Background(), rs[0].ID, f.member); err != nil {
		t.Fatal(err)
	}
	in.Email = ""
	if _, err := f.register(t, f.member, in); err != nil {
		t.Errorf("registering again after cancelling: %v", err)
	}
}

func TestRegistrationWindowRefusalsNameTheDeadline(t *testing.T) {
	f := newRegFixture(t)
	in := models.RegistrationInput{FirstName: "Ana", LastName: "Cortés", Local: "4121", MemberNumber: "1002"}
	f.now = f.conf.RegistrationOpensAt.Add(-time.Second)
	_, err := f.register(t, f.member, in)
	if !errors.Is(err, models.ErrClosed) || err.Error() != "Registration opens Jan 4, 2027, 9:00 AM PST." {
		t.Errorf("before opening: %v", err)
	}
	f.now = f.conf.RegistrationClosesAt
	_, err = f.register(t, f.member, in)
	if !errors.Is(err, models.ErrClosed) || err.Error() != "Registration closed Feb 5, 2027, 11:59 PM PST." {
		t.Errorf("after closing: %v", err)
	}
	// One second before closing still works.
	f.now = f.conf.RegistrationClosesAt.Add(-time.Second)
	if _, err := f.register(t, f.member, in); err != nil {
		t.Errorf("one second before closing: %v", err)
	}
}

func TestOfficersActOnlyOnTheirOwnLocal(t *testing.T) {
	f := newRegFixture(t)
	ctx := context.Background()
	r, err := f.register(t, f.member, models.RegistrationInput{FirstName: "Pat", LastName: "Nobody", Local: "4121", MemberNumber: "5555"})
	if err != nil || r.Status != models.RegPending {
		t.Fatalf("%v %v", r.Status, err)
	}
	if f.otherOfficer.CanSee(r) || f.member2.CanSee(r) {
		t.Error("an officer of another local, or another member, can see the registration")
	}
	if _, err := f.s.Approve(ctx, r.ID, f.otherOfficer); !errors.Is(err, models.ErrForbidden) {
		t.Errorf("other local's officer approved: %v", err)
	}
	if _, err := f.s.Deny(ctx, r.ID, f.otherOfficer, "no"); !errors.Is(err, models.ErrForbidden) {
		t.Errorf("other local's officer denied: %v", err)
	}
	if _, err := f.s.Cancel(ctx, r.ID, f.otherOfficer); !errors.Is(err, models.ErrForbidden) {
		t.Errorf("other local's officer cancelled: %v", err)
	}
	if _, err := f.s.Approve(ctx, r.ID, f.member); !errors.Is(err, models.ErrForbidden) {
		t.Errorf("the member approved their own registration: %v", err)
	}
	seven := f.other.ID
	if _, err := f.s.ConferenceRegistrations(ctx, f.conf.ID, models.RegistrationFilter{LocalID: &f.local.ID}, f.otherOfficer); !errors.Is(err, models.ErrForbidden) {
		t.Errorf("other local's officer listed local 4121: %v", err)
	}
	list, err := f.s.ConferenceRegistrations(ctx, f.conf.ID, models.RegistrationFilter{LocalID: &seven}, f.otherOfficer)
	if err != nil || len(list) != 0 {
		t.Errorf("own-local list leaked: %d %v", len(list), err)
	}
	if _, err := f.register(t, f.otherOfficer, models.RegistrationInput{FirstName: "Ana", LastName: "Cortés", Email: "someone@example.org", Local: "4121", MemberNumber: "1002"}); !errors.Is(err, models.ErrForbidden) {
		t.Errorf("officer of 7600 registered a member of 4121: %v", err)
	}
	if got, _ := f.s.Registration(ctx, r.ID); got.Status != models.RegPending {
		t.Errorf("refused actions changed the registration: %s", got.Status)
	}
	// The right officer can.
	if got, err := f.s.Approve(ctx, r.ID, f.officer); err != nil || got.Status != models.RegConfirmed || got.DecidedByName == nil {
		t.Errorf("own officer: %v %v", got.Status, err)
	}
}

func TestDeniedOnlyStaffCanReapprove(t *testing.T) {
	f := newRegFixture(t)
	ctx := context.Background()
	r, _ := f.register(t, f.member, models.RegistrationInput{Category: "paid", FirstName: "Pat", LastName: "Nobody", Local: "4121", MemberNumber: "5555"})
	if _, err := f.s.Deny(ctx, r.ID, f.officer, "  "); err == nil {
		t.Fatal("denied without a reason")
	}
	d, err := f.s.Deny(ctx, r.ID, f.officer, "Not a member of our local; please contact your own local.")
	if err != nil || d.Status != models.RegDenied || d.HoldsSeat {
		t.Fatalf("deny: %v %v holds=%v", d.Status, err, d.HoldsSeat)
	}
	if _, err := f.s.Approve(ctx, r.ID, f.officer); !errors.Is(err, models.ErrForbidden) {
		t.Errorf("officer re-approved a denied registration: %v", err)
	}
	a, err := f.s.Approve(ctx, r.ID, f.staff)
	if err != nil || a.Status != models.RegAwaitingPayment || a.AmountDueCents != 15000 || !a.HoldsSeat {
		t.Errorf("staff re-approval: %v %v due=%d", a.Status, err, a.AmountDueCents)
	}
	h, _ := f.s.History(ctx, "registration", r.ID)
	var actions []string
	for _, e := range h {
		actions = append(actions, e.Action)
	}
	want := "registration_submitted status_pending status_denied status_approved status_awaiting_payment"
	if strings.Join(actions, " ") != want {
		t.Errorf("history: %v", actions)
	}
}

func TestOfficerRegistersDelegation(t *testing.T) {
	f := newRegFixture(t)
	for _, m := range []struct{ first, last, num string }{{"Luis", "Chávez-Nava", "1001"}, {"Ana", "Cortés", "1002"}} {
		r, err := f.register(t, f.officer, models.RegistrationInput{FirstName: m.first, LastName: m.last, Email: m.num + "@example.org", Local: "4121", MemberNumber: m.num})
		if err != nil || r.Status != models.RegConfirmed || r.CreatedAs != "officer" {
			t.Errorf("%s: %v %v %s", m.last, r.Status, err, r.CreatedAs)
		}
	}
}

func TestTicketTokens(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		tok := models.NewTicketToken()
		if len(tok) != 26 || strings.ContainsAny(tok, "ILOU") || seen[tok] {
			t.Fatalf("bad or repeated token %q", tok)
		}
		seen[tok] = true
	}
}

// TestRegisterReturnsWhatARereadFinds: Register returns the registration it
// stored without reading it back; a fresh read must find it field for field.
func TestRegisterReturnsWhatARereadFinds(t *testing.T) {
	f := newRegFixture(t)
	// Every joined field non-empty, so none can be forgotten unnoticed.
	db := f.s.DB()
	db.MustExec(`UPDATE conferences SET title_es = 'Conferencia', currency = 'CAD', payment_due_days = 10 WHERE id = $1`, f.conf.ID)
	db.MustExec(`UPDATE categories SET name_es = name || ' (es)' WHERE conference_id = $1`, f.conf.ID)
	f.conf, _ = f.s.ConferenceBySlug(context.Background(), f.conf.Slug, true)
	for _, c := range []struct {
		name string
		by   models.Actor
		in   models.RegistrationInput
	}{
		{"roster match", f.member, models.RegistrationInput{FirstName: "Ana", LastName: "Cortés", Local: "4121", MemberNumber: "1002"}},
		{"pays", f.member2, models.RegistrationInput{Category: "paid", FirstName: "Luis", LastName: "Chávez-Nava", Local: "4121", MemberNumber: "1001"}},
		{"officer registers", f.officer, models.RegistrationInput{Category: "credentialed", FirstName: "Jordan", LastName: "Reyes",
			Email: "jordan@example.org", Local: "4121", MemberNumber: "1004", Phone: "555-0100", Dietary: "vegan"}},
		{"staff registers", f.staff, models.RegistrationInput{Category: "organizing", FirstName: "Kim", LastName: "Lee", Email: "kim@example.org"}},
		{"unknown number", f.otherOfficer, models.RegistrationInput{FirstName: "Grace", LastName: "Liu", Local: "7600", MemberNumber: "9999"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := f.register(t, c.by, c.in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := f.s.Registration(context.Background(), got.ID)
			if err != nil {
				t.Fatal(err)
			}
			gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
			for i := range gv.NumField() {
				name, g, w := gv.Type().Field(i).Name, gv.Field(i).Interface(), wv.Field(i).Interface()
				if !sameValue(g, w) {
					t.Errorf("%s (%s): Register returned %v, a read finds %v", name, want.Status, show(g), show(w))
				}
			}
		})
	}
}

// sameValue compares field values, instants by the instant they name.
func sameValue(a, b any) bool {
	switch a := a.(type) {
	case time.Time:
		return a.Equal(b.(time.Time))
	case *time.Time:
		b := b.(*time.Time)
		return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
	}
	return reflect.DeepEqual(a, b)
}

func show(v any) any {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return rv.Elem().Interface()
	}
	return v
}
