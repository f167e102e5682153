package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"convene/handlers"
	"convene/models"
)

// desk is a published conference with confirmed, pending, unpaid and
// cancelled registrations, another conference with one of its own, a staff
// member signed in and a scanner token of theirs.
type desk struct {
	*regWorld
	staff     *client
	staffUser models.User
	scanner   *client // bearer token, no cookie
	token     string
	other     models.Conference
	ana, luis models.Registration // confirmed, local 4121
	pending   models.Registration
	unpaid    models.Registration
	cancelled models.Registration
	elsewhere models.Registration // confirmed, other conference
}

func newDesk(t *testing.T) *desk {
	w := newRegWorld(t)
	ta := w.ta
	ctx := context.Background()
	d := &desk{regWorld: w}
	d.staff = ta.signedIn("desk-staff@example.org", true, false)
	d.staffUser, _ = ta.Store.UserByEmail(ctx, "desk-staff@example.org")
	staffActor, _ := ta.Store.ActorFor(ctx, d.staffUser)
	reg := func(conf models.Conference, cat, first, last, local, number string, act models.Actor) models.Registration {
		t.Helper()
		r, err := ta.Store.Register(ctx, conf, models.RegistrationInput{Category: cat, FirstName: first, LastName: last,
			Email: strings.ToLower(first) + "@example.org", Local: local, MemberNumber: number}, act, ta.Now())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	d.ana = reg(w.conf, "member-delegate", "Ana", "Cortés", "4121", "1002", staffActor)
	d.luis = reg(w.conf, "member-delegate", "Luis", "Chávez-Nava", "4121", "1001", staffActor)
	d.unpaid = reg(w.conf, "paid", "Mei", "Harper", "4121", "1004", staffActor)
	d.cancelled = reg(w.conf, "member-delegate", "Kwame", "Mensah", "4121", "1005", staffActor)
	var err error
	if d.cancelled, err = ta.Store.Cancel(ctx, d.cancelled.ID, staffActor); err != nil {
		t.Fatal(err)
	}
	member := ta.user("jordan@example.org", false, false)
	memberActor, _ := ta.Store.ActorFor(ctx, member)
	// A member number not on the roster waits for the local's officers.
	d.pending = reg(w.conf, "member-delegate", "Jordan", "Reyes", "4121", "9999", memberActor)
	d.other = ta.conference("other", models.StatusPublished)
	if _, err := ta.Store.CreateCategory(ctx, d.other, models.CategoryInput{Slug: "guest", Name: "Guest", Price: "0"}); err != nil {
		t.Fatal(err)
	}
	d.elsewhere = reg(d.other, "guest", "Grace", "Liu", "", "", staffActor)
	for _, r := range []models.Registration{d.ana, d.luis, d.elsewhere} {
		if r.Status != models.RegConfirmed {
			t.Fatalf("fixture %s is %s", r.FirstName, r.Status)
		}
	}
	if d.pending.Status != models.RegPending || d.unpaid.Status != models.RegAwaitingPayment {
		t.Fatalf("fixtures: pending is %s, unpaid is %s", d.pending.Status, d.unpaid.Status)
	}
	_, d.token, _ = ta.Store.CreateAPIToken(ctx, d.staffUser, "Desk 1 scanner")
	d.scanner = d.bearer(d.token)
	return d
}

func (d *desk) bearer(tok string) *client {
	c := d.ta.client()
	c.header.Set("Authorization", "Bearer "+tok)
	return c
}

func (d *desk) scan(c *client, code, nonce string) response {
	return c.api("POST", "/api/v1/conferences/pal/checkins", map[string]any{"code": code, "nonce": nonce})
}

func result(t *testing.T, r response) string {
	t.Helper()
	if r.Code != http.StatusOK {
		t.Fatalf("check-in answered %d: %s", r.Code, r.body)
	}
	s, _ := r.json(t)["result"].(string)
	return s
}

// TestTwentyScannersOneBadgeOverHTTP fires one badge's QR text from 20
// scanners at once through the API: exactly one checked_in, 19
// already_checked_in. A retry with the first request's nonce gets the
// first answer, byte for byte, and counts nothing.
func TestTwentyScannersOneBadgeOverHTTP(t *testing.T) {
	d := newDesk(t)
	code := d.ta.TicketURL(d.ana)
	var mu sync.Mutex
	var wg sync.WaitGroup
	results := map[string]int{}
	bodies := map[string]string{}
	start := make(chan struct{})
	for i := range 20 {
		wg.Go(func() {
			c := d.bearer(d.token) // one client per scanner
			<-start
			r := c.api("POST", "/api/v1/conferences/pal/checkins", map[string]any{"code": code, "nonce": fmt.Sprintf("scanner-%d", i)})
			mu.Lock()
			defer mu.Unlock()
			if r.Code != http.StatusOK {
				t.Errorf("scanner %d: %d %s", i, r.Code, r.body)
				return
			}
			var m map[string]any
			json.Unmarshal([]byte(r.body), &m)
			res, _ := m["result"].(string)
			results[res]++
			bodies[fmt.Sprintf("scanner-%d", i)] = r.body
		})
	}
	close(start)
	wg.Wait()
	if results["checked_in"] != 1 || results["already_checked_in"] != 19 {
		t.Fatalf("results %v, want 1 checked_in and 19 already_checked_in", results)
	}
	var first string
	for nonce, body := range bodies {
		if strings.Contains(body, `"result":"checked_in"`) {
			first = nonce
		}
	}
	replay := d.scan(d.bearer(d.token), code, first)
	if replay.body != bodies[first] || replay.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay of %s:\n%s\nwant the first answer:\n%s", first, replay.body, bodies[first])
	}
	h, _ := d.ta.Store.History(context.Background(), "registration", d.ana.ID)
	n := 0
	for _, e := range h {
		if e.Action == "checked_in" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d check-ins in the history, want 1", n)
	}
	reg := d.scan(d.scanner, code, "")
	m := reg.json(t)["registration"].(map[string]any)
	if m["checked_in_by"] != d.staffUser.Name || m["checked_in_at"] == nil || m["category_name"] != "Member delegate" {
		t.Errorf("registration in the answer: %v", m)
	}
}

