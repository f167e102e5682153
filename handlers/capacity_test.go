package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"convene/models"
)

// guest is a free registration type anyone may register for.
var guest = models.CategoryInput{Slug: "guest", Name: "Guest", Price: "0"}

// limitedConference publishes a conference, changes what edit changes in it
// (its capacity, its deadlines) and gives it these registration types.
func (ta *testApp) limitedConference(slug string, edit func(models.Conference, *models.ConferenceInput), types ...models.CategoryInput) models.Conference {
	ta.t.Helper()
	ctx := context.Background()
	conf := ta.conference(slug, models.StatusPublished)
	in := conf.Input()
	edit(conf, &in)
	conf, err := ta.Store.UpdateConference(ctx, conf.ID, in)
	if err != nil {
		ta.t.Fatal(err)
	}
	for _, c := range types {
		if _, err := ta.Store.CreateCategory(ctx, conf, c); err != nil {
			ta.t.Fatal(err)
		}
	}
	return conf
}

func TestFullConferenceWaitlistsThroughTheAPIAndPages(t *testing.T) {
	ta := newTestApp(t)
	ta.limitedConference("small", func(conf models.Conference, in *models.ConferenceInput) {
		in.Capacity = "1"
		in.PaymentDueDays = "5"
		in.CancellationDeadline = conf.RegistrationClosesAt.Format("2006-01-02T15:04:05Z07:00")
	}, guest)
	var ids []string
	for i, name := range []string{"Ana", "Ben", "Cy"} {
		c := ta.signedIn(fmt.Sprintf("p%d@example.org", i), false, false)
		r := c.api("POST", "/api/v1/conferences/small/registrations", map[string]any{"category": "guest",
			"attendee": map[string]string{"first_name": name, "last_name": "Tester", "email": fmt.Sprintf("p%d@example.org", i)}})
		if r.Code != http.StatusCreated {
			t.Fatalf("%s: %d %s", name, r.Code, r.body)
		}
		j := r.json(t)
		ids = append(ids, fmt.Sprint(j["id"]))
		want := map[int]string{0: "confirmed", 1: "waitlisted", 2: "waitlisted"}[i]
		if j["status"] != want {
			t.Errorf("%s: %v, want %s", name, j["status"], want)
		}
		if i > 0 && j["waitlist_position"] != float64(i) {
			t.Errorf("%s: waitlist_position %v, want %d", name, j["waitlist_position"], i)
		}
	}
	r := ta.client().get("/api/v1/conferences/small")
	if j := r.json(t); j["seats_left"] != float64(0) || j["waitlist_length"] != float64(2) {
		t.Errorf("conference API: seats_left %v waitlist_length %v", j["seats_left"], j["waitlist_length"])
	}
	page := ta.client().get("/conferences/small")
	mustContain(t, page.body, "2 on the waiting list", "Join the waiting list", "Deadlines", "Payment is due 5 days after approval", "Cancel with a refund until")

	// Staff move Cy ahead of Ben; then Ana cancels and Cy gets the seat.
	staff := ta.signedIn("staff@example.org", true, false)
	if r := staff.post("/staff/conferences/small/waitlist/"+ids[2], url.Values{"action": {"up"}, "neighbour": {ids[1]}}); r.Code != http.StatusSeeOther {
		t.Fatalf("move up: %d %s", r.Code, r.body)
	}
	wl := staff.get("/staff/conferences/small/waitlist")
	if strings.Index(wl.body, "Cy Tester") > strings.Index(wl.body, "Ben Tester") {
		t.Error("Cy was not moved ahead of Ben")
	}
	// The page's buttons say who is next to whom: Cy's "down" names Ben, and
	// Cy's "up" nobody.
	mustContain(t, wl.body, `/waitlist/`+ids[2]+`" class="inline"><input type="hidden" name="action" value="down"><input type="hidden" name="neighbour" value="`+ids[1]+`">`,
		`/waitlist/`+ids[2]+`" class="inline"><input type="hidden" name="action" value="up"><input type="hidden" name="neighbour" value="none">`)
	// A second staff member, whose page still showed Ben ahead of Cy, moves
	// Cy up past Ben: Cy is first now, so the move is refused, the line stays
	// as it is, and the page says why.
	r = staff.post("/staff/conferences/small/waitlist/"+ids[2], url.Values{"action": {"up"}, "neighbour": {ids[1]}})
	if loc := r.Header().Get("Location"); r.Code != http.StatusSeeOther || loc != "/staff/conferences/small/waitlist" {
		t.Fatalf("a move on a changed line: %d to %q, want back to the list", r.Code, loc)
	}
	wl = staff.get("/staff/conferences/small/waitlist")
	mustContain(t, wl.body, "The waiting list changed meanwhile; look at it again.")
	if strings.Index(wl.body, "Cy Tester") > strings.Index(wl.body, "Ben Tester") {
		t.Error("a refused move changed the line")
	}
	for _, bad := range []string{"ben", "-3", "0", ""} {
		if r := staff.post("/staff/conferences/small/waitlist/"+ids[1], url.Values{"action": {"up"}, "neighbour": {bad}}); r.Code != http.StatusBadRequest {
			t.Errorf("neighbour %q: %d, want 400", bad, r.Code)
		}
	}
	if r := staff.post("/staff/conferences/small/waitlist/"+ids[1], url.Values{"action": {"promote"}}); r.Code != http.StatusConflict {
		t.Errorf("promote with no seat: %d", r.Code)
	}
	// Ben's row is busy (his badge being printed, say): giving him a seat
	// by hand is refused for now, back on the list, and changes nothing.
	busy, err := ta.Store.DB().Beginx()
	if err != nil {
		t.Fatal(err)
	}
	busy.MustExec(`SELECT FROM registrations WHERE id = $1 FOR UPDATE`, ids[1])
	r = staff.post("/staff/conferences/small/waitlist/"+ids[1], url.Values{"action": {"promote"}})
	busy.Rollback()
	if loc := r.Header().Get("Location"); r.Code != http.StatusSeeOther || loc != "/staff/conferences/small/waitlist" {
		t.Fatalf("promote on a busy row: %d to %q, want back to the list", r.Code, loc)
	}
	wl = staff.get("/staff/conferences/small/waitlist")
	mustContain(t, wl.body, "Someone else is working on this registration right now; try again in a moment.", "Ben Tester")
	owner := ta.client()
	owner.post("/login", url.Values{"email": {"p0@example.org"}, "password": {testPassword}})
	if r := owner.api("POST", "/api/v1/registrations/"+ids[0]+"/cancel", nil); r.Code != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.Code, r.body)
	}
	r = staff.get("/api/v1/registrations/" + ids[2])
	if r.json(t)["status"] != "confirmed" {
		t.Errorf("after a cancellation the first in line is %v", r.json(t)["status"])
	}
	r = staff.get("/api/v1/registrations/" + ids[1])
	if j := r.json(t); j["status"] != "waitlisted" || j["waitlist_position"] != float64(1) {
		t.Errorf("Ben: %v at %v", j["status"], j["waitlist_position"])
	}
	// Cy has her seat: a page still offering to give her one says she is
	// not on the line any more.
	r = staff.post("/staff/conferences/small/waitlist/"+ids[2], url.Values{"action": {"promote"}})
	if loc := r.Header().Get("Location"); r.Code != http.StatusSeeOther || loc != "/staff/conferences/small/waitlist" {
		t.Fatalf("promote someone seated: %d to %q, want back to the list", r.Code, loc)
	}
	mustContain(t, staff.get("/staff/conferences/small/waitlist").body, "This registration is not on the waiting list.")
}

