package handlers

import (
	"errors"
	"net/http"
	"strings"

	"convene/models"

	"github.com/gin-gonic/gin"
)

// startSession signs a user in with a fresh session and cookie; any session
// the browser had before is ended, so a planted cookie cannot be reused.
func (a *App) startSession(c *gin.Context, u models.User) error {
	if old, err := c.Request.Cookie(sessionCookie); err == nil {
		a.Store.DeleteSession(c.Request.Context(), old.Value)
	}
	tok, err := a.Store.CreateSession(c.Request.Context(), u.ID)
	if err != nil {
		return err
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: a.Cfg.SecureCookies, MaxAge: int(models.SessionAbsolute.Seconds())})
	return nil
}

func (a *App) endSession(c *gin.Context) error {
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: a.Cfg.SecureCookies})
	if tok := c.GetString(ctxToken); tok != "" {
		return a.Store.DeleteSession(c.Request.Context(), tok)
	}
	return nil
}

// safeNext keeps post-sign-in redirects on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/"
	}
	return next
}

type authForm struct {
	Email, Name, Next string
}

func (a *App) signupForm(c *gin.Context) {
	p := a.newPage(c, a.T(c, "Create an account"))
	p.Form = authForm{Next: c.Query("next")}
	a.render(c, http.StatusOK, "signup", p)
}

func (a *App) signup(c *gin.Context) {
	f := authForm{Email: c.PostForm("email"), Name: c.PostForm("name"), Next: c.PostForm("next")}
	u, err := a.Store.CreateUser(c.Request.Context(), f.Email, f.Name, c.PostForm("password"))
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		p := a.newPage(c, a.T(c, "Create an account"))
		p.Form, p.Errors = f, ve.Fields
		a.render(c, http.StatusUnprocessableEntity, "signup", p)
		return
	}
	if err != nil {
		a.serverError(c, err)
		return
	}
	if err := a.startSession(c, u); err != nil {
		a.serverError(c, err)
		return
	}
	setFlash(c, a.T(c, "Welcome to Convene. Your account is ready."))
	c.Redirect(http.StatusSeeOther, safeNext(f.Next))
}

func (a *App) loginForm(c *gin.Context) {
	p := a.newPage(c, a.T(c, "Sign in"))
	p.Form = authForm{Next: c.Query("next")}
	a.render(c, http.StatusOK, "login", p)
}

func (a *App) login(c *gin.Context) {
	f := authForm{Email: c.PostForm("email"), Next: c.PostForm("next")}
	u, err := a.Store.Authenticate(c.Request.Context(), f.Email, c.PostForm("password"), c.ClientIP())
	if errors.Is(err, models.ErrBadCredential) || errors.Is(err, models.ErrThrottled) {
		p := a.newPage(c, a.T(c, "Sign in"))
		p.Form = f
		status, msg := http.StatusUnauthorized, "The email or password is not right."
		if errors.Is(err, models.ErrThrottled) {
			status, msg = http.StatusTooManyRequests, "Too many attempts. Wait 15 minutes and try again, or reset your password."
		}
		p.Errors = map[string]string{"password": msg}
		a.render(c, status, "login", p)
		return
	}
	if err != nil {
		a.serverError(c, err)
		return
	}
	if err := a.startSession(c, u); err != nil {
		a.serverError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, safeNext(f.Next))
}

func (a *App) logout(c *gin.Context) {
	if err := a.endSession(c); err != nil {
		a.serverError(c, err)
		return
	}
	setFlash(c, a.T(c, "You are signed out."))
	c.Redirect(http.StatusSeeOther, "/")
}

func (a *App) accountPage(c *gin.Context) {
	a.render(c, http.StatusOK, "account", a.newPage(c, a.T(c, "Your account")))
}

func (a *App) changePassword(c *gin.Context) {
	u := currentUser(c)
	err := a.Store.ChangePassword(c.Request.Context(), *u, c.PostForm("current_password"), c.PostForm("new_password"), c.GetString(ctxToken))
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		p := a.newPage(c, a.T(c, "Your account"))
		p.Errors = ve.Fields
		a.render(c, http.StatusUnprocessableEntity, "account", p)
		return
	}
	if err != nil {
		a.serverError(c, err)
		return
	}
	setFlash(c, a.T(c, "Your password is changed. Other devices were signed out."))
	c.Redirect(http.StatusSeeOther, "/account")
}

func (a *App) forgotForm(c *gin.Context) {
	a.render(c, http.StatusOK, "forgot", a.newPage(c, a.T(c, "Reset your password")))
}

