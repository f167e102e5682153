package models_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"convene/models"
)

func TestTicketTokenReadsWhatScannersType(t *testing.T) {
	tok := "0123456789ABCDEFGHJKMNPQRS"
	for _, in := range []string{
		tok, " " + tok + "\n", "0123456789abcdefghjkmnpqrs", "http://convene.test/t/" + tok,
		"https://x.example/t/" + tok + "/", "http://convene.test/t/" + tok + "?utm=1",
		"O123456789ABCDEFGHJKMNPQRS", "0123-4567-89AB-CDEF-GHJK-MNPQRS",
	} {
		if got, ok := models.TicketToken(in); !ok || got != tok {
			t.Errorf("TicketToken(%q) = %q, %v; want %q", in, got, ok, tok)
		}
	}
	for _, in := range []string{"", "abc", tok + "0", tok[:25], "0123456789ABCDEFGHJKMNPQR!", "' OR 1=1 --", "0123456789ABCDEFGHJKMNPQRU"} {
		if got, ok := models.TicketToken(in); ok {
			t.Errorf("TicketToken(%q) = %q, want no token", in, got)
		}
	}
}

// confirmed registers a confirmed member of local 4121 (staff registrations
// of a free category confirm at once).
func (f *regFixture) confirmed(t *testing.T, first, last, number string) models.Registration {
	t.Helper()
	r, err := f.register(t, f.staff, models.RegistrationInput{FirstName: first, LastName: last, Local: "4121",
		MemberNumber: number, Email: fmt.Sprintf("%s.%s@example.org", first, number)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != models.RegConfirmed {
		t.Fatalf("fixture registration is %s, want confirmed", r.Status)
	}
	return r
}

func auditCount(t *testing.T, s *models.Store, action string) int {
	t.Helper()
	var n int
	if err := s.DB().Get(&n, `SELECT count(*) FROM audit_log WHERE action = $1`, action); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTwentyDesksScanOneBadge fires the same code from 20 goroutines at once:
// exactly one checks in, 19 see "already checked in", and one audit entry
// is written. The control run switches the guard off and must see more
// than one check-in, which shows the test can fail.
//
// The desks are in one app process, whose batches keep scans of one badge
// apart, or spread over four (four Stores, five desks each), where only the
// database's row lock does; there each desk first scans a badge of its own,
// so the shared badge's scans meet batches that hold others.
func TestTwentyDesksScanOneBadge(t *testing.T) {
	for _, processes := range []int{1, 4} {
		for _, guard := range []bool{true, false} {
			t.Run(fmt.Sprintf("processes=%d/guard=%v", processes, guard), func(t *testing.T) {
				f := newRegFixture(t)
				r := f.confirmed(t, "Ana", "Cortés", "1002")
				var own []string
				if processes > 1 {
					for tok := range f.badges(t, 20) {
						own = append(own, tok)
					}
				}
				models.SetCheckinGuard(guard)
				defer models.SetCheckinGuard(true)
				counts := map[string]int{}
				var mu sync.Mutex
				var wg sync.WaitGroup
				start := make(chan struct{})
				for p := range processes {
					s := f.s
					if processes > 1 {
						s = models.NewStore(f.s.DB())
					}
					for d := range 20 / processes {
						wg.Go(func() {
							<-start
							if own != nil {
								if _, _, err := s.CheckIn(context.Background(), f.conf.Slug, own[p*20/processes+d], "", f.staff); err != nil {
									t.Errorf("check-in: %v", err)
								}
							}
							ci, _, err := s.CheckIn(context.Background(), f.conf.Slug, *r.TicketToken, "", f.staff)
							mu.Lock()
							defer mu.Unlock()
							if err != nil {
								t.Errorf("check-in: %v", err)
								return
							}
							counts[ci.Result]++
						})
					}
				}
				close(start)
				wg.Wait()
				if !guard {
					if counts[models.CheckedIn] <= 1 {
						t.Fatalf("control: with the guard off only %d checked in, so the test cannot detect double check-ins", counts[models.CheckedIn])
					}
					t.Logf("control run checked the badge in %d times, as expected", counts[models.CheckedIn])
					return
				}
				if counts[models.CheckedIn] != 1 || counts[models.AlreadyCheckedIn] != 19 {
					t.Errorf("results %v, want 1 checked_in and 19 already_checked_in", counts)
				}
				if n := auditCount(t, f.s, "checked_in"); n != 1+len(own) {
					t.Errorf("%d check-in audit entries, want 1 (and one for each desk's own badge: %d)", n, len(own))
				}
			})
		}
	}
}

func TestCheckInResultsThatChangeNothing(t *testing.T) {
	f := newRegFixture(t)
	ctx := context.Background()
	otherConf, err := f.s.CreateConference(ctx, validConference("other"))
	if err != nil {
		t.Fatal(err)
	}
	otherConf, _ = f.s.SetConferenceStatus(ctx, otherConf.ID, models.StatusPublished)
	if _, err := f.s.CreateCategory(ctx, otherConf, models.CategoryInput{Slug: "open", Name: "Open", Price: "0"}); err != nil {
		t.Fatal(err)
	}
	elsewhere, err := f.s.Register(ctx, otherConf, models.RegistrationInput{Category: "open", FirstName: "Grace", LastName: "Liu",
		Email: "grace@example.org"}, f.staff, f.now)
	if err != nil || elsewhere.Status != models.RegConfirmed {
		t.Fatalf("registration elsewhere: %v %s", err, elsewhere.Status)
	}
	cancelled := f.confirmed(t, "Sam", "Okafor", "1003")
	if cancelled, err = f.s.Cancel(ctx, cancelled.ID, f.staff); err != nil {
		t.Fatal(err)
	}
	pending, err := f.register(t, f.member, models.RegistrationInput{Category: "organizing", FirstName: "Jordan", LastName: "Reyes"})
	if err != nil || pending.Status != models.RegPending {
		t.Fatalf("pending fixture: %v %s", err, pending.Status)
	}
	unpaid, err := f.register(t, f.staff, models.RegistrationInput{Category: "paid", FirstName: "Luis", LastName: "Chávez-Nava",
		Local: "4121", MemberNumber: "1001", Email: "luis@example.org"})
	if err != nil || unpaid.Status != models.RegAwaitingPayment {
		t.Fatalf("unpaid fixture: %v %s", err, unpaid.Status)
	}
	forged := models.NewTicketToken()
	tests := []struct {
		name, code, want string
		id               int64
	}{
		{"forged code", forged, models.UnknownCode, 0},
		{"forged QR text", "http://convene.test/t/" + forged, models.UnknownCode, 0},
		{"garbage", "'; DROP TABLE registrations; --", models.UnknownCode, 0},
		{"another conference", *elsewhere.TicketToken, models.WrongConference, elsewhere.ID},
		{"cancelled", *cancelled.TicketToken, models.CancelledTicket, cancelled.ID},
		{"not yet approved", *pending.TicketToken, models.NotConfirmed, pending.ID},
		{"approved, not paid", *unpaid.TicketToken, models.NotConfirmed, unpaid.ID},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before models.Registration
			if tt.id != 0 {
				before, _ = f.s.Registration(ctx, tt.id)
			}
			for _, nonce := range []string{"", fmt.Sprintf("n-%d", i)} {
				ci, _, err := f.s.CheckIn(ctx, f.conf.Slug, tt.code, nonce, f.staff)
				if err != nil {
					t.Fatal(err)
				}
				if ci.Result != tt.want {
					t.Errorf("nonce %q: result %s, want %s", nonce, ci.Result, tt.want)
				}
				if (ci.Registration == nil) != (tt.id == 0) {
					t.Errorf("nonce %q: registration %v, want one only for known codes", nonce, ci.Registration)
				}
			}
			if tt.id != 0 {
				after, _ := f.s.Registration(ctx, tt.id)
				if after.CheckedInAt != nil || after.Status != before.Status || !after.UpdatedAt.Equal(before.UpdatedAt) {
					t.Errorf("refused check-in changed the registration: %+v", after)
				}
			}
		})
	}
	if n := auditCount(t, f.s, "checked_in"); n != 0 {
		t.Errorf("%d check-ins audited, want none", n)
	}
	if _, _, err := f.s.CheckIn(ctx, "no-such-conference", forged, "n-x", f.staff); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("unknown conference: %v, want ErrNotFound", err)
	}
	if _, _, err := f.s.CheckIn(ctx, "no-such-conference", *elsewhere.TicketToken, "", f.staff); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("unknown conference, known code: %v, want ErrNotFound", err)
	}
	if _, _, err := f.s.CheckIn(ctx, f.conf.Slug, forged, "", f.member); !errors.Is(err, models.ErrForbidden) {
		t.Errorf("a member checking in: %v, want ErrForbidden", err)
	}
	if _, _, err := f.s.CheckIn(ctx, f.conf.Slug, forged, "", f.officer); !errors.Is(err, models.ErrForbidden) {
		t.Errorf("an officer checking in: %v, want ErrForbidden", err)
	}
}

