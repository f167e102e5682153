package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestSignUpSignInSignOut(t *testing.T) {
	ta := newTestApp(t)
	c := ta.client()
	r := c.post("/signup", url.Values{"name": {"Ana Cortés"}, "email": {"ana@example.org"}, "password": {"short"}})
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("short password: %d", r.Code)
	}
	mustContain(t, r.body, "Use at least 8 characters.", `value="ana@example.org"`, `value="Ana Cortés"`)

	r = c.post("/signup", url.Values{"name": {"Ana Cortés"}, "email": {"ana@example.org"}, "password": {"solidarity forever"}})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("sign up: %d %s", r.Code, r.body)
	}
	old := c.cookies["convene_session"]
	if old == nil || !old.HttpOnly || old.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie missing or not HttpOnly/Lax: %+v", old)
	}
	if r := c.get("/account"); r.Code != http.StatusOK || !strings.Contains(r.body, "ana@example.org") {
		t.Fatalf("account page after sign-up: %d", r.Code)
	}
	if r := c.post("/logout", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("sign out: %d", r.Code)
	}
	// The old cookie no longer works, even when replayed.
	replay := ta.client()
	replay.cookies["convene_session"] = old
	if r := replay.get("/account"); r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Header().Get("Location"), "/login") {
		t.Errorf("old session cookie still works after sign-out: %d", r.Code)
	}
	if r := replay.get("/api/v1/me"); r.Code != http.StatusUnauthorized {
		t.Errorf("old session cookie works on the API: %d", r.Code)
	}

	// Signing in again gives a new session, not the old one.
	r = c.post("/login", url.Values{"email": {"ANA@example.org"}, "password": {"solidarity forever"}, "next": {"/account"}})
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/account" {
		t.Fatalf("sign in: %d %s", r.Code, r.Header().Get("Location"))
	}
	if c.cookies["convene_session"].Value == old.Value {
		t.Error("session token was not renewed at sign-in")
	}
}

func TestSignInRedirectStaysOnSite(t *testing.T) {
	ta := newTestApp(t)
	ta.user("ana@example.org", false, false)
	for _, next := range []string{"https://evil.example/", "//evil.example/x", `/\evil.example`} {
		r := ta.client().post("/login", url.Values{"email": {"ana@example.org"}, "password": {testPassword}, "next": {next}})
		if loc := r.Header().Get("Location"); loc != "/" {
			t.Errorf("next=%q redirected to %q", next, loc)
		}
	}
}

func TestCrossSiteFormPostIsRejected(t *testing.T) {
	ta := newTestApp(t)
	ta.user("ana@example.org", false, false)
	form := url.Values{"email": {"ana@example.org"}, "password": {testPassword}}

	c := ta.client()
	c.header.Set("Sec-Fetch-Site", "cross-site")
	if r := c.post("/login", form); r.Code != http.StatusForbidden {
		t.Errorf("cross-site POST (Sec-Fetch-Site): %d", r.Code)
	}
	c = ta.client()
	c.header.Set("Origin", "https://evil.example")
	if r := c.post("/login", form); r.Code != http.StatusForbidden {
		t.Errorf("cross-site POST (Origin): %d", r.Code)
	}
	if len(c.cookies) != 0 {
		t.Error("a refused cross-site sign-in still set cookies")
	}
	// Control: the same form from the same origin works.
	c = ta.client()
	c.header.Set("Sec-Fetch-Site", "same-origin")
	if r := c.post("/login", form); r.Code != http.StatusSeeOther {
		t.Errorf("same-origin POST: %d", r.Code)
	}
}

func TestSignInThrottledOverHTTP(t *testing.T) {
	ta := newTestApp(t)
	ta.user("ana@example.org", false, false)
	c := ta.client()
	for i := 0; i < 5; i++ {
		if r := c.post("/login", url.Values{"email": {"ana@example.org"}, "password": {"wrong guess"}}); r.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, r.Code)
		}
	}
	r := c.post("/login", url.Values{"email": {"ana@example.org"}, "password": {testPassword}})
	if r.Code != http.StatusTooManyRequests {
		t.Fatalf("right password after 5 failures: %d", r.Code)
	}
	mustContain(t, r.body, "Too many attempts")
	if _, ok := c.cookies["convene_session"]; ok {
		t.Error("throttled sign-in set a session")
	}
	r = c.api("POST", "/api/v1/auth/login", map[string]string{"email": "ana@example.org", "password": testPassword})
	if r.Code != http.StatusTooManyRequests || r.errorCode(t) != "too_many_attempts" {
		t.Errorf("API sign-in while throttled: %d %s", r.Code, r.body)
	}
}