// forgot sends a reset link. Until email sending exists the link is logged;
// the answer is the same whether or not the account exists.
func (a *App) forgot(c *gin.Context) {
	u, tok, err := a.Store.CreatePasswordReset(c.Request.Context(), c.PostForm("email"))
	switch {
	case err == nil:
		a.Log.Info("password reset link (email not yet sent)", "request_id", requestID(c), "user_id", u.ID,
			"link", a.Cfg.BaseURL+"/password/reset?token="+tok)
	case !errors.Is(err, models.ErrNotFound):
		a.serverError(c, err)
		return
	}
	p := a.newPage(c, a.T(c, "Reset your password"))
	p.Data = gin.H{"Sent": true}
	a.render(c, http.StatusOK, "forgot", p)
}

func (a *App) resetForm(c *gin.Context) {
	p := a.newPage(c, a.T(c, "Choose a new password"))
	p.Form = gin.H{"Token": c.Query("token")}
	a.render(c, http.StatusOK, "reset", p)
}

func (a *App) reset(c *gin.Context) {
	tok := c.PostForm("token")
	err := a.Store.ResetPassword(c.Request.Context(), tok, c.PostForm("password"))
	var ve *models.ValidationError
	p := a.newPage(c, a.T(c, "Choose a new password"))
	p.Form = gin.H{"Token": tok}
	switch {
	case errors.As(err, &ve):
		p.Errors = ve.Fields
		a.render(c, http.StatusUnprocessableEntity, "reset", p)
	case errors.Is(err, models.ErrNotFound):
		p.Errors = map[string]string{"password": "This reset link has expired or was already used. Ask for a new one."}
		a.render(c, http.StatusUnprocessableEntity, "reset", p)
	case err != nil:
		a.serverError(c, err)
	default:
		setFlash(c, a.T(c, "Your password is changed. Sign in with it now."))
		c.Redirect(http.StatusSeeOther, "/login")
	}
}

// API.

type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

func (a *App) apiSignup(c *gin.Context) {
	var in credentials
	if !bindJSON(c, &in) {
		return
	}
	u, err := a.Store.CreateUser(c.Request.Context(), in.Email, in.Name, in.Password)
	var ve *models.ValidationError
	if errors.As(err, &ve) && strings.Contains(ve.Fields["email"], "already exists") {
		apiError(c, http.StatusConflict, "duplicate", ve.Fields["email"])
		return
	}
	if err != nil {
		a.modelError(c, err)
		return
	}
	if err := a.startSession(c, u); err != nil {
		a.serverError(c, err)
		return
	}
	c.JSON(http.StatusCreated, userJSON(u))
}

func (a *App) apiLogin(c *gin.Context) {
	var in credentials
	if !bindJSON(c, &in) {
		return
	}
	u, err := a.Store.Authenticate(c.Request.Context(), in.Email, in.Password, c.ClientIP())
	switch {
	case errors.Is(err, models.ErrBadCredential):
		apiError(c, http.StatusUnauthorized, "bad_credentials", "The email or password is not right.")
		return
	case err != nil:
		a.modelError(c, err)
		return
	}
	if err := a.startSession(c, u); err != nil {
		a.serverError(c, err)
		return
	}
	c.JSON(http.StatusOK, userJSON(u))
}

func (a *App) apiLogout(c *gin.Context) {
	if err := a.endSession(c); err != nil {
		a.serverError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *App) apiMe(c *gin.Context) { c.JSON(http.StatusOK, userJSON(*currentUser(c))) }

func userJSON(u models.User) gin.H {
	return gin.H{"email": u.Email, "name": u.Name, "staff": u.IsStaff, "admin": u.IsAdmin}
}

// apiUpdateUser lets an admin set a user's staff flag.
func (a *App) apiUpdateUser(c *gin.Context) {
	var in struct {
		Staff *bool `json:"staff"`
		Admin *bool `json:"admin"`
	}
	if !bindJSON(c, &in) {
		return
	}
	u, err := a.Store.UserByEmail(c.Request.Context(), c.Param("email"))
	if err != nil {
		a.modelError(c, err)
		return
	}
	staff, admin := u.IsStaff, u.IsAdmin
	if in.Staff != nil {
		staff = *in.Staff
	}
	if in.Admin != nil {
		admin = *in.Admin
	}
	if err := a.Store.SetRoles(c.Request.Context(), u.ID, staff, admin); err != nil {
		a.serverError(c, err)
		return
	}
	a.Store.Audit(c.Request.Context(), a.DB, currentUser(c).ID, "roles_changed", "user", u.ID, map[string]any{"staff": staff || admin, "admin": admin})
	u, _ = a.Store.UserByID(c.Request.Context(), u.ID)
	c.JSON(http.StatusOK, userJSON(u))
}