func TestNonceReplaysTheFirstAnswer(t *testing.T) {
	f := newRegFixture(t)
	ctx := context.Background()
	r := f.confirmed(t, "Ana", "Cortés", "1002")
	other := f.confirmed(t, "Jordan", "Reyes", "1004")

	first, replayed, err := f.s.CheckIn(ctx, f.conf.Slug, *r.TicketToken, "scan-1", f.staff)
	if err != nil || first.Result != models.CheckedIn || replayed {
		t.Fatalf("first scan: %+v replayed=%v err=%v", first.Result, replayed, err)
	}
	again, replayed, err := f.s.CheckIn(ctx, f.conf.Slug, *r.TicketToken, "scan-1", f.staff)
	if err != nil || again.Result != models.CheckedIn || !replayed || !again.Registration.CheckedInAt.Equal(*first.Registration.CheckedInAt) {
		t.Errorf("replay: %s replayed=%v err=%v, want the first answer", again.Result, replayed, err)
	}
	// A new nonce is a new scan.
	if second, _, _ := f.s.CheckIn(ctx, f.conf.Slug, *r.TicketToken, "scan-2", f.staff); second.Result != models.AlreadyCheckedIn {
		t.Errorf("new nonce: %s, want already_checked_in", second.Result)
	}
	// The same nonce for another code is refused, and does not check it in.
	if _, _, err := f.s.CheckIn(ctx, f.conf.Slug, *other.TicketToken, "scan-1", f.staff); !errors.Is(err, models.ErrNonceReused) {
		t.Errorf("nonce reused for another code: %v, want ErrNonceReused", err)
	}
	if got, _ := f.s.Registration(ctx, other.ID); got.CheckedInAt != nil {
		t.Error("a refused nonce checked someone in")
	}
	// Nonces belong to the person: another staff member's "scan-1" is theirs.
	staff2 := actor(t, f.s, "staff2@example.org", true)
	if ci, replayed, err := f.s.CheckIn(ctx, f.conf.Slug, *other.TicketToken, "scan-1", staff2); err != nil || replayed || ci.Result != models.CheckedIn {
		t.Errorf("another person's nonce: %s replayed=%v err=%v", ci.Result, replayed, err)
	}
	for _, bad := range []string{"with space", string(make([]byte, 101))} {
		var ve *models.ValidationError
		if _, _, err := f.s.CheckIn(ctx, f.conf.Slug, *r.TicketToken, bad, f.staff); !errors.As(err, &ve) {
			t.Errorf("nonce %q: %v, want a validation error", bad, err)
		}
	}
	if n := auditCount(t, f.s, "checked_in"); n != 2 {
		t.Errorf("%d check-ins audited, want 2", n)
	}
}