// holdRegistration locks a registration's row, as a badge print run or a
// batch of scans at the door does for a moment, until the returned func
// lets it go.
func (ta *testApp) holdRegistration(id int64) (letGo func()) {
	ta.t.Helper()
	tx, err := ta.DB.Begin()
	if err != nil {
		ta.t.Fatal(err)
	}
	if _, err := tx.Exec(`SELECT FROM registrations WHERE id = $1 FOR UPDATE`, id); err != nil {
		ta.t.Fatal(err)
	}
	return func() { tx.Rollback() }
}

// TestARaisedSeatGoesToTheLineFirst: staff raise a full conference's
// capacity by one, to give the seat to Ben, who waits, at a moment his row
// is busy (a print run holds it), so the seat cannot go to him yet and
// stays free. Dee, registering before anyone else does, is told the line
// comes first and joins it; the seat goes to Ben, and the page then says
// the conference is full.
func TestARaisedSeatGoesToTheLineFirst(t *testing.T) {
	ta := newTestApp(t)
	ctx := context.Background()
	conf := ta.limitedConference("raised", func(_ models.Conference, in *models.ConferenceInput) { in.Capacity = "1" }, guest)
	register := func(c *client, name, email string) map[string]any {
		t.Helper()
		r := c.api("POST", "/api/v1/conferences/raised/registrations", map[string]any{"category": "guest",
			"attendee": map[string]string{"first_name": name, "last_name": "Tester", "email": email}})
		if r.Code != http.StatusCreated {
			t.Fatalf("%s: %d %s", name, r.Code, r.body)
		}
		return r.json(t)
	}
	register(ta.signedIn("ana@example.org", false, false), "Ana", "ana@example.org")
	ben := register(ta.signedIn("ben@example.org", false, false), "Ben", "ben@example.org")
	if ben["status"] != "waitlisted" {
		t.Fatalf("fixture: Ben is %v", ben["status"])
	}
	in := conf.Input()
	in.Capacity = "2"
	letGo := ta.holdRegistration(int64(ben["id"].(float64)))
	if _, err := ta.Store.UpdateConference(ctx, conf.ID, in); err != nil {
		t.Fatal(err)
	}
	letGo()

	dee := ta.signedIn("dee@example.org", false, false)
	mustContain(t, dee.get("/conferences/raised/register").body,
		"1 seat left. 1 person is on the waiting list: a free seat goes to them first, and you may join the line behind them.")
	d := register(dee, "Dee", "dee@example.org")
	if d["status"] != "waitlisted" || d["waitlist_position"] != float64(1) {
		t.Errorf("Dee: %v at %v, want waitlisted, first now that Ben has the seat", d["status"], d["waitlist_position"])
	}
	staff := ta.signedIn("staff@example.org", true, false)
	if j := staff.get("/api/v1/registrations/" + fmt.Sprint(ben["id"])).json(t); j["status"] != "confirmed" {
		t.Errorf("Ben is %v after Dee registered, want given the seat", j["status"])
	}
	mustContain(t, ta.signedIn("eve@example.org", false, false).get("/conferences/raised/register").body,
		"The conference is full: you will join the waiting list, 1 ahead of you.")
}