func TestCheckInResultsOverHTTPChangeNothing(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	tests := []struct {
		name, code, want string
		reg              *models.Registration
	}{
		{"forged token", models.NewTicketToken(), "not_found", nil},
		{"forged QR text", "http://convene.test/t/" + models.NewTicketToken(), "not_found", nil},
		{"not a code", "<script>alert(1)</script>", "not_found", nil},
		{"another conference", *d.elsewhere.TicketToken, "wrong_conference", &d.elsewhere},
		{"cancelled", *d.cancelled.TicketToken, "cancelled", &d.cancelled},
		{"not yet approved", *d.pending.TicketToken, "not_confirmed", &d.pending},
		{"balance due", d.ta.TicketURL(d.unpaid), "not_confirmed", &d.unpaid},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before models.Registration
			if tt.reg != nil {
				before, _ = d.ta.Store.Registration(ctx, tt.reg.ID)
			}
			r := d.scan(d.staff, tt.code, fmt.Sprint("n", i))
			if got := result(t, r); got != tt.want {
				t.Errorf("result %s, want %s", got, tt.want)
			}
			reg := r.json(t)["registration"]
			if (reg == nil) != (tt.reg == nil) {
				t.Errorf("registration %v", reg)
			}
			if tt.reg != nil {
				after, _ := d.ta.Store.Registration(ctx, tt.reg.ID)
				if after.CheckedInAt != nil || after.Status != before.Status || !after.UpdatedAt.Equal(before.UpdatedAt) {
					t.Errorf("the registration changed: %s, checked in %v", after.Status, after.CheckedInAt)
				}
			}
		})
	}
	var n int
	d.ta.DB.Get(&n, `SELECT count(*) FROM registrations WHERE checked_in_at IS NOT NULL`)
	if n != 0 {
		t.Errorf("%d registrations checked in, want none", n)
	}
	for _, bad := range []struct {
		body any
		code int
	}{
		{map[string]any{"code": ""}, http.StatusBadRequest},
		{map[string]any{"code": "x", "extra": 1}, http.StatusBadRequest},
		{map[string]any{"code": *d.ana.TicketToken, "nonce": "has space"}, http.StatusUnprocessableEntity},
	} {
		if r := d.staff.api("POST", "/api/v1/conferences/pal/checkins", bad.body); r.Code != bad.code {
			t.Errorf("%v: %d, want %d", bad.body, r.Code, bad.code)
		}
	}
	// A nonce reused for another code is a client bug: 409, nothing done.
	result(t, d.scan(d.staff, *d.ana.TicketToken, "same"))
	if r := d.scan(d.staff, *d.luis.TicketToken, "same"); r.Code != http.StatusConflict || r.errorCode(t) != "nonce_reused" {
		t.Errorf("nonce reused: %d %s", r.Code, r.body)
	}
	if luis, _ := d.ta.Store.Registration(ctx, d.luis.ID); luis.CheckedInAt != nil {
		t.Error("a reused nonce checked someone in")
	}
}

