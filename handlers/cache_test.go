package handlers_test

import (
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"convene/handlers"
	"convene/models"
)

// cachedApp is a test app whose anonymous page cache keeps pages for ttl.
func cachedApp(t *testing.T, ttl time.Duration) *testApp {
	ta := newTestApp(t)
	ta.h = ta.App.Routes(handlers.PageCacheTTL(ttl))
	return ta
}

func TestCachedCatalogueIsWhatTheRenderAnswered(t *testing.T) {
	ta := cachedApp(t, time.Minute)
	ta.conference("pal", models.StatusPublished)
	first := ta.client().get("/")
	again := ta.client().get("/")
	if first.Code != http.StatusOK || again.Code != http.StatusOK {
		t.Fatalf("catalogue answered %d then %d", first.Code, again.Code)
	}
	if first.body != again.body {
		t.Error("the cached page differs from the rendered one")
	}
	for _, h := range []string{"Content-Type", "Content-Language", "X-Content-Type-Options"} {
		if a, b := first.Header().Get(h), again.Header().Get(h); a != b || a == "" {
			t.Errorf("%s: rendered %q, cached %q", h, a, b)
		}
	}
	if first.Header().Get("X-Request-Id") == again.Header().Get("X-Request-Id") {
		t.Error("two requests share a request id")
	}
}

func TestSignedInPeopleNeverGetTheAnonymousPage(t *testing.T) {
	ta := cachedApp(t, time.Minute)
	ta.conference("pal", models.StatusPublished)
	anon := ta.client()
	mustContain(t, anon.get("/").body, ">Sign in<", "Conference pal") // now cached

	member := ta.signedIn("member@example.org", false, false)
	r := member.get("/")
	mustContain(t, r.body, "Your account", "Sign out", "Conference pal")
	mustNotContain(t, r.body, ">Sign in<", "/staff")

	staff := ta.signedIn("staff@example.org", true, false)
	mustContain(t, staff.get("/").body, "Your account", `href="/staff"`)

	// Nor does anyone get a signed-in page from the cache.
	r = anon.get("/")
	mustContain(t, r.body, ">Sign in<")
	mustNotContain(t, r.body, "Your account", "Sign out", "/staff")

	// Signing out lands on the catalogue with its message, rendered afresh.
	if r := member.post("/logout", url.Values{}); r.Code != http.StatusSeeOther {
		t.Fatalf("sign out: %d", r.Code)
	}
	r = member.get("/")
	mustContain(t, r.body, "You are signed out.", ">Sign in<")
	mustNotContain(t, anon.get("/").body, "You are signed out.")
	mustNotContain(t, member.get("/").body, "You are signed out.") // shown once
}

func TestCacheNeverMixesLanguages(t *testing.T) {
	ta := cachedApp(t, time.Minute)
	ta.conference("bilingual", models.StatusPublished)
	en := ta.client()
	mustContain(t, en.get("/").body, `<html lang="en">`, "Upcoming", "Conference bilingual")

	es := ta.client()
	es.header.Set("Accept-Language", "es-MX,es;q=0.9")
	r := es.get("/")
	mustContain(t, r.body, `<html lang="es">`, "Próximas", "Conferencia bilingual")
	mustNotContain(t, r.body, "Upcoming", ">Sign in<")
	if got := r.Header().Get("Content-Language"); got != "es" {
		t.Errorf("Content-Language %q, want es", got)
	}

	// The switch is served from the cache and still remembered in a cookie.
	sw := ta.client()
	sw.header.Set("Accept-Language", "en-US")
	r = sw.get("/?lang=es")
	mustContain(t, r.body, `<html lang="es">`, "Próximas")
	if ck := sw.cookies["convene_lang"]; ck == nil || ck.Value != "es" {
		t.Errorf("?lang=es set no language cookie: %v", ck)
	}
	mustContain(t, sw.get("/").body, `<html lang="es">`)
	r = sw.get("/?lang=en")
	mustContain(t, r.body, `<html lang="en">`, "Upcoming")
	mustNotContain(t, r.body, "Próximas")
	if ck := sw.cookies["convene_lang"]; ck == nil || ck.Value != "en" {
		t.Errorf("?lang=en did not switch the language cookie: %v", ck)
	}
	mustContain(t, en.get("/").body, `<html lang="en">`)
}

func TestNewlyPublishedConferenceAppearsAfterTheTTL(t *testing.T) {
	// The production TTL: a shorter one raced the insert below on a loaded machine.
	const ttl = time.Second
	ta := cachedApp(t, ttl)
	ta.conference("first", models.StatusPublished)
	anon := ta.client()
	mustNotContain(t, anon.get("/").body, "Conference second")

	ta.conference("second", models.StatusPublished)
	// Within the TTL the cached page is served: the cache is really in use...
	mustNotContain(t, anon.get("/").body, "Conference second")
	// ...while staff, signed in, see the change at once.
	mustContain(t, ta.signedIn("staff@example.org", true, false).get("/").body, "Conference second")

	time.Sleep(ttl + 10*time.Millisecond)
	mustContain(t, anon.get("/").body, "Conference first", "Conference second")
}

// A moved app clock (as tests use to stand at a deadline) is a different
// page: the window state and dates are rendered for that moment.
func TestCacheFollowsTheAppClock(t *testing.T) {
	ta := cachedApp(t, time.Minute)
	c := ta.conference("pal", models.StatusPublished)
	mustContain(t, ta.client().get("/").body, "Open until")
	ta.at(c.RegistrationClosesAt.Add(time.Hour))
	mustContain(t, ta.client().get("/").body, "Registration closed")
}

// A burst of anonymous visitors on a cold cache renders the page once. The
// app clock counts the work: every render reads it several times, a visitor
// served from the cache at most once. A slow clock makes the burst overlap
// the render. The control, with the cache off, shows the count can fail.
func TestBurstRendersOnce(t *testing.T) {
	const visitors = 16
	burst := func(ttl time.Duration) (perRender, total int64) {
		ta := cachedApp(t, ttl)
		ta.conference("pal", models.StatusPublished)
		ta.conference("town-hall", models.StatusPublished)
		var calls atomic.Int64
		ta.Now = func() time.Time {
			calls.Add(1)
			time.Sleep(time.Millisecond)
			return time.Now()
		}
		ta.client().get("/") // one render on its own, to learn its cost
		perRender = calls.Load()
		time.Sleep(ttl) // let it expire: the burst meets a cold cache
		calls.Store(0)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range visitors {
			c := ta.client()
			wg.Go(func() {
				<-start
				if r := c.get("/"); r.Code != http.StatusOK {
					t.Errorf("catalogue answered %d", r.Code)
				}
			})
		}
		close(start)
		wg.Wait()
		return perRender, calls.Load()
	}

	perRender, total := burst(30 * time.Millisecond)
	if perRender < 4 {
		t.Fatalf("a render reads the clock only %d times; the count cannot tell renders from hits", perRender)
	}
	if limit := 2*perRender + visitors; total > limit {
		t.Errorf("a burst of %d read the clock %d times (a render: %d): it rendered more than once", visitors, total, perRender)
	}
	if _, uncached := burst(0); uncached < visitors*perRender/2 {
		t.Errorf("control: without the cache the burst read the clock only %d times; the test cannot fail", uncached)
	}
}
