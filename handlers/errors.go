package handlers

import (
	"errors"
	"fmt"
	"net/http"

	"convene/models"

	"github.com/gin-gonic/gin"
)

func fmtSscan(s string, f *float64) (int, error) { return fmt.Sscan(s, f) }

// apiError writes the API's error shape and stops the chain.
func apiError(c *gin.Context, status int, code, message string) {
	c.AbortWithStatusJSON(status, gin.H{"error": gin.H{"code": code, "message": message}})
}

// fail answers with an error: JSON for the API, a plain page for people.
func (a *App) fail(c *gin.Context, status int, code, message string) {
	if isAPI(c) {
		apiError(c, status, code, message)
		return
	}
	title := "Something went wrong"
	switch status {
	case http.StatusForbidden:
		title = "No access"
	case http.StatusNotFound:
		title = "Not found"
	case http.StatusConflict, http.StatusUnprocessableEntity, http.StatusBadRequest:
		title = "We could not do that"
	}
	p := a.newPage(c, a.T(c, title))
	p.Data = gin.H{"Status": status, "Message": p.T(message)}
	a.render(c, status, "error", p)
	c.Abort()
}

// serverError logs the cause and answers with a plain 500.
func (a *App) serverError(c *gin.Context, err error) {
	a.Log.Error("request failed", "request_id", requestID(c), "route", c.FullPath(), "err", err)
	a.fail(c, http.StatusInternalServerError, "internal", "Something went wrong on our side. Please try again in a minute.")
}

// modelError maps a models error to the right status and message.
func (a *App) modelError(c *gin.Context, err error) {
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		if isAPI(c) {
			c.AbortWithStatusJSON(http.StatusUnprocessableEntity, gin.H{"error": gin.H{
				"code": "invalid", "message": ve.Error(), "fields": ve.Fields}})
			return
		}
		a.fail(c, http.StatusUnprocessableEntity, "invalid", ve.Error())
	case errors.Is(err, models.ErrNotFound):
		a.notFound(c)
	case errors.Is(err, models.ErrForbidden):
		a.fail(c, http.StatusForbidden, "forbidden", "You do not have access to this.")
	case errors.Is(err, models.ErrThrottled):
		a.fail(c, http.StatusTooManyRequests, "too_many_attempts", "Too many attempts. Wait 15 minutes and try again.")
	default:
		a.serverError(c, err)
	}
}

func (a *App) notFound(c *gin.Context) {
	a.fail(c, http.StatusNotFound, "not_found", "We could not find that page.")
}

func isErr(err, target error) bool { return errors.Is(err, target) }