func TestUndoCheckInOverHTTP(t *testing.T) {
	d := newDesk(t)
	path := fmt.Sprintf("/api/v1/registrations/%d/checkin", d.ana.ID)
	if r := d.staff.api("DELETE", path, nil); r.Code != http.StatusConflict || r.errorCode(t) != "not_checked_in" {
		t.Errorf("undo before check-in: %d %s", r.Code, r.body)
	}
	result(t, d.scan(d.scanner, *d.ana.TicketToken, ""))
	r := d.scanner.api("DELETE", path, nil)
	if r.Code != http.StatusOK || r.json(t)["registration"].(map[string]any)["checked_in_at"] != nil {
		t.Fatalf("undo: %d %s", r.Code, r.body)
	}
	if got := result(t, d.scan(d.scanner, *d.ana.TicketToken, "")); got != "checked_in" {
		t.Errorf("scan after undo: %s", got)
	}
	if r := d.staff.api("DELETE", "/api/v1/registrations/999999/checkin", nil); r.Code != http.StatusNotFound {
		t.Errorf("undo of nobody: %d", r.Code)
	}
	h, _ := d.ta.Store.History(context.Background(), "registration", d.ana.ID)
	var actions []string
	for _, e := range h {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); !strings.HasSuffix(got, "checked_in,checkin_undone,checked_in") {
		t.Errorf("history %s", got)
	}
	page := d.staff.get(fmt.Sprintf("/registrations/%d", d.ana.ID))
	mustContain(t, page.body, "Check-in undone", "Checked in")
}

