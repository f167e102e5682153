package handlers

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"convene/models"

	"github.com/gin-gonic/gin"
)

// Personal API tokens for scanner devices: staff create them on /staff/tokens
// and a device sends one as "Authorization: Bearer cvt_...".

const (
	ctxViaToken = "via_token"
	// ctxRemembered holds the bearer token of a request signed in from the
	// remembered tokens (models.Store.ScannerUser): its action must check
	// the token again.
	ctxRemembered = "remembered_token"
)

// checksTokenAgain names the routes whose action checks, in its own
// statement, that the bearer token still works: they may be signed in from
// the remembered tokens, saving a round trip. A scan is the one request a
// desk sends many of a minute.
var checksTokenAgain = map[string]bool{
	http.MethodPost + " /api/v1/conferences/:slug/checkins": true,
}

// bearerToken is the token of an "Authorization: Bearer ..." header.
func bearerToken(c *gin.Context) (string, bool) {
	scheme, tok, ok := strings.Cut(c.GetHeader("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// loadTokenUser signs the request in as the staff member a bearer token
// belongs to. A bad token is refused outright (401) rather than treated as
// anonymous, so a device with a revoked token learns it at once; lookups are
// throttled per address (429).
func (a *App) loadTokenUser(c *gin.Context, tok string) {
	var u models.User
	err := models.ErrNotFound
	remember := checksTokenAgain[c.Request.Method+" "+c.FullPath()]
	switch {
	case !models.LooksLikeAPIToken(tok):
	case remember:
		u, err = a.Store.ScannerUser(c.Request.Context(), tok, c.ClientIP())
	default:
		u, err = a.Store.TokenUser(c.Request.Context(), tok, c.ClientIP())
	}
	switch {
	case err == nil:
		c.Set(ctxUser, &u)
		c.Set(ctxViaToken, true)
		if remember {
			c.Set(ctxRemembered, tok)
		}
		c.Next()
	default:
		a.tokenError(c, err)
	}
}

// stillSignedIn is for a request signed in from a remembered token whose
// action is about to refuse it before its statement has checked the token
// again (a bad body, say): it looks the token up first, so that a revoked
// token, a former staff member's or a throttled address is answered as
// such (401 or 429), as on every other route, and not with the refusal.
// Answered, it reports false. A request signed in otherwise is let through.
func (a *App) stillSignedIn(c *gin.Context) bool {
	tok := c.GetString(ctxRemembered)
	if tok == "" {
		return true
	}
	if _, err := a.Store.TokenUser(c.Request.Context(), tok, c.ClientIP()); err != nil {
		a.Store.ForgetScanner(tok)
		a.tokenError(c, err)
		return false
	}
	return true
}

// tokenError answers a request whose bearer token does not work.
func (a *App) tokenError(c *gin.Context, err error) {
	switch {
	case errors.Is(err, models.ErrNotFound):
		c.Header("WWW-Authenticate", `Bearer error="invalid_token"`)
		a.fail(c, http.StatusUnauthorized, "bad_token", "This API token does not work: it was revoked or never existed. Ask conference staff for a new one.")
	case errors.Is(err, models.ErrThrottled):
		a.fail(c, http.StatusTooManyRequests, "too_many_attempts", "Too many attempts. Wait 15 minutes and try again.")
	default:
		a.serverError(c, err)
	}
}

type tokensView struct {
	Tokens []models.APIToken
	// New is the token just created, shown this once.
	New     string
	NewName string
	// Loc is the zone dates are shown in: tokens belong to no conference.
	Loc *time.Location
}

func (a *App) tokensPage(c *gin.Context) {
	a.renderTokens(c, http.StatusOK, tokensView{}, nil)
}

func (a *App) renderTokens(c *gin.Context, status int, v tokensView, problems map[string]string) {
	var err error
	if v.Tokens, err = a.Store.APITokens(c.Request.Context()); err != nil {
		a.serverError(c, err)
		return
	}
	v.Loc = time.UTC
	p := a.newPage(c, a.T(c, "API tokens for scanners"))
	p.Data, p.Errors = v, problems
	p.Form = gin.H{"Name": c.PostForm("name")}
	a.render(c, status, "tokens", p)
}

func (a *App) createToken(c *gin.Context) {
	t, secret, err := a.Store.CreateAPIToken(c.Request.Context(), *currentUser(c), c.PostForm("name"))
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		a.renderTokens(c, http.StatusUnprocessableEntity, tokensView{}, ve.Fields)
		return
	}
	if err != nil {
		a.modelError(c, err)
		return
	}
	// Rendered in this response, never put in a cookie or a URL.
	a.renderTokens(c, http.StatusCreated, tokensView{New: secret, NewName: t.Name}, nil)
}

func (a *App) revokeToken(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		a.notFound(c)
		return
	}
	t, err := a.Store.RevokeAPIToken(c.Request.Context(), id, *currentUser(c))
	if err != nil {
		a.modelError(c, err)
		return
	}
	setFlash(c, a.T(c, "Token “%s” revoked: devices using it are signed out.", t.Name))
	c.Redirect(http.StatusSeeOther, "/staff/tokens")
}
