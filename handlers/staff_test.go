package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"convene/models"
)

func conferenceFormValues() url.Values {
	return url.Values{"slug": {"pal-2027"}, "title": {"Political Action & Leadership Conference"}, "time_zone": {"America/Los_Angeles"},
		"starts_on": {"2027-03-05"}, "ends_on": {"2027-03-07"}, "mode": {"in_person"}, "languages": {"en,es"}, "currency": {"usd"},
		"capacity": {"450"}, "registration_opens_at": {"2027-01-04T09:00"}, "registration_closes_at": {"2027-02-05T23:59"}}
}

// errorBeside returns the message shown under a form field.
func errorBeside(body, field string) string {
	m := regexp.MustCompile(`<p class="error" id="e-` + field + `">([^<]*)</p>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestStaffConferenceFormShowsMessageBesideEachBadField(t *testing.T) {
	ta := newTestApp(t)
	staff := ta.signedIn("staff@example.org", true, false)
	tests := []struct{ name, field, value, errField, want string }{
		{"end before start", "ends_on", "2027-03-01", "ends_on", "The conference ends before it starts."},
		{"unknown time zone", "time_zone", "Pacific/Atlantis", "time_zone", "Unknown time zone"},
		{"closes before opens", "registration_closes_at", "2027-01-01T09:00", "registration_closes_at", "Registration must close after it opens."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := conferenceFormValues()
			f.Set(tc.field, tc.value)
			r := staff.post("/staff/conferences", f)
			if r.Code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", r.Code)
			}
			if got := errorBeside(r.body, tc.errField); !strings.Contains(got, tc.want) {
				t.Errorf("beside %s: %q, want %q", tc.errField, got, tc.want)
			}
			// The person's input is kept.
			mustContain(t, r.body, `value="`+tc.value+`"`, `value="Political Action &amp; Leadership Conference"`)
		})
	}
	if all, _ := ta.Store.AllConferences(t.Context()); len(all) != 0 {
		t.Fatalf("invalid forms saved %d conferences", len(all))
	}
	r := staff.post("/staff/conferences", conferenceFormValues())
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/staff/conferences/pal-2027" {
		t.Fatalf("valid form: %d %s", r.Code, r.body)
	}
	r = staff.post("/staff/conferences", conferenceFormValues())
	if got := errorBeside(r.body, "slug"); !strings.Contains(got, "Another conference already uses this web address.") {
		t.Errorf("duplicate slug: %d %q", r.Code, got)
	}
	// Spanish staff see the messages in Spanish.
	f := conferenceFormValues()
	f.Set("ends_on", "2027-03-01")
	staff.header.Set("Accept-Language", "es")
	r = staff.post("/staff/conferences", f)
	if got := errorBeside(r.body, "ends_on"); got != "La conferencia termina antes de empezar." {
		t.Errorf("Spanish message: %q", got)
	}
}

func TestStaffManageCategoriesAndSessions(t *testing.T) {
	ta := newTestApp(t)
	staff := ta.signedIn("staff@example.org", true, false)
	if r := staff.post("/staff/conferences", conferenceFormValues()); r.Code != http.StatusSeeOther {
		t.Fatal(r.body)
	}
	cat := url.Values{"name": {"Member delegate"}, "price": {"-10"}, "requires_membership": {"1"}, "approver": {"officer"}}
	r := staff.post("/staff/conferences/pal-2027/categories", cat)
	if got := errorBeside(r.body, "price"); r.Code != http.StatusUnprocessableEntity || got != "A price cannot be negative." {
		t.Errorf("negative price: %d %q", r.Code, got)
	}
	cat.Set("price", "150.00")
	cat.Set("early_price", "125")
	cat.Set("early_until", "2027-02-20T23:59")
	r = staff.post("/staff/conferences/pal-2027/categories", cat)
	if got := errorBeside(r.body, "early_until"); got != "The early-bird price must end before registration closes." {
		t.Errorf("late early-bird: %d %q", r.Code, got)
	}
	cat.Set("early_until", "2027-01-20T23:59")
	if r := staff.post("/staff/conferences/pal-2027/categories", cat); r.Code != http.StatusSeeOther {
		t.Fatalf("valid category: %d %s", r.Code, r.body)
	}
	sess := url.Values{"title": {"Opening plenary"}, "kind": {"plenary"}, "starts_at": {"2027-03-08T09:00"}, "ends_at": {"2027-03-08T10:00"}}
	r = staff.post("/staff/conferences/pal-2027/sessions", sess)
	if got := errorBeside(r.body, "starts_at"); got != "The session must fall within the conference&#39;s days." {
		t.Errorf("session outside days: %d %q", r.Code, got)
	}
	sess.Set("starts_at", "2027-03-05T09:00")
	sess.Set("ends_at", "2027-03-05T10:00")
	if r := staff.post("/staff/conferences/pal-2027/sessions", sess); r.Code != http.StatusSeeOther {
		t.Fatalf("valid session: %d", r.Code)
	}
	r = staff.get("/staff/conferences/pal-2027")
	mustContain(t, r.body, "Member delegate", "$150", "early", "$125", "Opening plenary", "Publish")

	// Publish: now the public sees it.
	if r := ta.client().get("/conferences/pal-2027"); r.Code != http.StatusNotFound {
		t.Fatalf("draft visible before publishing: %d", r.Code)
	}
	if r := staff.post("/staff/conferences/pal-2027/status", url.Values{"status": {"published"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("publish: %d", r.Code)
	}
	if r := ta.client().get("/conferences/pal-2027"); r.Code != http.StatusOK {
		t.Fatalf("published conference: %d", r.Code)
	}
	// Moving the closing date before an early-bird date is refused.
	f := conferenceFormValues()
	f.Set("registration_closes_at", "2027-01-10T23:59")
	r = staff.post("/staff/conferences/pal-2027/edit", f)
	if got := errorBeside(r.body, "registration_closes_at"); !strings.Contains(got, "early-bird prices end after this closing time") {
		t.Errorf("closing before early-bird: %d %q", r.Code, got)
	}
	conf, _ := ta.Store.ConferenceBySlug(t.Context(), "pal-2027", true)
	if conf.Status != models.StatusPublished || conf.RegistrationClosesAt.In(conf.Location()).Format("2006-01-02") != "2027-02-05" {
		t.Errorf("a refused edit changed the conference: %+v", conf)
	}
}

func TestStaffConferenceAPI(t *testing.T) {
	ta := newTestApp(t)
	staff := ta.signedIn("staff@example.org", true, false)
	body := map[string]any{"slug": "town-hall", "title": "Town Hall", "time_zone": "America/Chicago", "starts_on": "2027-04-01",
		"ends_on": "2027-04-01", "mode": "virtual", "capacity": nil, "registration_opens_at": "2027-03-01T09:00:00-06:00",
		"registration_closes_at": "2027-03-31T23:59:59-05:00", "payment_due_days": 7}
	r := staff.api("POST", "/api/v1/conferences", body)
	if r.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Code, r.body)
	}
	j := r.json(t)
	if j["status"] != "draft" || j["slug"] != "town-hall" || j["capacity"] != nil || j["payment_due_days"] != float64(7) {
		t.Errorf("created: %s", r.body)
	}
	r = staff.api("POST", "/api/v1/conferences", body)
	if r.Code != http.StatusUnprocessableEntity || r.errorCode(t) != "invalid" {
		t.Errorf("duplicate slug: %d %s", r.Code, r.body)
	}
	bad := map[string]any{"slug": "x", "title": "X", "time_zone": "Nowhere/Land", "starts_on": "2027-04-02", "ends_on": "2027-04-01",
		"registration_opens_at": "2027-03-01", "registration_closes_at": "2027-03-02"}
	r = staff.api("POST", "/api/v1/conferences", bad)
	fields, _ := r.json(t)["error"].(map[string]any)["fields"].(map[string]any)
	if r.Code != http.StatusUnprocessableEntity || fields["time_zone"] == nil || fields["ends_on"] == nil {
		t.Errorf("invalid: %d %s", r.Code, r.body)
	}
	if r := staff.api("POST", "/api/v1/conferences", map[string]any{"slug": "y", "titel": "typo"}); r.Code != http.StatusBadRequest {
		t.Errorf("unknown field: %d %s", r.Code, r.body)
	}

	r = staff.api("POST", "/api/v1/conferences/town-hall/categories", map[string]any{"name": "Member", "price_cents": -100})
	if r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "price_cents") {
		t.Errorf("negative price: %d %s", r.Code, r.body)
	}
	r = staff.api("POST", "/api/v1/conferences/town-hall/categories", map[string]any{"name": "Member", "price_cents": 2500,
		"early_price_cents": 2000, "early_until": "2027-03-15T23:59:00-05:00", "requires_approval": true, "approver": "staff"})
	if r.Code != http.StatusCreated {
		t.Fatalf("category: %d %s", r.Code, r.body)
	}
	if j := r.json(t); j["price_cents"] != float64(2500) || j["early_price_cents"] != float64(2000) || j["requires_approval"] != true || j["slug"] != "member" {
		t.Errorf("category: %s", r.body)
	}
	r = staff.api("PATCH", "/api/v1/conferences/town-hall/categories/member", map[string]any{"price_cents": 3000})
	if r.Code != http.StatusOK || r.json(t)["price_cents"] != float64(3000) || r.json(t)["early_price_cents"] != float64(2000) {
		t.Errorf("patch category: %d %s", r.Code, r.body)
	}
	r = staff.api("POST", "/api/v1/conferences/town-hall/sessions", map[string]any{"title": "Call", "kind": "plenary",
		"starts_at": "2027-04-02T18:00:00-05:00", "ends_at": "2027-04-02T19:00:00-05:00"})
	if r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "within the conference") {
		t.Errorf("session outside: %d %s", r.Code, r.body)
	}
	r = staff.api("POST", "/api/v1/conferences/town-hall/sessions", map[string]any{"title": "Call", "kind": "plenary",
		"starts_at": "2027-04-01T18:00", "ends_at": "2027-04-01T19:00", "room": "Online"})
	if r.Code != http.StatusCreated {
		t.Fatalf("session: %d %s", r.Code, r.body)
	}
	if got := r.json(t)["starts_at"]; got != "2027-04-01T23:00:00Z" && got != "2027-04-01T18:00:00-05:00" {
		t.Errorf("18:00 Chicago stored as %v", got)
	}

	// Publish through PATCH; the public API now lists it with categories and sessions.
	r = staff.api("PATCH", "/api/v1/conferences/town-hall", map[string]any{"status": "published", "title": "Members' Town Hall"})
	if r.Code != http.StatusOK || r.json(t)["status"] != "published" || r.json(t)["title"] != "Members' Town Hall" {
		t.Fatalf("publish: %d %s", r.Code, r.body)
	}
	r = ta.client().get("/api/v1/conferences/town-hall")
	j = r.json(t)
	if r.Code != http.StatusOK || len(j["categories"].([]any)) != 1 || len(j["sessions"].([]any)) != 1 {
		t.Errorf("public conference: %d %s", r.Code, r.body)
	}
	if r := staff.api("PATCH", "/api/v1/conferences/town-hall", map[string]any{"status": "bogus"}); r.Code != http.StatusUnprocessableEntity {
		t.Errorf("bogus status: %d", r.Code)
	}
}

func TestAdminSetsStaffFlag(t *testing.T) {
	ta := newTestApp(t)
	admin := ta.signedIn("admin@example.org", true, true)
	ta.user("priya@example.org", false, false)
	r := admin.api("PATCH", "/api/v1/users/priya@example.org", map[string]any{"staff": true})
	if r.Code != http.StatusOK || r.json(t)["staff"] != true {
		t.Fatalf("%d %s", r.Code, r.body)
	}
	if r := admin.api("PATCH", "/api/v1/users/nobody@example.org", map[string]any{"staff": true}); r.Code != http.StatusNotFound {
		t.Errorf("unknown user: %d", r.Code)
	}
}
