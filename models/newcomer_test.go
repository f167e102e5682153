package models_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"convene/models"
)

// registerNow registers a new member of kind in the conference as it is
// now (read again, so the registration sees the seats as they are) and
// returns the registration.
func registerNow(t *testing.T, s *models.Store, slug, kind string, a models.Actor) models.Registration {
	t.Helper()
	ctx := context.Background()
	conf, err := s.ConferenceBySlug(ctx, slug, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Register(ctx, conf, models.RegistrationInput{Category: kind, FirstName: "New", LastName: "Comer",
		Email: a.User.Email}, a, conf.RegistrationOpensAt.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestANewcomerDoesNotTakeARaisedSeat: staff raise the capacity by one to
// seat someone waiting by hand. A member who registers before they do joins
// the line behind the others, whether the registration read the conference
// as it is now (with a seat free) or as it was (full); the seat stays for
// staff to give.
func TestANewcomerDoesNotTakeARaisedSeat(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := models.Actor{User: models.User{ID: 1, IsStaff: true}}
	f := newSeatsAndLine(t, s, "raised-newcomer")
	s.DB().MustExec(`UPDATE conferences SET capacity = 3 WHERE id = $1`, f.conf.ID)
	newcomers := fastActors(t, s, "raised-newcomer-new", 2)
	now := registerNow(t, s, f.conf.Slug, "open", newcomers[0])
	stale, err := s.Register(ctx, f.conf, models.RegistrationInput{Category: "retiree", FirstName: "New", LastName: "Comer",
		Email: newcomers[1].User.Email}, newcomers[1], f.conf.RegistrationOpensAt.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []models.Registration{now, stale} {
		if r.Status != models.RegWaitlisted {
			t.Errorf("a newcomer (%s) is %s with three waiting for the free seat, want waitlisted", r.CategorySlug, r.Status)
		}
	}
	if got, want := f.waiting(t, s), append(slices.Clone(f.line), now.ID, stale.ID); !slices.Equal(got, want) {
		t.Errorf("waiting %v, want %v: the newcomers behind the line", got, want)
	}
	f.seatsHeld(t, s)
	if _, err := s.PromoteNow(ctx, f.line[2], staff); err != nil {
		t.Fatalf("staff could not give the seat they added: %v", err)
	}
	f.seatsHeld(t, s)
}

// TestANewcomerTakesASeatNobodyWaitingCanTake: delegates wait for the one
// delegate seat. A retiree's type has room, and so has the conference, so a
// new retiree is seated: no delegate could take that seat. When the
// delegates' type is raised by one, a new delegate waits behind them, and so
// does a new retiree while the conference's own capacity counts (the
// delegate waiting could take that seat), but not once it does not and
// nobody of their own type waits.
func TestANewcomerTakesASeatNobodyWaitingCanTake(t *testing.T) {
	s := newStore(t)
	conf := publishedConference(t, s, "delegates-wait", "4",
		models.CategoryInput{Slug: "delegate", Name: "Delegate", Price: "0", Capacity: "1"},
		models.CategoryInput{Slug: "retiree", Name: "Retiree", Price: "0"})
	a := fastActors(t, s, "delegates-wait", 7)
	registerNow(t, s, conf.Slug, "delegate", a[0])
	waiting := registerNow(t, s, conf.Slug, "delegate", a[1])
	if waiting.Status != models.RegWaitlisted {
		t.Fatalf("fixture: the second delegate is %s", waiting.Status)
	}
	if r := registerNow(t, s, conf.Slug, "retiree", a[2]); r.Status == models.RegWaitlisted {
		t.Errorf("a new retiree waits with retiree seats free and only delegates waiting for a full type")
	}

	s.DB().MustExec(`UPDATE categories SET capacity = 2 WHERE conference_id = $1 AND slug = 'delegate'`, conf.ID)
	if r := registerNow(t, s, conf.Slug, "delegate", a[3]); r.Status != models.RegWaitlisted {
		t.Errorf("a new delegate is %s while a delegate waits for the raised seat, want waitlisted", r.Status)
	}
	retiree := registerNow(t, s, conf.Slug, "retiree", a[4])
	if retiree.Status != models.RegWaitlisted {
		t.Errorf("a new retiree is %s while a delegate waits for the conference's last free seats, want waitlisted", retiree.Status)
	}

	// With no conference capacity, the retiree waiting is seated by staff;
	// the next retiree then has nobody ahead who could take their seat.
	s.DB().MustExec(`UPDATE conferences SET capacity = NULL WHERE id = $1`, conf.ID)
	if _, err := s.PromoteNow(context.Background(), retiree.ID, models.Actor{User: models.User{ID: 1, IsStaff: true}}); err != nil {
		t.Fatal(err)
	}
	if r := registerNow(t, s, conf.Slug, "retiree", a[5]); r.Status == models.RegWaitlisted {
		t.Errorf("a new retiree waits in a conference of no capacity, with only delegates waiting")
	}
	if r := registerNow(t, s, conf.Slug, "delegate", a[6]); r.Status != models.RegWaitlisted {
		t.Errorf("a new delegate is %s while a delegate waits for the raised seat, want waitlisted", r.Status)
	}
	if bad := seatCountProblems(t, s, conf.ID); len(bad) > 0 {
		t.Errorf("seat counts: %v", bad)
	}
}
