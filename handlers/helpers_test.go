package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"convene/config"
	"convene/handlers"
	"convene/internal/testdb"
	"convene/models"
)

type testApp struct {
	*handlers.App
	h http.Handler
	t *testing.T
}

func newTestApp(t *testing.T) *testApp {
	t.Helper()
	db, _ := testdb.New(t)
	cfg := config.Config{BaseURL: "http://convene.test", SecretKey: "test"}
	app, err := handlers.New(db, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return &testApp{App: app, h: app.Routes(), t: t}
}

// at stands the app's clock at t.
func (ta *testApp) at(t time.Time) { ta.Now = func() time.Time { return t } }

type response struct {
	*httptest.ResponseRecorder
	body string
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("response is not JSON (%v): %s", err, r.body)
	}
	return m
}

func (r response) errorCode(t *testing.T) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	if e == nil {
		t.Fatalf("no error object in %s", r.body)
	}
	if msg, _ := e["message"].(string); msg == "" {
		t.Errorf("error without a message: %s", r.body)
	}
	code, _ := e["code"].(string)
	return code
}

// client is a browser or API client with its own cookie jar.
type client struct {
	ta      *testApp
	cookies map[string]*http.Cookie
	header  http.Header
}

func (ta *testApp) client() *client {
	return &client{ta: ta, cookies: map[string]*http.Cookie{}, header: http.Header{}}
}

func (c *client) do(method, path, contentType string, body io.Reader) response {
	req := httptest.NewRequest(method, path, body)
	req.RemoteAddr = "192.0.2.10:1234"
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	c.ta.h.ServeHTTP(rec, req)
	for _, ck := range rec.Result().Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	return response{rec, rec.Body.String()}
}

func (c *client) get(path string) response { return c.do("GET", path, "", nil) }

func (c *client) post(path string, form url.Values) response {
	return c.do("POST", path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

func (c *client) api(method, path string, v any) response {
	var body io.Reader
	if v != nil {
		b, _ := json.Marshal(v)
		body = strings.NewReader(string(b))
	}
	return c.do(method, path, "application/json", body)
}

const testPassword = "union strong 2027"

// user makes an account with the given roles.
func (ta *testApp) user(email string, staff, admin bool) models.User {
	ta.t.Helper()
	u, err := ta.Store.CreateUser(context.Background(), email, "Test "+email, testPassword)
	if err != nil {
		ta.t.Fatal(err)
	}
	if staff || admin {
		if err := ta.Store.SetRoles(context.Background(), u.ID, staff, admin); err != nil {
			ta.t.Fatal(err)
		}
	}
	return u
}

// signedIn returns a client signed in as a new user with the given roles.
func (ta *testApp) signedIn(email string, staff, admin bool) *client {
	ta.t.Helper()
	ta.user(email, staff, admin)
	c := ta.client()
	r := c.post("/login", url.Values{"email": {email}, "password": {testPassword}})
	if r.Code != http.StatusSeeOther {
		ta.t.Fatalf("sign in as %s: %d %s", email, r.Code, r.body)
	}
	return c
}

// conference creates a conference with status, opening a week before now and
// closing in a month, starting in two months.
func (ta *testApp) conference(slug, status string) models.Conference {
	ta.t.Helper()
	ctx := context.Background()
	now := ta.Now()
	in := models.ConferenceInput{Slug: slug, Title: "Conference " + slug, TitleES: "Conferencia " + slug,
		Description: "About " + slug, Venue: "Union Hall", City: "Pico Rivera, CA", TimeZone: "America/Los_Angeles",
		StartsOn: now.AddDate(0, 2, 0).Format("2006-01-02"), EndsOn: now.AddDate(0, 2, 2).Format("2006-01-02"),
		Mode: "in_person", Capacity: "450", RegistrationOpensAt: now.AddDate(0, 0, -7).Format(time.RFC3339),
		RegistrationClosesAt: now.AddDate(0, 1, 0).Format(time.RFC3339)}
	c, err := ta.Store.CreateConference(ctx, in)
	if err != nil {
		ta.t.Fatal(err)
	}
	if status != models.StatusDraft {
		if c, err = ta.Store.SetConferenceStatus(ctx, c.ID, status); err != nil {
			ta.t.Fatal(err)
		}
	}
	return c
}

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page does not show %q", w)
		}
	}
}

func mustNotContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if strings.Contains(body, w) {
			t.Errorf("page shows %q but should not", w)
		}
	}
}