// TestCheckInRoutesAreForStaffOnly: members and officers get 403 on every
// check-in route, the ticket page shows them nothing but the first name, and
// tokens stop working when revoked or when their owner is no longer staff.
func TestCheckInRoutesAreForStaffOnly(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	member := d.ta.signedIn("plain-member@example.org", false, false)
	officer := d.officer("4121")
	routes := []struct{ method, path string }{
		{"GET", "/staff/conferences/pal/checkin"},
		{"GET", "/staff/conferences/pal/checkin?q=ana"},
		{"POST", "/staff/conferences/pal/checkin"},
		{"POST", "/staff/conferences/pal/checkin/undo"},
		{"GET", "/staff/tokens"},
		{"POST", "/staff/tokens"},
		{"POST", "/staff/tokens/1/revoke"},
		{"POST", "/api/v1/conferences/pal/checkins"},
		{"GET", "/api/v1/conferences/pal/checkins/counts"},
		{"GET", "/api/v1/conferences/pal/attendees?q=ana"},
		{"DELETE", fmt.Sprintf("/api/v1/registrations/%d/checkin", d.ana.ID)},
	}
	form := url.Values{"code": {*d.ana.TicketToken}, "id": {fmt.Sprint(d.ana.ID)}, "name": {"Intruder"}}
	for who, c := range map[string]*client{"member": member, "officer of 4121": officer} {
		for _, rt := range routes {
			var r response
			if strings.HasPrefix(rt.path, "/api/") {
				r = c.api(rt.method, rt.path, map[string]any{"code": *d.ana.TicketToken})
			} else {
				r = c.do(rt.method, rt.path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
			}
			if r.Code != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d, want 403", rt.method, rt.path, who, r.Code)
			}
			mustNotContain(t, r.body, "Cortés", *d.ana.TicketToken)
		}
	}
	if a, _ := d.ta.Store.Registration(ctx, d.ana.ID); a.CheckedInAt != nil {
		t.Fatal("a refused request checked Ana in")
	}
	if ts, _ := d.ta.Store.APITokens(ctx); len(ts) != 1 {
		t.Errorf("%d tokens after refused requests, want 1", len(ts))
	}

	// Tokens: a working one, a malformed one, a revoked one, a former staff member's.
	if r := d.scanner.get("/api/v1/conferences/pal/checkins/counts"); r.Code != http.StatusOK {
		t.Fatalf("token: %d %s", r.Code, r.body)
	}
	if r := d.bearer("not-a-token").get("/api/v1/conferences/pal/checkins/counts"); r.Code != http.StatusUnauthorized || r.errorCode(t) != "bad_token" {
		t.Errorf("malformed token: %d %s", r.Code, r.body)
	}
	ts, _ := d.ta.Store.APITokens(ctx)
	if r := d.staff.post(fmt.Sprintf("/staff/tokens/%d/revoke", ts[0].ID), nil); r.Code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.Code)
	}
	if r := d.scan(d.scanner, *d.ana.TicketToken, ""); r.Code != http.StatusUnauthorized || r.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("revoked token: %d, want 401", r.Code)
	}
	_, tok2, _ := d.ta.Store.CreateAPIToken(ctx, d.staffUser, "Desk 2")
	d.ta.Store.SetRoles(ctx, d.staffUser.ID, false, false)
	if r := d.scan(d.bearer(tok2), *d.ana.TicketToken, ""); r.Code != http.StatusUnauthorized {
		t.Errorf("token of a former staff member: %d, want 401", r.Code)
	}
	// A member's session with a forged bearer token gets no further.
	member.header.Set("Authorization", "Bearer cvt_"+strings.Repeat("A", 43))
	if r := d.scan(member, *d.ana.TicketToken, ""); r.Code != http.StatusUnauthorized {
		t.Errorf("forged token: %d, want 401", r.Code)
	}
	if a, _ := d.ta.Store.Registration(ctx, d.ana.ID); a.CheckedInAt != nil {
		t.Error("a refused token checked Ana in")
	}
	// Guessing is throttled per address.
	guesser := d.bearer("cvt_" + strings.Repeat("B", 43))
	var last response
	for range models.TokenFailuresPerAddress + 1 {
		last = guesser.get("/api/v1/conferences/pal/checkins/counts")
	}
	if last.Code != http.StatusTooManyRequests {
		t.Errorf("after %d wrong tokens: %d, want 429", models.TokenFailuresPerAddress+1, last.Code)
	}
}