// TestARaisedCapacityGivesTheLineItsSeats: staff raise a full conference
// from 1 seat to 3 while Ben, Cy and Dee wait, and then a full type from 1
// seat to 2 on its edit form while Gus waits for it (Eve has its seat).
// Nobody else registers or cancels: the new seats go to the first in line
// at once, and Dee stays first on the line.
func TestARaisedCapacityGivesTheLineItsSeats(t *testing.T) {
	ta := newTestApp(t)
	conf := ta.limitedConference("raise", func(_ models.Conference, in *models.ConferenceInput) { in.Capacity = "1" }, guest)
	delegate, err := ta.Store.CreateCategory(context.Background(), conf, models.CategoryInput{Slug: "delegate", Name: "Delegate", Price: "0", Capacity: "1"})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, p := range []struct{ name, category string }{
		{"Ana", "guest"}, {"Ben", "guest"}, {"Cy", "guest"}, {"Dee", "guest"},
	} {
		email := strings.ToLower(p.name) + "@example.org"
		r := ta.signedIn(email, false, false).api("POST", "/api/v1/conferences/raise/registrations", map[string]any{"category": p.category,
			"attendee": map[string]string{"first_name": p.name, "last_name": "Tester", "email": email}})
		if r.Code != http.StatusCreated {
			t.Fatalf("%s: %d %s", p.name, r.Code, r.body)
		}
		ids[p.name] = fmt.Sprint(r.json(t)["id"])
	}
	staff := ta.signedIn("staff@example.org", true, false)
	status := func(name string) (any, any) {
		t.Helper()
		j := staff.get("/api/v1/registrations/" + ids[name]).json(t)
		return j["status"], j["waitlist_position"]
	}
	if s, _ := status("Ben"); s != "waitlisted" {
		t.Fatalf("fixture: Ben is %v", s)
	}

	r := staff.api("PATCH", "/api/v1/conferences/raise", map[string]any{"capacity": 3})
	if r.Code != http.StatusOK {
		t.Fatalf("raise the capacity: %d %s", r.Code, r.body)
	}
	if j := r.json(t); j["seats_left"] != float64(0) || j["waitlist_length"] != float64(1) {
		t.Errorf("the raise answered seats_left %v, waitlist_length %v; want 0 and 1", j["seats_left"], j["waitlist_length"])
	}
	for _, name := range []string{"Ben", "Cy"} {
		if s, _ := status(name); s != "confirmed" {
			t.Errorf("%s is %v after the raise, want confirmed", name, s)
		}
	}
	if s, at := status("Dee"); s != "waitlisted" || at != float64(1) {
		t.Errorf("Dee is %v at %v, want waitlisted, first", s, at)
	}
	id, _ := strconv.ParseInt(ids["Ben"], 10, 64)
	h, err := ta.Store.History(context.Background(), "registration", id)
	if err != nil {
		t.Fatal(err)
	}
	var history []string
	for _, e := range h {
		history = append(history, e.Action+" "+string(e.Details))
	}
	if !strings.Contains(strings.Join(history, "\n"), `"reason": "a seat freed"`) {
		t.Errorf("Ben's history does not say a seat freed:\n%s", strings.Join(history, "\n"))
	}
	mustContain(t, ta.signedIn("fay@example.org", false, false).get("/conferences/raise/register").body,
		"The conference is full: you will join the waiting list, 1 ahead of you.")

	// A type: room in the conference, but not in the delegate type.
	r = staff.api("PATCH", "/api/v1/conferences/raise", map[string]any{"capacity": 10})
	if r.Code != http.StatusOK {
		t.Fatalf("raise the capacity: %d %s", r.Code, r.body)
	}
	if s, _ := status("Dee"); s != "confirmed" {
		t.Fatalf("Dee is %v with seats free, want confirmed", s)
	}
	for _, name := range []string{"Eve", "Gus"} {
		email := strings.ToLower(name) + "@example.org"
		r := ta.signedIn(email, false, false).api("POST", "/api/v1/conferences/raise/registrations", map[string]any{"category": "delegate",
			"attendee": map[string]string{"first_name": name, "last_name": "Tester", "email": email}})
		if r.Code != http.StatusCreated {
			t.Fatalf("%s: %d %s", name, r.Code, r.body)
		}
		ids[name] = fmt.Sprint(r.json(t)["id"])
	}
	if s, _ := status("Gus"); s != "waitlisted" {
		t.Fatalf("fixture: Gus is %v", s)
	}
	form := url.Values{"slug": {"delegate"}, "name": {"Delegate"}, "price": {"0"}, "capacity": {"2"}}
	r = staff.post(fmt.Sprintf("/staff/conferences/raise/categories/%d/edit", delegate.ID), form)
	if r.Code != http.StatusSeeOther {
		t.Fatalf("edit the type: %d %s", r.Code, r.body)
	}
	if s, _ := status("Gus"); s != "confirmed" {
		t.Errorf("Gus is %v after the type was raised, want confirmed", s)
	}
}