func TestChangePasswordAndReset(t *testing.T) {
	ta := newTestApp(t)
	c := ta.signedIn("ana@example.org", false, false)
	other := ta.client()
	other.post("/login", url.Values{"email": {"ana@example.org"}, "password": {testPassword}})

	r := c.post("/account/password", url.Values{"current_password": {"not it"}, "new_password": {"a new strong one"}})
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("wrong current password: %d", r.Code)
	}
	mustContain(t, r.body, "This is not your current password.")
	r = c.post("/account/password", url.Values{"current_password": {testPassword}, "new_password": {"a new strong one"}})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("change: %d", r.Code)
	}
	if r := c.get("/account"); r.Code != http.StatusOK {
		t.Error("the device that changed the password was signed out")
	}
	if r := other.get("/account"); r.Code != http.StatusSeeOther {
		t.Error("other devices stay signed in after a password change")
	}
	// The reset form answers the same for unknown addresses.
	a := ta.client().post("/password/forgot", url.Values{"email": {"ana@example.org"}})
	b := ta.client().post("/password/forgot", url.Values{"email": {"nobody@example.org"}})
	if a.Code != http.StatusOK || a.body != b.body {
		t.Error("password reset reveals which accounts exist")
	}
	r = ta.client().post("/password/reset", url.Values{"token": {"forged"}, "password": {"another strong one"}})
	if r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "expired or was already used") {
		t.Errorf("forged reset token: %d", r.Code)
	}
}

func TestAPIAuth(t *testing.T) {
	ta := newTestApp(t)
	c := ta.client()
	r := c.api("POST", "/api/v1/auth/signup", map[string]string{"email": "li@example.org", "password": "organize now", "name": "Li Wei"})
	if r.Code != http.StatusCreated {
		t.Fatalf("signup: %d %s", r.Code, r.body)
	}
	if r := ta.client().api("POST", "/api/v1/auth/signup", map[string]string{"email": "LI@example.org", "password": "organize now", "name": "Li"}); r.Code != http.StatusConflict || r.errorCode(t) != "duplicate" {
		t.Errorf("duplicate signup: %d %s", r.Code, r.body)
	}
	if r := ta.client().api("POST", "/api/v1/auth/signup", map[string]string{"email": "bad", "password": "x"}); r.Code != http.StatusUnprocessableEntity || r.errorCode(t) != "invalid" {
		t.Errorf("invalid signup: %d %s", r.Code, r.body)
	}
	if r := ta.client().do("POST", "/api/v1/auth/login", "application/json", strings.NewReader("{not json")); r.Code != http.StatusBadRequest || r.errorCode(t) != "bad_request" {
		t.Errorf("bad JSON: %d %s", r.Code, r.body)
	}
	if r := ta.client().api("POST", "/api/v1/auth/login", map[string]string{"email": "li@example.org", "password": "wrong one!"}); r.Code != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", r.Code)
	}
	if r := c.get("/api/v1/me"); r.Code != http.StatusOK || r.json(t)["email"] != "li@example.org" {
		t.Errorf("me: %d %s", r.Code, r.body)
	}
	c.api("POST", "/api/v1/auth/logout", nil)
	if r := c.get("/api/v1/me"); r.Code != http.StatusUnauthorized || r.errorCode(t) != "unauthenticated" {
		t.Errorf("me after logout: %d %s", r.Code, r.body)
	}
}

func TestHealth(t *testing.T) {
	ta := newTestApp(t)
	if r := ta.client().get("/healthz"); r.Code != http.StatusOK {
		t.Errorf("healthz %d", r.Code)
	}
	if r := ta.client().get("/readyz"); r.Code != http.StatusOK {
		t.Errorf("readyz %d", r.Code)
	}
	ta.DB.Close()
	if r := ta.client().get("/readyz"); r.Code != http.StatusServiceUnavailable {
		t.Errorf("readyz with the database gone: %d", r.Code)
	}
}

// A client cannot dodge the per-address throttle by making up
// X-Forwarded-For headers: with no trusted proxy configured, the connection's
// address is the client's.
func TestForwardedForDoesNotDodgeThrottling(t *testing.T) {
	ta := newTestApp(t)
	for i := 0; i < 31; i++ {
		c := ta.client()
		c.header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
		c.post("/login", url.Values{"email": {fmt.Sprintf("guess%d@example.org", i)}, "password": {"wrong guess"}})
	}
	ta.user("real@example.org", false, false)
	c := ta.client()
	c.header.Set("X-Forwarded-For", "198.51.100.7")
	if r := c.post("/login", url.Values{"email": {"real@example.org"}, "password": {testPassword}}); r.Code != http.StatusTooManyRequests {
		t.Errorf("after 31 failures from one connection address with forged headers: %d, want 429", r.Code)
	}
}