func TestTicketCodePage(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	anon := d.ta.client()
	member := d.ta.signedIn("plain-member@example.org", false, false)
	path := "/t/" + *d.ana.TicketToken
	for who, c := range map[string]*client{"anonymous": anon, "member": member, "officer": d.officer("4121")} {
		r := c.get(path)
		if r.Code != http.StatusOK {
			t.Fatalf("%s: %d", who, r.Code)
		}
		mustContain(t, r.body, "Valid ticket", "Ana")
		mustNotContain(t, r.body, "Cortés", "ana@example.org", "4121", "Member delegate", "Check in")
	}
	for _, bad := range []string{"/t/" + models.NewTicketToken(), "/t/nonsense", "/t/" + *d.pending.TicketToken, "/t/" + *d.cancelled.TicketToken} {
		if r := anon.get(bad); r.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", bad, r.Code)
		}
	}
	// Staff see the check-in status and a button; the GET itself changes nothing.
	r := d.staff.get(path)
	if r.Code != http.StatusOK {
		t.Fatalf("staff: %d", r.Code)
	}
	mustContain(t, r.body, "Ana Cortés", "Not checked in yet", `action="/staff/conferences/pal/checkin"`, "Local 4121")
	if a, _ := d.ta.Store.Registration(ctx, d.ana.ID); a.CheckedInAt != nil {
		t.Fatal("opening the ticket checked Ana in")
	}
	mustContain(t, d.staff.get("/t/"+*d.cancelled.TicketToken).body, "Cancelled", "Kwame")
	if r.Header().Get("Cache-Control") != "no-store" {
		t.Error("the ticket page may be cached")
	}
}

// TestDeskWithoutJavaScript drives the desk as plain forms: the scan posts,
// the server renders the result; a second scan is amber with when and by
// whom; search finds people; undo clears the check-in.
func TestDeskWithoutJavaScript(t *testing.T) {
	d := newDesk(t)
	page := d.staff.get("/staff/conferences/pal/checkin")
	if page.Code != http.StatusOK {
		t.Fatalf("desk: %d", page.Code)
	}
	mustContain(t, page.body, `id="scan-code"`, "autofocus", `<strong id="count-in">0</strong>`, `<span id="count-expected">2</span>`)
	nonce := regexp.MustCompile(`name="nonce" value="([0-9a-f]+)"`).FindStringSubmatch(page.body)
	if nonce == nil {
		t.Fatal("no nonce in the scan form")
	}
	scan := url.Values{"code": {d.ta.TicketURL(d.ana)}, "nonce": {nonce[1]}}
	r := d.staff.post("/staff/conferences/pal/checkin", scan)
	if r.Code != http.StatusOK {
		t.Fatalf("scan: %d", r.Code)
	}
	mustContain(t, r.body, `class="result tone-ok" data-result="checked_in"`, "Ana Cortés", "Local 4121 — Harbor City Academic Workers",
		"Member delegate", `href="/registrations/`+fmt.Sprint(d.ana.ID)+`/badge.pdf"`, `<strong id="count-in">1</strong>`)
	// The browser resends the form (a reload): same nonce, same answer.
	if again := d.staff.post("/staff/conferences/pal/checkin", scan); !strings.Contains(again.body, `data-result="checked_in"`) {
		t.Error("a resent form did not get the first answer")
	}
	r = d.staff.post("/staff/conferences/pal/checkin?partial=result", url.Values{"code": {*d.ana.TicketToken}, "nonce": {"second"}})
	mustContain(t, r.body, `class="result tone-warn" data-result="already_checked_in"`, "Already checked in", "by Test desk-staff@example.org", "Undo check-in")
	mustNotContain(t, r.body, "<html", "count-in")
	if !regexp.MustCompile(`Checked in at \d{1,2}:\d\d [AP]M P[SD]T`).MatchString(r.body) {
		t.Errorf("no time in the conference's zone in %s", r.body)
	}
	for code, want := range map[string]string{
		*d.unpaid.TicketToken:    `tone-warn" data-result="not_confirmed"`,
		*d.pending.TicketToken:   `tone-bad" data-result="not_confirmed"`,
		*d.elsewhere.TicketToken: `tone-bad" data-result="wrong_conference"`,
		"nonsense":               `tone-bad" data-result="not_found"`,
	} {
		r := d.staff.post("/staff/conferences/pal/checkin?partial=result", url.Values{"code": {code}})
		mustContain(t, r.body, want)
		if code == *d.unpaid.TicketToken {
			mustContain(t, r.body, "Balance due", "$150", "Take payment", fmt.Sprintf(`href="/registrations/%d"`, d.unpaid.ID))
		}
	}
	// Search by name without JavaScript, and check in from the result.
	found := d.staff.get("/staff/conferences/pal/checkin?q=chavez")
	mustContain(t, found.body, "Luis Chávez-Nava", "Not checked in yet")
	mustNotContain(t, found.body, "Ana Cortés")
	// Spanish.
	es := d.staff.post("/staff/conferences/pal/checkin?partial=result&lang=es", url.Values{"code": {*d.ana.TicketToken}})
	mustContain(t, es.body, "Ya registró su llegada", "Anular el registro de llegada")
	// Undo.
	u := d.staff.post("/staff/conferences/pal/checkin/undo?lang=en", url.Values{"id": {fmt.Sprint(d.ana.ID)}})
	mustContain(t, u.body, "Check-in undone", `<strong id="count-in">0</strong>`)

	if u := d.staff.post("/staff/conferences/pal/checkin/undo?lang=en", url.Values{"id": {fmt.Sprint(d.ana.ID)}}); !strings.Contains(u.body, "someone may have undone it already") {
		t.Error("a second undo does not say the person is not checked in")
	}
}