// TestNonceRetriesRacingTheFirst sends one nonce from 20 goroutines at once:
// one request does the work, the others wait for it and replay its answer.
func TestNonceRetriesRacingTheFirst(t *testing.T) {
	f := newRegFixture(t)
	r := f.confirmed(t, "Ana", "Cortés", "1002")
	var wg sync.WaitGroup
	var mu sync.Mutex
	results := map[string]int{}
	replays := 0
	start := make(chan struct{})
	for range 20 {
		wg.Go(func() {
			<-start
			ci, replayed, err := f.s.CheckIn(context.Background(), f.conf.Slug, *r.TicketToken, "retry-me", f.staff)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("check-in: %v", err)
				return
			}
			results[ci.Result]++
			if replayed {
				replays++
			}
		})
	}
	close(start)
	wg.Wait()
	if results[models.CheckedIn] != 20 || replays != 19 {
		t.Errorf("results %v with %d replays; want 20 checked_in answers, 19 of them replays", results, replays)
	}
}

func TestUndoCheckInIsAudited(t *testing.T) {
	f := newRegFixture(t)
	ctx := context.Background()
	r := f.confirmed(t, "Ana", "Cortés", "1002")
	if _, err := f.s.UndoCheckIn(ctx, r.ID, f.staff); !errors.Is(err, models.ErrConflict) {
		t.Errorf("undo before check-in: %v, want ErrConflict", err)
	}
	if _, _, err := f.s.CheckIn(ctx, f.conf.Slug, *r.TicketToken, "", f.staff); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.UndoCheckIn(ctx, r.ID, f.officer); !errors.Is(err, models.ErrForbidden) {
		t.Errorf("undo by an officer: %v, want ErrForbidden", err)
	}
	ci, err := f.s.UndoCheckIn(ctx, r.ID, f.staff)
	if err != nil || ci.Registration.CheckedInAt != nil || ci.Result != models.ReadyToCheckIn {
		t.Fatalf("undo: %+v %v", ci, err)
	}
	if _, err := f.s.UndoCheckIn(ctx, 999999, f.staff); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("undo of nobody: %v, want ErrNotFound", err)
	}
	h, _ := f.s.History(ctx, "registration", r.ID)
	last := h[len(h)-1]
	if last.Action != "checkin_undone" || last.ActorID == nil || *last.ActorID != f.staff.User.ID {
		t.Errorf("last history entry %+v, want checkin_undone by staff", last)
	}
	// Checked in again after the undo.
	if ci, _, _ := f.s.CheckIn(ctx, f.conf.Slug, *r.TicketToken, "", f.staff); ci.Result != models.CheckedIn {
		t.Errorf("check-in after undo: %s", ci.Result)
	}
}