// TestARaisedTypeSaysWhoComesFirst: the delegate type of a conference with
// no capacity of its own is raised by one while a delegate waits, at a
// moment his row is busy, so the seat stays free. The register page says,
// at the delegate type, that the seat left goes to those waiting first; a
// new delegate joins the line behind them.
func TestARaisedTypeSaysWhoComesFirst(t *testing.T) {
	ta := newTestApp(t)
	ctx := context.Background()
	conf := ta.conference("raised-type", models.StatusPublished)
	in := models.CategoryInput{Slug: "delegate", Name: "Delegate", Price: "0", Capacity: "1"}
	cat, err := ta.Store.CreateCategory(ctx, conf, in)
	if err != nil {
		t.Fatal(err)
	}
	var ben int64
	for i, name := range []string{"Ana", "Ben", "Cy"} {
		if i == 2 {
			in.Capacity = "2"
			letGo := ta.holdRegistration(ben)
			if _, err := ta.Store.UpdateCategory(ctx, conf, cat.ID, in); err != nil {
				t.Fatal(err)
			}
			letGo()
			mustContain(t, ta.signedIn("dee@example.org", false, false).get("/conferences/raised-type/register").body,
				"1 seat left. 1 person waiting for a seat comes first.")
		}
		email := strings.ToLower(name) + "@example.org"
		r := ta.signedIn(email, false, false).api("POST", "/api/v1/conferences/raised-type/registrations", map[string]any{"category": "delegate",
			"attendee": map[string]string{"first_name": name, "last_name": "Tester", "email": email}})
		if r.Code != http.StatusCreated {
			t.Fatalf("%s: %d %s", name, r.Code, r.body)
		}
		if got, want := r.json(t)["status"], []string{"confirmed", "waitlisted", "waitlisted"}[i]; got != want {
			t.Errorf("%s: %v, want %s", name, got, want)
		}
		if i == 1 {
			ben = int64(r.json(t)["id"].(float64))
		}
	}
}