func TestDeskCountsAndSearchJSON(t *testing.T) {
	d := newDesk(t)
	result(t, d.scan(d.scanner, *d.ana.TicketToken, ""))
	c := d.staff.get("/api/v1/conferences/pal/checkins/counts").json(t)
	if c["checked_in"] != 1.0 || c["expected"] != 2.0 {
		t.Errorf("counts %v", c)
	}
	locals := c["by_local"].([]any)
	if len(locals) != 1 || locals[0].(map[string]any)["local"] != "4121" || locals[0].(map[string]any)["checked_in"] != 1.0 {
		t.Errorf("by local %v", locals)
	}
	cats := c["by_category"].([]any)
	if len(cats) != 2 || cats[0].(map[string]any)["category"] != "member-delegate" || cats[0].(map[string]any)["expected"] != 2.0 {
		t.Errorf("by category %v", cats)
	}
	s := d.staff.get("/api/v1/conferences/pal/attendees?q=" + url.QueryEscape("cortes")).json(t)
	list := s["attendees"].([]any)
	if len(list) != 1 {
		t.Fatalf("search: %v", s)
	}
	a := list[0].(map[string]any)
	if a["result"] != "already_checked_in" || a["tone"] != "warn" || a["checked_in_by"] != d.staffUser.Name || a["code"] != *d.ana.TicketToken {
		t.Errorf("attendee %v", a)
	}
	if l := d.staff.get("/api/v1/conferences/pal/attendees?q=4121").json(t)["attendees"].([]any); len(l) != 5 {
		t.Errorf("search by local found %d, want 5", len(l))
	}
	if l := d.staff.get("/api/v1/conferences/pal/attendees?q=").json(t)["attendees"].([]any); len(l) != 0 {
		t.Errorf("empty search found %d", len(l))
	}
}

func TestTokensPage(t *testing.T) {
	d := newDesk(t)
	r := d.staff.post("/staff/tokens", url.Values{"name": {"Desk 2 tablet"}})
	if r.Code != http.StatusCreated {
		t.Fatalf("create: %d", r.Code)
	}
	tok := regexp.MustCompile(`<code id="new-token" class="token">(cvt_[A-Za-z0-9_-]+)</code>`).FindStringSubmatch(r.body)
	if tok == nil {
		t.Fatalf("the new token is not shown:\n%s", r.body)
	}
	for _, ck := range r.Result().Cookies() {
		if strings.Contains(ck.Value, tok[1]) {
			t.Error("the token went into a cookie")
		}
	}
	if got := d.bearer(tok[1]).get("/api/v1/me"); got.Code != http.StatusOK || !strings.Contains(got.body, "desk-staff@example.org") {
		t.Errorf("the new token does not sign in: %d %s", got.Code, got.body)
	}
	list := d.staff.get("/staff/tokens")
	mustContain(t, list.body, "Desk 2 tablet", "Desk 1 scanner", "…"+tok[1][len(tok[1])-4:], "Revoke")
	mustNotContain(t, list.body, tok[1])
	if r := d.staff.post("/staff/tokens", url.Values{"name": {""}}); r.Code != http.StatusUnprocessableEntity {
		t.Errorf("token without a name: %d", r.Code)
	}
}

