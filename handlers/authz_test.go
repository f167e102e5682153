package handlers_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"convene/models"
)

// Routes anyone may use; every other route must refuse members it is not for.
var publicRoutes = map[string]bool{
	"GET /healthz": true, "GET /readyz": true, "GET /static/*filepath": true, "HEAD /static/*filepath": true,
	"GET /": true, "GET /conferences/:slug": true,
	"GET /signup": true, "POST /signup": true, "GET /login": true, "POST /login": true, "POST /logout": true,
	"GET /password/forgot": true, "POST /password/forgot": true, "GET /password/reset": true, "POST /password/reset": true,
	"POST /api/v1/auth/signup": true, "POST /api/v1/auth/login": true, "POST /api/v1/auth/logout": true,
	"GET /api/v1/conferences": true, "GET /api/v1/conferences/:slug": true,
	"GET /conferences/:slug/agenda.pdf": true,
	"POST /webhooks/stripe":             true, // authenticated by Stripe's signature, tested in payments_test.go
	// A ticket's QR code: staff see its check-in status, anyone else only
	// that it is valid and the first name (checkin_test.go).
	"GET /t/:token": true,
}

// Routes for any signed-in member.
var memberRoutes = map[string]bool{
	"GET /account": true, "POST /account/password": true, "GET /api/v1/me": true,
	"GET /me": true, "GET /conferences/:slug/register": true, "POST /conferences/:slug/register": true,
	"GET /api/v1/me/registrations": true, "POST /api/v1/conferences/:slug/registrations": true,
	"GET /api/v1/locals": true,
}

// Routes for admins only (staff who are not admins get 403 too).
var adminRoutes = map[string]bool{
	"PATCH /api/v1/users/:email": true, "GET /admin": true, "POST /admin/locals": true,
	"GET /admin/locals/:number": true, "POST /admin/locals/:number/officers": true,
	"POST /admin/locals/:number/officers/:id/remove": true, "POST /admin/users/:id/staff": true,
	"POST /api/v1/locals": true, "POST /api/v1/locals/:number/officers": true,
	"DELETE /api/v1/locals/:number/officers/:email": true,
}

func fillPath(p string, regID int64) string {
	return strings.NewReplacer(":slug", "pal", ":id", strconv.FormatInt(regID, 10), ":cat", "member-delegate",
		":email", "someone@example.org", ":number", "4121").Replace(p)
}

// TestEveryRouteChecksItsRole walks the route table, so a new route cannot
// skip authorization unnoticed: it must be listed above as public or for
// members, or it must refuse anonymous callers (401 or a redirect to sign in)
// and signed-in members (403) and change nothing.
func TestEveryRouteChecksItsRole(t *testing.T) {
	ta := newTestApp(t)
	conf := ta.conference("pal", models.StatusDraft)
	anon := ta.client()
	member := ta.signedIn("member@example.org", false, false)
	staff := ta.signedIn("staff@example.org", true, false)
	// A registration of somebody else's, so per-registration routes have
	// something to refuse (not a 404).
	ctx := t.Context()
	if _, err := ta.Store.CreateCategory(ctx, conf, models.CategoryInput{Slug: "member-delegate", Name: "Member delegate", Price: "0"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ta.Store.CreateLocal(ctx, models.LocalInput{Number: "4121", Name: "Harbor City Academic Workers"}); err != nil {
		t.Fatal(err)
	}
	ta.user("owner@example.org", true, false)
	owner, _ := ta.Store.UserByEmail(ctx, "owner@example.org")
	ownerActor, _ := ta.Store.ActorFor(ctx, owner)
	reg, err := ta.Store.Register(ctx, conf, models.RegistrationInput{Category: "member-delegate", FirstName: "Olga", LastName: "Owner",
		Email: "olga@example.org", Local: "4121"}, ownerActor, ta.Now())
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, rt := range ta.App.Routes().Routes() {
		key := rt.Method + " " + rt.Path
		if publicRoutes[key] {
			continue
		}
		path := fillPath(rt.Path, reg.ID)
		isAPI := strings.HasPrefix(path, "/api/")
		send := func(c *client) response {
			if isAPI {
				return c.api(rt.Method, path, map[string]any{"title": "Changed by an intruder", "status": "published", "staff": true})
			}
			return c.do(rt.Method, path, "application/x-www-form-urlencoded", strings.NewReader("title=Changed+by+an+intruder&status=published"))
		}
		r := send(anon)
		if isAPI && r.Code != http.StatusUnauthorized {
			t.Errorf("%s anonymous: %d, want 401", key, r.Code)
		}
		if !isAPI && (r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Header().Get("Location"), "/login")) {
			t.Errorf("%s anonymous: %d, want a redirect to sign in", key, r.Code)
		}
		checked++
		if memberRoutes[key] {
			continue
		}
		if r := send(member); r.Code != http.StatusForbidden {
			t.Errorf("%s as member: %d, want 403", key, r.Code)
		}
		if adminRoutes[key] {
			if r := send(staff); r.Code != http.StatusForbidden {
				t.Errorf("%s as staff: %d, want 403", key, r.Code)
			}
		}
	}
	if checked < 15 {
		t.Fatalf("only %d protected routes checked; is the route table empty?", checked)
	}
	after, err := ta.Store.ConferenceBySlug(t.Context(), "pal", true)
	if err != nil || after.Title != conf.Title || after.Status != models.StatusDraft {
		t.Errorf("refused requests changed the conference: %+v %v", after, err)
	}
	if got, _ := ta.Store.Registration(ctx, reg.ID); got.Status != reg.Status {
		t.Errorf("refused requests changed the registration: %s -> %s", reg.Status, got.Status)
	}
	if u, _ := ta.Store.UserByEmail(t.Context(), "member@example.org"); u.IsStaff {
		t.Error("a member made themself staff")
	}
}
