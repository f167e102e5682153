package models_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"convene/models"
)

func TestLocalsAndOfficers(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	admin := actor(t, s, "admin@example.org", true)

	l, err := s.CreateLocalBy(ctx, admin.User.ID, models.LocalInput{Number: " 4121 ", Name: "Harbor City Academic Workers", Union: "UAW", Region: "Region 6", City: "Los Angeles"})
	if err != nil || l.Number != "4121" {
		t.Fatalf("create: %+v %v", l, err)
	}
	_, err = s.CreateLocalBy(ctx, admin.User.ID, models.LocalInput{Number: "4121", Name: "Again"})
	if !errors.Is(err, models.ErrDuplicate) || fieldErr(t, err, "number") != "A local with this number already exists." {
		t.Errorf("duplicate number: %v", err)
	}
	if _, err := s.CreateLocalBy(ctx, admin.User.ID, models.LocalInput{Number: "76 00"}); fieldErr(t, err, "name") == "" || fieldErr(t, err, "number") == "" {
		t.Errorf("bad input: %v", err)
	}
	s.CreateLocal(ctx, models.LocalInput{Number: "7600", Name: "Inland Valley Health Care Workers", City: "Riverside"})
	s.CreateLocal(ctx, models.LocalInput{Number: "41", Name: "Fifty_Percent Local"})

	for q, want := range map[string][]string{
		"":          {"41", "4121", "7600"},
		"41":        {"41", "4121"},
		"inland":    {"7600"},
		"riverside": {"7600"},
		"_":         {"41"}, // LIKE wildcards match themselves
		"%":         {},
	} {
		got, err := s.SearchLocals(ctx, q, 20)
		if err != nil {
			t.Fatal(err)
		}
		var nums []string
		for _, l := range got {
			nums = append(nums, l.Number)
		}
		if len(nums) != len(want) || (len(want) > 0 && !equal(nums, want)) {
			t.Errorf("search %q = %v, want %v", q, nums, want)
		}
	}

	officer := actor(t, s, "Officer@Example.org", false)
	if _, _, err := s.AppointOfficer(ctx, admin.User.ID, l.ID, "nobody@example.org"); !errors.Is(err, models.ErrNoAccount) || !errors.Is(err, models.ErrNotFound) {
		t.Errorf("unknown email: %v", err)
	}
	u, added, err := s.AppointOfficer(ctx, admin.User.ID, l.ID, " OFFICER@example.org ")
	if err != nil || !added || u.ID != officer.User.ID {
		t.Fatalf("appoint: %v %v", added, err)
	}
	if _, added, err := s.AppointOfficer(ctx, admin.User.ID, l.ID, "officer@example.org"); err != nil || added {
		t.Errorf("appointing twice: added=%v %v", added, err)
	}
	if os, _ := s.LocalOfficers(ctx, l.ID); len(os) != 1 || os[0].Email != "officer@example.org" {
		t.Errorf("officers: %+v", os)
	}
	sums, _ := s.LocalSummaries(ctx)
	if len(sums) != 3 || sums[1].Number != "4121" || sums[1].Officers != 1 {
		t.Errorf("summaries: %+v", sums)
	}
	if err := s.RemoveOfficer(ctx, admin.User.ID, l.ID, officer.User.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveOfficer(ctx, admin.User.ID, l.ID, officer.User.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("removing twice: %v", err)
	}
	if ls, _ := s.OfficerLocals(ctx, officer.User.ID); len(ls) != 0 {
		t.Errorf("still an officer of %+v", ls)
	}

	// Created, appointed once, removed once: three audit entries, with who did it.
	h, _ := s.History(ctx, "local", l.ID)
	var actions []string
	for _, e := range h {
		actions = append(actions, e.Action)
		if e.ActorID == nil || *e.ActorID != admin.User.ID {
			t.Errorf("%s recorded without its actor", e.Action)
		}
	}
	if !equal(actions, []string{"local_created", "officer_added", "officer_removed"}) {
		t.Errorf("audit: %v", actions)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRosterImport(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	staff := actor(t, s, "staff@example.org", true)
	l, _ := s.CreateLocal(ctx, models.LocalInput{Number: "4121", Name: "Harbor City Academic Workers"})
	first := "Member #,First Name,Last Name,Email,Standing\n" +
		"1001,Luis,Chávez-Nava,luis@example.org,good\n" +
		"1002,Ana,Cortés,ana@example.org,good\n" +
		"1003,Sam,Okafor,,good\n" +
		"1004,Jordan,Reyes,,good\n" +
		"1005,Grace,Liu,,good\n"
	c, _, err := s.ApplyRoster(ctx, l.ID, staff.User.ID, []byte(first))
	if err != nil || c != (models.RosterCounts{Added: 5}) {
		t.Fatalf("first import: %+v %v", c, err)
	}
	// 1001 unchanged; 1002 renamed; 1003 now lapsed; 1004 has a bad email (its
	// line is skipped, so it is neither updated nor lapsed); 1005 is missing
	// (lapsed); 1006 is new.
	second := "Member #,First Name,Last Name,Email,Standing\n" +
		"1001,Luis,Chávez-Nava,,good\n" +
		"1002,Ana María,Cortés,ana@example.org,good\n" +
		"1003,Sam,Okafor,,lapsed\n" +
		"1004,Jordan,Reyes,jordan at example.org,good\n" +
		"1006,Eve,Stone,eve@example.org,good\n"
	p, err := s.PreviewRoster(ctx, l.ID, []byte(second))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Add) != 1 || p.Add[0].MemberNumber != "1006" || len(p.Update) != 2 || p.Before[0].FirstName != "Ana" ||
		p.Unchanged != 1 || len(p.Lapse) != 1 || p.Lapse[0].MemberNumber != "1005" || len(p.Errors) != 1 || p.Errors[0].Line != 5 {
		t.Fatalf("preview: %+v", p)
	}
	if st, _ := s.RosterStatsFor(ctx, l.ID); st.Total != 5 || st.Good != 5 {
		t.Errorf("a preview changed the roster: %+v", st)
	}

	id, err := s.SaveRosterUpload(ctx, l.ID, staff.User.ID, "roster.csv", []byte(second))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := s.CreateLocal(ctx, models.LocalInput{Number: "7600", Name: "Inland Valley"})
	if _, _, err := s.ApplyRosterUpload(ctx, other.ID, id, staff.User.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("applied through another local: %v", err)
	}
	// Confirmations at once (a double click, two officers): one applies, the
	// others are told it was applied. Several rounds, so that the test fails
	// reliably without the row lock.
	for round := range 5 {
		if round > 0 {
			if id, err = s.SaveRosterUpload(ctx, l.ID, staff.User.ID, "roster.csv", []byte(second)); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, 8)
		counts := make([]models.RosterCounts, len(errs))
		for i := range errs {
			wg.Go(func() { counts[i], _, errs[i] = s.ApplyRosterUpload(ctx, l.ID, id, staff.User.ID) })
		}
		wg.Wait()
		applied := 0
		for i, err := range errs {
			switch {
			case err == nil:
				applied++
				want := models.RosterCounts{Unchanged: 4, Errors: 1}
				if round == 0 {
					want = models.RosterCounts{Added: 1, Updated: 2, Unchanged: 1, Lapsed: 1, Errors: 1}
				}
				if counts[i] != want {
					t.Errorf("round %d counts: %+v", round, counts[i])
				}
			case !errors.Is(err, models.ErrUploadApplied):
				t.Errorf("round %d, another confirmation: %v", round, err)
			}
		}
		if applied != 1 {
			t.Fatalf("round %d: applied %d times", round, applied)
		}
	}
	st, _ := s.RosterStatsFor(ctx, l.ID)
	if st.Total != 6 || st.Lapsed != 2 || st.LastImportAt == nil || st.LastImportBy != "Test staff@example.org" {
		t.Errorf("stats: %+v", st)
	}
	if e, _ := s.RosterEntry(ctx, s.DB(), l.ID, "1004"); e.Standing != "good" || e.Email != "" {
		t.Errorf("member on a bad line changed: %+v", e)
	}
	if e, _ := s.RosterEntry(ctx, s.DB(), l.ID, "1001"); e.Email != "luis@example.org" {
		t.Errorf("a blank email erased the known one: %+v", e)
	}
	if u, _ := s.RosterUploadByID(ctx, l.ID, id); u.AppliedAt == nil || len(u.Content) != 0 {
		t.Errorf("applied upload still holds the file: %d bytes", len(u.Content))
	}
	h, _ := s.History(ctx, "local", l.ID)
	var last map[string]any
	json.Unmarshal(h[len(h)-1].Details, &last)
	if len(h) != 6 || last["filename"] != "roster.csv" || last["lapsed"] != 0.0 {
		t.Errorf("audit: %d entries, last %v", len(h), last)
	}

	// An upload not applied within a day cannot be applied any more.
	old, _ := s.SaveRosterUpload(ctx, l.ID, staff.User.ID, "old.csv", []byte(first))
	s.DB().MustExec(`UPDATE roster_imports SET created_at = now() - interval '25 hours' WHERE id = $1`, old)
	if _, _, err := s.ApplyRosterUpload(ctx, l.ID, old, staff.User.ID); !errors.Is(err, models.ErrUploadExpired) {
		t.Errorf("day-old upload: %v", err)
	}
	if u, _ := s.RosterUploadByID(ctx, l.ID, old); !errors.Is(u.Usable(), models.ErrUploadExpired) {
		t.Errorf("day-old upload usable: %v", u.Usable())
	}
	s.SaveRosterUpload(ctx, l.ID, staff.User.ID, "new.csv", []byte(first))
	if _, err := s.RosterUploadByID(ctx, l.ID, old); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("a stale upload was kept: %v", err)
	}

	// A member number written in another case is the same member.
	other2, _ := s.CreateLocal(ctx, models.LocalInput{Number: "5810", Name: "Central Valley"})
	s.ApplyRoster(ctx, other2.ID, staff.User.ID, []byte("Card No.,First,Last\nA100,Ana,Ruiz\n"))
	c, _, err = s.ApplyRoster(ctx, other2.ID, staff.User.ID, []byte("Card No.,First,Last\na100,Ana,Ruiz Soto\n"))
	if all, _ := s.Roster(ctx, other2.ID); err != nil || c.Updated != 1 || len(all) != 1 || all[0].LastName != "Ruiz Soto" || all[0].MemberNumber != "A100" {
		t.Errorf("member number in another case: %+v %+v %v", c, all, err)
	}

	found, _ := s.SearchRoster(ctx, l.ID, "cortés", "", 10)
	if len(found) != 1 || found[0].FirstName != "Ana María" {
		t.Errorf("search by last name: %+v", found)
	}
	found, _ = s.SearchRoster(ctx, l.ID, "", "lapsed", 10)
	if len(found) != 2 {
		t.Errorf("lapsed: %+v", found)
	}
	found, _ = s.SearchRoster(ctx, l.ID, "100", "", 3)
	if len(found) != 3 {
		t.Errorf("by number, limited: %d", len(found))
	}
}