func TestCheckinCountsAndSearch(t *testing.T) {
	f := newRegFixture(t)
	ctx := context.Background()
	ana := f.confirmed(t, "Ana", "Cortés", "1002")
	f.confirmed(t, "Jordan", "Reyes", "1004")
	if _, err := f.s.Register(ctx, f.conf, models.RegistrationInput{Category: "member-delegate", FirstName: "Grace", LastName: "Liu",
		Email: "grace@example.org", Local: "7600", MemberNumber: "2001"}, f.staff, f.now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.s.CheckIn(ctx, f.conf.Slug, *ana.TicketToken, "", f.staff); err != nil {
		t.Fatal(err)
	}
	c, err := f.s.CheckinCounts(ctx, f.conf.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.CheckedIn != 1 || c.Expected != 3 || len(c.ByLocal) != 2 || c.ByLocal[0].Key != "4121" || c.ByLocal[0].CheckedIn != 1 || c.ByLocal[0].Expected != 2 {
		t.Errorf("counts %+v", c)
	}
	for q, want := range map[string]string{"cortes": "Ana", "ANA COR": "Ana", "Cortés, Ana": "Ana", "reyes": "Jordan", "7600": "Grace",
		"Local 7600": "Grace", "1004": "Jordan", "%": "", "zzz": ""} {
		got, err := f.s.SearchAttendees(ctx, f.conf.ID, q, 20)
		if err != nil {
			t.Fatal(err)
		}
		if want == "" {
			if len(got) != 0 {
				t.Errorf("search %q found %d", q, len(got))
			}
			continue
		}
		if len(got) != 1 || got[0].Registration.FirstName != want {
			t.Errorf("search %q: %d results, want %s", q, len(got), want)
		}
	}
	got, _ := f.s.SearchAttendees(ctx, f.conf.ID, "ana", 20)
	if len(got) == 1 && (got[0].Result != models.AlreadyCheckedIn || got[0].CheckedInByName != f.staff.User.Name) {
		t.Errorf("search result %s by %q", got[0].Result, got[0].CheckedInByName)
	}
}

func TestAPITokens(t *testing.T) {
	f := newRegFixture(t)
	ctx := context.Background()
	if _, _, err := f.s.CreateAPIToken(ctx, f.officer.User, "Desk 1"); !errors.Is(err, models.ErrForbidden) {
		t.Errorf("officer creating a token: %v", err)
	}
	if _, _, err := f.s.CreateAPIToken(ctx, f.staff.User, " "); err == nil {
		t.Error("a token without a name was made")
	}
	tok, secret, err := f.s.CreateAPIToken(ctx, f.staff.User, "Desk 1 scanner")
	if err != nil || !models.LooksLikeAPIToken(secret) || tok.Hint != secret[len(secret)-4:] {
		t.Fatalf("create: %+v %q %v", tok, secret, err)
	}
	var stored int
	f.s.DB().Get(&stored, `SELECT count(*) FROM api_tokens WHERE token_hash = convert_to($1, 'UTF8') OR name = $1 OR hint = $1`, secret)
	if stored != 0 {
		t.Error("the token is stored in clear")
	}
	u, err := f.s.TokenUser(ctx, secret, "192.0.2.1")
	if err != nil || u.ID != f.staff.User.ID || !u.IsStaff {
		t.Fatalf("lookup: %+v %v", u, err)
	}
	list, _ := f.s.APITokens(ctx)
	if len(list) != 1 || list[0].LastUsedAt == nil || list[0].UserName != f.staff.User.Name {
		t.Errorf("list %+v", list)
	}
	// A staff member who loses the flag loses their tokens too.
	f.s.SetRoles(ctx, f.staff.User.ID, false, false)
	if _, err := f.s.TokenUser(ctx, secret, "192.0.2.1"); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("token of a former staff member: %v", err)
	}
	f.s.SetRoles(ctx, f.staff.User.ID, true, false)
	staff2 := actor(t, f.s, "staff2@example.org", true)
	if _, err := f.s.RevokeAPIToken(ctx, tok.ID, staff2.User); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.RevokeAPIToken(ctx, tok.ID, staff2.User); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("revoking twice: %v", err)
	}
	if _, err := f.s.TokenUser(ctx, secret, "192.0.2.1"); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("revoked token: %v", err)
	}
	// Unknown tokens are throttled per address; revoked ones do not count.
	for i := range models.TokenFailuresPerAddress {
		if _, err := f.s.TokenUser(ctx, fmt.Sprintf("cvt_guess%039d", i), "198.51.100.7"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	if _, err := f.s.TokenUser(ctx, "cvt_one-more", "198.51.100.7"); !errors.Is(err, models.ErrThrottled) {
		t.Errorf("after %d guesses: %v, want ErrThrottled", models.TokenFailuresPerAddress, err)
	}
	if _, err := f.s.TokenUser(ctx, "cvt_one-more", "192.0.2.1"); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("another address: %v, want ErrNotFound", err)
	}
	if n := auditCount(t, f.s, "api_token_revoked"); n != 1 {
		t.Errorf("%d revocations audited", n)
	}
}

