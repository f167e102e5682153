package handlers_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestRegistrationsCSV(t *testing.T) {
	w := newRegWorld(t)
	m := w.ta.signedIn("ana@example.org", false, false)
	f := registrationForm("=HYPERLINK(\"http://evil.example\")", "Cortés", "4121", "1002")
	f.Set("dietary", "+1 vegetarian")
	f.Set("email", "ana@example.org")
	if r := m.post("/conferences/pal/register", f); r.Code != http.StatusSeeOther {
		t.Fatalf("register: %d", r.Code)
	}
	g := w.ta.signedIn("grace@example.org", false, false)
	if r := g.post("/conferences/pal/register", registrationForm("Grace", "Liu", "7600", "2001")); r.Code != http.StatusSeeOther {
		t.Fatalf("register: %d", r.Code)
	}
	read := func(c *client) [][]string {
		t.Helper()
		r := c.get("/staff/conferences/pal/registrations.csv")
		if r.Code != http.StatusOK || !strings.HasPrefix(r.Header().Get("Content-Type"), "text/csv") {
			t.Fatalf("csv: %d %s", r.Code, r.body)
		}
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	staff := w.ta.signedIn("staff@example.org", true, false)
	rows := read(staff)
	if len(rows) != 3 {
		t.Fatalf("staff CSV has %d rows, want header + 2", len(rows))
	}
	head := strings.Join(rows[0], ",")
	for _, col := range []string{"accessibility", "interpretation", "childcare_count", "childcare_ages", "dietary", "workshops", "local", "member_number", "emergency_contact",
		"registered_at (America/Los_Angeles)", "checked_in_at (America/Los_Angeles)"} {
		if !strings.Contains(head, col) {
			t.Errorf("CSV has no %s column", col)
		}
	}
	all := strings.Join(rows[1], "|") + strings.Join(rows[2], "|")
	if !strings.Contains(all, `'=HYPERLINK`) || !strings.Contains(all, "'+1 vegetarian") || strings.Contains(all, "|=HYPERLINK") {
		t.Errorf("formula cells not neutralised: %s", all)
	}
	if !strings.Contains(all, "Wheelchair access") || !strings.Contains(all, "Spanish") || !strings.Contains(all, "3, 7") {
		t.Errorf("needs missing: %s", all)
	}
	// An officer gets their local only.
	rows = read(w.officer("7600"))
	if len(rows) != 2 || rows[1][3] != "Grace" {
		t.Errorf("officer 7600's CSV: %v", rows)
	}
	if r := m.get("/staff/conferences/pal/registrations.csv"); r.Code != http.StatusForbidden {
		t.Errorf("member CSV: %d", r.Code)
	}
	if r := w.officer("7600").get("/staff/conferences/pal/registrations.csv?local=4121"); r.Code != http.StatusForbidden {
		t.Errorf("officer asking for another local's CSV: %d", r.Code)
	}
	d := staff.get("/staff/conferences/pal/dashboard")
	mustContain(t, d.body, "<svg", "Registrations by status", "Local 4121", "Local 7600", "with accessibility needs", "4</strong> children")
	_ = url.Values{}
}