// TestALineForAFullTypeDoesNotWarnEveryone: a delegate waits for the one
// delegate seat of a conference with room. The register page does not tell
// a retiree that the free seats go to the line: none could take them.
func TestALineForAFullTypeDoesNotWarnEveryone(t *testing.T) {
	ta := newTestApp(t)
	ta.limitedConference("type-line", func(_ models.Conference, in *models.ConferenceInput) { in.Capacity = "10" },
		models.CategoryInput{Slug: "delegate", Name: "Delegate", Price: "0", Capacity: "1"}, models.CategoryInput{Slug: "retiree", Name: "Retiree", Price: "0"})
	for i, name := range []string{"Ana", "Ben"} {
		email := strings.ToLower(name) + "@example.org"
		r := ta.signedIn(email, false, false).api("POST", "/api/v1/conferences/type-line/registrations", map[string]any{"category": "delegate",
			"attendee": map[string]string{"first_name": name, "last_name": "Tester", "email": email}})
		if got, want := r.json(t)["status"], []string{"confirmed", "waitlisted"}[i]; got != want {
			t.Fatalf("%s: %v, want %s", name, got, want)
		}
	}
	page := ta.signedIn("dee@example.org", false, false).get("/conferences/type-line/register").body
	mustContain(t, page, "9 seats left.", "Full: you will join the waiting list.")
	mustNotContain(t, page, "people are on the waiting list", "who come first",
		"on the waiting list: a free seat goes to them first", "waiting for a seat come")
}

// TestPagesSayOneInTheSingular: with one seat left and payment due a day
// after approval, the conference and register pages say "1 seat" and "1
// day", in English and in Spanish, never "1 seats" or "1 days".
func TestPagesSayOneInTheSingular(t *testing.T) {
	ta := newTestApp(t)
	ta.limitedConference("one-left", func(_ models.Conference, in *models.ConferenceInput) {
		in.Capacity = "2"
		in.PaymentDueDays = "1"
	}, guest)
	r := ta.signedIn("ana@example.org", false, false).api("POST", "/api/v1/conferences/one-left/registrations", map[string]any{"category": "guest",
		"attendee": map[string]string{"first_name": "Ana", "last_name": "Tester", "email": "ana@example.org"}})
	if r.Code != http.StatusCreated {
		t.Fatalf("registering: %d %s", r.Code, r.body)
	}
	ben := ta.signedIn("ben@example.org", false, false)
	for _, tc := range []struct {
		lang, dueDay, seatLeft string
	}{
		{"en", "Payment is due 1 day after approval", "1 seat left."},
		{"es", "El pago vence 1 día después de la aprobación", "Queda 1 lugar."},
	} {
		conference := ben.get("/conferences/one-left?lang=" + tc.lang).body
		mustContain(t, conference, tc.dueDay)
		mustNotContain(t, conference, "1 days", "1 días")
		register := ben.get("/conferences/one-left/register?lang=" + tc.lang).body
		mustContain(t, register, tc.seatLeft)
		mustNotContain(t, register, "1 seats", "Quedan 1 ")
	}
}