// TestRememberedScannerTokenIsCheckedAtEachScan: a desk's token is looked up
// once a minute, not once a scan, yet a token revoked or a staff flag removed
// on another app process, or an address throttled meanwhile, stops the very
// next scan, which checks no one in.
func TestRememberedScannerTokenIsCheckedAtEachScan(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	// The routes named as checking the token again must exist, or scans
	// would quietly lose their one-round-trip sign-in.
	routes := map[string]bool{}
	for _, rt := range d.ta.App.Routes().Routes() {
		routes[rt.Method+" "+rt.Path] = true
	}
	for _, key := range handlers.ChecksTokenAgain() {
		if !routes[key] {
			t.Errorf("checksTokenAgain names %q, which is not a route", key)
		}
	}
	// Each of those routes must check the token again in its action, which
	// nothing but a test shows: this one and
	// TestRememberedRevokedTokenIsRefusedBeforeAnythingElse cover the scan.
	// A route added to the list needs the same tests.
	if got, want := handlers.ChecksTokenAgain(), []string{"POST /api/v1/conferences/:slug/checkins"}; !slices.Equal(got, want) {
		t.Errorf("checksTokenAgain is %q; the revocation tests cover only %q", got, want)
	}
	// Another process: the same database, its own memory of tokens.
	other := models.NewStore(d.ta.Store.DB())
	checkedIn := func(id int64) bool {
		r, _ := d.ta.Store.Registration(ctx, id)
		return r.CheckedInAt != nil
	}

	if got := result(t, d.scan(d.scanner, *d.ana.TicketToken, "")); got != models.CheckedIn {
		t.Fatalf("first scan: %s", got)
	}
	ts, _ := other.APITokens(ctx)
	if _, err := other.RevokeAPIToken(ctx, ts[0].ID, d.staffUser); err != nil {
		t.Fatal(err)
	}
	r := d.scan(d.scanner, *d.luis.TicketToken, "after-revoke")
	if r.Code != http.StatusUnauthorized || r.errorCode(t) != "bad_token" || r.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("scan with a token revoked elsewhere: %d %s, want 401 bad_token", r.Code, r.body)
	}
	if checkedIn(d.luis.ID) {
		t.Error("a token revoked elsewhere checked Luis in")
	}
	var nonces int
	d.ta.Store.DB().Get(&nonces, `SELECT count(*) FROM checkin_requests WHERE nonce = 'after-revoke'`)
	if nonces != 0 {
		t.Error("the refused scan stored its nonce")
	}

	// The staff flag removed on another process.
	_, tok2, _ := d.ta.Store.CreateAPIToken(ctx, d.staffUser, "Desk 2")
	desk2 := d.bearer(tok2)
	if r := d.scan(desk2, *d.ana.TicketToken, ""); r.Code != http.StatusOK {
		t.Fatalf("desk 2: %d %s", r.Code, r.body)
	}
	other.SetRoles(ctx, d.staffUser.ID, false, false)
	if r := d.scan(desk2, *d.luis.TicketToken, ""); r.Code != http.StatusUnauthorized {
		t.Errorf("scan by a former staff member's remembered token: %d, want 401", r.Code)
	}
	if checkedIn(d.luis.ID) {
		t.Error("a former staff member's token checked Luis in")
	}
	other.SetRoles(ctx, d.staffUser.ID, true, false)

	// An address throttled meanwhile (guesses sent to another process).
	_, tok3, _ := d.ta.Store.CreateAPIToken(ctx, d.staffUser, "Desk 3")
	desk3 := d.bearer(tok3)
	if r := d.scan(desk3, *d.ana.TicketToken, ""); r.Code != http.StatusOK {
		t.Fatalf("desk 3: %d %s", r.Code, r.body)
	}
	for i := range models.TokenFailuresPerAddress {
		other.TokenUser(ctx, fmt.Sprintf("cvt_guess%039d", i), "192.0.2.10")
	}
	if r := d.scan(desk3, *d.luis.TicketToken, ""); r.Code != http.StatusTooManyRequests {
		t.Errorf("scan from a throttled address: %d, want 429", r.Code)
	}
	if checkedIn(d.luis.ID) {
		t.Error("a scan from a throttled address checked Luis in")
	}
}

