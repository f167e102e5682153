package handlers

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"convene/models"
	"convene/templates"

	"github.com/gin-gonic/gin"
)

const (
	sessionCookie = "convene_session"
	langCookie    = "convene_lang"
	ctxUser       = "user"
	ctxLang       = "lang"
	ctxRequestID  = "request_id"
	ctxToken      = "session_token"
	ctxRawBody    = "raw_body"
	maxBodyBytes  = 1 << 20
)

// requestLog gives each request an id and logs one line when it ends: method,
// route pattern (never the raw path, which may hold a ticket token), status,
// duration. No personal data.
func (a *App) requestLog(c *gin.Context) {
	b := make([]byte, 8)
	rand.Read(b)
	id := hex.EncodeToString(b)
	c.Set(ctxRequestID, id)
	c.Header("X-Request-Id", id)
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	a.Log.Info("request", "request_id", id, "method", c.Request.Method, "route", route,
		"status", c.Writer.Status(), "ms", time.Since(start).Milliseconds())
}

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// recoverPanics turns a panic into a logged 500 with a plain message.
func (a *App) recoverPanics(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			a.Log.Error("panic", "request_id", requestID(c), "route", c.FullPath(), "panic", r)
			a.fail(c, http.StatusInternalServerError, "internal", "Something went wrong on our side. Please try again in a minute.")
		}
	}()
	c.Next()
}

// crossOrigin rejects cross-site state-changing requests using net/http's
// CrossOriginProtection (Sec-Fetch-Site and Origin); Stripe's webhook is exempt
// because it authenticates by signature.
func (a *App) crossOrigin() gin.HandlerFunc {
	cop := http.NewCrossOriginProtection()
	cop.AddInsecureBypassPattern("POST /webhooks/stripe")
	return func(c *gin.Context) {
		if err := cop.Check(c.Request); err != nil {
			a.fail(c, http.StatusForbidden, "cross_origin", "This request came from another site and was refused.")
			return
		}
		c.Next()
	}
}

// limitBody caps request bodies; routes that take uploads set their own cap
// with uploadLimit.
func limitBody(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(ctxRawBody, c.Request.Body)
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		c.Next()
	}
}

// uploadLimit replaces limitBody's cap with n for a route that takes files.
func uploadLimit(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if raw, ok := c.Get(ctxRawBody); ok {
			c.Request.Body = http.MaxBytesReader(c.Writer, raw.(io.ReadCloser), n)
		}
		c.Next()
	}
}

// chooseLang picks the page language: ?lang= (remembered in a cookie), the
// cookie, then Accept-Language.
func (a *App) chooseLang(c *gin.Context) {
	l := ""
	if q := c.Query("lang"); isLang(q) {
		l = q
		http.SetCookie(c.Writer, &http.Cookie{Name: langCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, Secure: a.Cfg.SecureCookies})
	} else if ck, err := c.Request.Cookie(langCookie); err == nil && isLang(ck.Value) {
		l = ck.Value
	} else {
		l = acceptLanguage(c.GetHeader("Accept-Language"))
	}
	c.Set(ctxLang, l)
	c.Next()
}

func isLang(s string) bool {
	for _, l := range templates.Languages {
		if s == l {
			return true
		}
	}
	return false
}

// acceptLanguage returns the supported language the browser prefers most.
func acceptLanguage(h string) string {
	best, bestQ := templates.Languages[0], -1.0
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if _, err := fmtSscan(v, &q); err != nil {
				continue
			}
		}
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if isLang(base) && q > bestQ {
			best, bestQ = base, q
		}
	}
	return best
}

func lang(c *gin.Context) string {
	if l := c.GetString(ctxLang); l != "" {
		return l
	}
	return templates.Languages[0]
}

// loadUser finds the signed-in user: on the API, from a bearer token when
// one is sent (scanner devices, see tokens.go); otherwise from the session
// cookie.
func (a *App) loadUser(c *gin.Context) {
	if tok, ok := bearerToken(c); ok && isAPI(c) {
		a.loadTokenUser(c, tok)
		return
	}
	if ck, err := c.Request.Cookie(sessionCookie); err == nil && ck.Value != "" {
		u, err := a.Store.SessionUser(c.Request.Context(), ck.Value)
		switch {
		case err == nil:
			c.Set(ctxUser, &u)
			c.Set(ctxToken, ck.Value)
		case !errors.Is(err, models.ErrNotFound):
			a.Log.Error("session lookup failed", "request_id", requestID(c), "err", err)
		}
	}
	c.Next()
}

func currentUser(c *gin.Context) *models.User {
	if u, ok := c.Get(ctxUser); ok {
		return u.(*models.User)
	}
	return nil
}

// isAPI reports whether the request is for the JSON API.
func isAPI(c *gin.Context) bool { return strings.HasPrefix(c.Request.URL.Path, "/api/") }

// requireUser sends people who are not signed in to the sign-in page (401 for the API).
func (a *App) requireUser(c *gin.Context) {
	if currentUser(c) == nil {
		if isAPI(c) {
			apiError(c, http.StatusUnauthorized, "unauthenticated", "Sign in first.")
			return
		}
		c.Redirect(http.StatusSeeOther, "/login?next="+urlEscape(c.Request.URL.RequestURI()))
		c.Abort()
		return
	}
	c.Next()
}

// requireStaff lets only staff through; others get 403.
func (a *App) requireStaff(c *gin.Context) {
	if u := currentUser(c); u == nil || !u.IsStaff {
		a.forbidden(c)
		return
	}
	c.Next()
}

// requireAdmin lets only admins through; others get 403.
func (a *App) requireAdmin(c *gin.Context) {
	if u := currentUser(c); u == nil || !u.IsAdmin {
		a.forbidden(c)
		return
	}
	c.Next()
}

func (a *App) forbidden(c *gin.Context) {
	if currentUser(c) == nil {
		a.requireUser(c)
		return
	}
	a.fail(c, http.StatusForbidden, "forbidden", "You do not have access to this page.")
}

// noStore keeps signed-in pages out of shared caches.
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Next()
}

// securityHeaders sets headers every response should carry.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	c.Next()
}