// TestACheckInCommitsAsynchronouslyOnlyItself: a check-in batch turns
// synchronous_commit off for its own transaction, never for the connection,
// which the pool then hands to registrations and payments that must reach
// the disk before they answer. With one connection in the pool, whatever
// runs after a check-in runs on the connection the check-in used.
func TestACheckInCommitsAsynchronouslyOnlyItself(t *testing.T) {
	f := newRegFixture(t)
	ctx := context.Background()
	r := f.confirmed(t, "Lucía", "Chávez-Nava", "1003")
	f.s.DB().SetMaxOpenConns(1)
	f.s.DB().SetMaxIdleConns(1)
	// Whatever the server's default, the connection starts with it on.
	if _, err := f.s.DB().Exec(`SET synchronous_commit = on`); err != nil {
		t.Fatal(err)
	}
	ci, _, err := f.s.CheckIn(ctx, f.conf.Slug, *r.TicketToken, "n-async", f.staff)
	if err != nil || ci.Result != models.CheckedIn {
		t.Fatalf("check-in: %+v, %v; want checked_in", ci, err)
	}
	var setting string
	if err := f.s.DB().Get(&setting, `SHOW synchronous_commit`); err != nil {
		t.Fatal(err)
	}
	if setting != "on" {
		t.Errorf("after a check-in its connection has synchronous_commit %q, want on", setting)
	}
	// The check-in itself is committed and seen at once: a second scan of
	// the badge says so, and one audit entry was written.
	again, _, err := f.s.CheckIn(ctx, f.conf.Slug, *r.TicketToken, "", f.staff)
	if err != nil || again.Result != models.AlreadyCheckedIn {
		t.Errorf("second scan: %+v, %v; want already_checked_in", again, err)
	}
	if n := auditCount(t, f.s, "checked_in"); n != 1 {
		t.Errorf("%d check-ins audited, want 1", n)
	}
}