// A remembered token that no longer works is told so (401 or 429) whatever
// else is wrong with the request: a bad body, a bad nonce, an unknown
// conference are answered only to a token that works, as on every route.
func TestRememberedRevokedTokenIsRefusedBeforeAnythingElse(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	other := models.NewStore(d.ta.Store.DB())
	if got := result(t, d.scan(d.scanner, *d.ana.TicketToken, "")); got != models.CheckedIn {
		t.Fatalf("first scan: %s", got)
	}
	// Before the revocation, each of these is refused for what it is.
	bad := []struct {
		name string
		send func(c *client) response
		code int
	}{
		{"not JSON", func(c *client) response {
			return c.do("POST", "/api/v1/conferences/pal/checkins", "application/json", strings.NewReader("{"))
		}, http.StatusBadRequest},
		{"an unknown field", func(c *client) response {
			return c.api("POST", "/api/v1/conferences/pal/checkins", map[string]any{"code": *d.luis.TicketToken, "desk": 2})
		}, http.StatusBadRequest},
		{"no code", func(c *client) response { return d.scan(c, "", "") }, http.StatusBadRequest},
		{"a bad nonce", func(c *client) response { return d.scan(c, *d.luis.TicketToken, "tab\there") }, http.StatusUnprocessableEntity},
		{"an unknown conference", func(c *client) response {
			return c.api("POST", "/api/v1/conferences/no-such/checkins", map[string]any{"code": *d.luis.TicketToken})
		}, http.StatusNotFound},
	}
	for _, b := range bad {
		if r := b.send(d.scanner); r.Code != b.code {
			t.Errorf("%s with a working token: %d %s, want %d", b.name, r.Code, r.body, b.code)
		}
	}
	ts, _ := other.APITokens(ctx)
	if _, err := other.RevokeAPIToken(ctx, ts[0].ID, d.staffUser); err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		r := b.send(d.scanner)
		if r.Code != http.StatusUnauthorized || r.errorCode(t) != "bad_token" || r.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s with a token revoked elsewhere: %d %s, want 401 bad_token", b.name, r.Code, r.body)
		}
	}
	if r, _ := d.ta.Store.Registration(ctx, d.luis.ID); r.CheckedInAt != nil {
		t.Error("a revoked token checked Luis in")
	}
}

// A body the API cannot read is answered in the API's terms, never with
// Go's own error text.
func TestBadJSONIsExplainedPlainly(t *testing.T) {
	d := newDesk(t)
	send := func(body string) response {
		return d.scanner.do("POST", "/api/v1/conferences/pal/checkins", "application/json", strings.NewReader(body))
	}
	for body, want := range map[string]string{
		``:                         "The request body is empty: send a JSON object.",
		`{"code": "AB`:             "The request body is not valid JSON: it ends too soon.",
		`{"code": }`:               "The request body is not valid JSON: see character 10.",
		`{"code": 12}`:             `The field \"code\" has the wrong type (number).`,
		`["code"]`:                 "The request body must be a JSON object.",
		`{"code": "x", "desk": 2}`: `The field \"desk\" is not known here.`,
	} {
		r := send(body)
		if r.Code != http.StatusBadRequest || r.errorCode(t) != "bad_request" || !strings.Contains(r.body, want) {
			t.Errorf("%s: %d %s, want 400 saying %s", body, r.Code, r.body, want)
		}
		if strings.Contains(r.body, "json:") || strings.Contains(r.body, "Go ") {
			t.Errorf("%s: Go's error text reached the client: %s", body, r.body)
		}
	}
}
