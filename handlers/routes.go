package handlers

import (
	"net/http"

	"convene/static"

	"github.com/gin-gonic/gin"
)

// Routes is the one route table: every URL Convene answers is listed here.
// Options exist for tests (see cache.go); production uses none.
func (a *App) Routes(opts ...RouteOption) *gin.Engine {
	o := buildOptions(opts)
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// Only configured proxies may name the client in X-Forwarded-For; sign-in
	// and token throttling key on the client's address.
	if err := r.SetTrustedProxies(a.Cfg.TrustedProxies); err != nil {
		a.Log.Error("TRUSTED_PROXIES is not a list of addresses or CIDRs; trusting none", "err", err)
		r.SetTrustedProxies(nil)
	}
	r.RedirectTrailingSlash = true
	r.HandleMethodNotAllowed = false
	r.Use(a.requestLog, a.recoverPanics, securityHeaders, a.crossOrigin(), limitBody(maxBodyBytes), a.chooseLang, a.loadUser)
	r.NoRoute(a.notFound)

	r.GET("/healthz", a.healthz)
	r.GET("/readyz", a.readyz)
	r.StaticFS("/static", http.FS(static.FS))

	// Public pages.
	// The busiest page: anonymous visitors get it from a short-lived cache (cache.go).
	r.GET("/", newPageCache(a, o.pageCacheTTL).anonymous, a.catalogue)
	r.GET("/conferences/:slug", a.conferencePage)
	r.GET("/signup", a.signupForm)
	r.POST("/signup", a.signup)
	r.GET("/login", a.loginForm)
	r.POST("/login", a.login)
	r.POST("/logout", a.logout)
	r.GET("/password/forgot", a.forgotForm)
	r.POST("/password/forgot", a.forgot)
	r.GET("/password/reset", a.resetForm)
	r.POST("/password/reset", a.reset)

	// Registration, for members, officers and staff.
	member := r.Group("", a.requireUser, noStore)
	member.GET("/conferences/:slug/register", a.registerForm)
	member.POST("/conferences/:slug/register", a.register)
	member.GET("/me", a.dashboard)
	member.GET("/registrations/:id", a.registrationPage)
	member.POST("/registrations/:id/cancel", a.decidePage("cancel"))
	member.POST("/registrations/:id/approve", a.decidePage("approve"))
	member.POST("/registrations/:id/deny", a.decidePage("deny"))
	// Staff get every registration, officers their locals' only.
	member.GET("/staff/conferences/:slug/registrations.csv", a.exportCSV)
	member.GET("/officer/approvals", a.approvals)
	member.POST("/officer/approvals", a.bulkApprove)
	member.GET("/officer/locals/:number/delegation", a.delegationForm)
	member.POST("/officer/locals/:number/delegation", a.registerDelegation)

	account := r.Group("/account", a.requireUser, noStore)
	account.GET("", a.accountPage)
	account.POST("/password", a.changePassword)

	staff := r.Group("/staff", a.requireUser, a.requireStaff, noStore)
	staff.GET("", a.staffHome)
	staff.GET("/conferences/new", a.newConferenceForm)
	staff.POST("/conferences", a.createConference)
	staff.GET("/conferences/:slug", a.staffConference)
	staff.GET("/conferences/:slug/edit", a.editConferenceForm)
	staff.POST("/conferences/:slug/edit", a.updateConference)
	staff.POST("/conferences/:slug/status", a.setConferenceStatus)
	staff.GET("/conferences/:slug/categories/new", a.newCategoryForm)
	staff.POST("/conferences/:slug/categories", a.createCategory)
	staff.GET("/conferences/:slug/categories/:id/edit", a.editCategoryForm)
	staff.POST("/conferences/:slug/categories/:id/edit", a.updateCategory)
	staff.GET("/conferences/:slug/waitlist", a.waitlistPage)
	staff.GET("/conferences/:slug/dashboard", a.dashboardPage)
	staff.POST("/conferences/:slug/waitlist/:id", a.waitlistAction)
	staff.GET("/conferences/:slug/sessions/new", a.newSessionForm)
	staff.POST("/conferences/:slug/sessions", a.createSession)
	staff.GET("/conferences/:slug/sessions/:id/edit", a.editSessionForm)
	staff.POST("/conferences/:slug/sessions/:id/edit", a.updateSession)

	// Badges, tickets and agendas.
	r.GET("/conferences/:slug/agenda.pdf", a.conferenceAgendaPDF)
	member.GET("/registrations/:id/ticket", a.ticketPage)
	member.GET("/registrations/:id/agenda.pdf", a.registrationAgendaPDF)
	r.GET("/registrations/:id/badge.pdf", a.requireUser, a.requireStaff, noStore, a.badgePDF)
	staff.GET("/conferences/:slug/badges", a.badgesPage)
	staff.GET("/conferences/:slug/badges.pdf", a.badgesPDF)

	// JSON API.
	api := r.Group("/api/v1", noStore)
	api.POST("/auth/signup", a.apiSignup)
	api.POST("/auth/login", a.apiLogin)
	api.POST("/auth/logout", a.apiLogout)
	api.GET("/me", a.requireUser, a.apiMe)
	api.GET("/conferences", a.apiConferences)
	api.GET("/conferences/:slug", a.apiConference)

	apiMember := api.Group("", a.requireUser)
	apiMember.POST("/conferences/:slug/registrations", a.apiRegister)
	apiMember.GET("/conferences/:slug/registrations", a.apiConferenceRegistrations)
	apiMember.GET("/me/registrations", a.apiMyRegistrations)
	apiMember.GET("/registrations/:id", a.apiRegistration)
	apiMember.POST("/registrations/:id/approve", a.apiDecide("approve"))
	apiMember.POST("/registrations/:id/deny", a.apiDecide("deny"))
	apiMember.POST("/registrations/:id/cancel", a.apiDecide("cancel"))

	apiStaff := api.Group("", a.requireUser, a.requireStaff)
	apiStaff.POST("/conferences", a.apiCreateConference)
	apiStaff.PATCH("/conferences/:slug", a.apiUpdateConference)
	apiStaff.POST("/conferences/:slug/categories", a.apiCreateCategory)
	apiStaff.PATCH("/conferences/:slug/categories/:cat", a.apiUpdateCategory)
	apiStaff.POST("/conferences/:slug/sessions", a.apiCreateSession)
	apiStaff.PATCH("/conferences/:slug/sessions/:id", a.apiUpdateSession)

	apiAdmin := api.Group("", a.requireUser, a.requireAdmin)
	apiAdmin.PATCH("/users/:email", a.apiUpdateUser)

	// Locals, officers and rosters. Admins manage locals and officers; a
	// local's officers and staff manage its roster (rosterLocal checks which).
	admin := r.Group("/admin", a.requireUser, a.requireAdmin, noStore)
	admin.GET("", a.adminHome)
	admin.POST("/locals", a.adminCreateLocal)
	admin.GET("/locals/:number", a.adminLocal)
	admin.POST("/locals/:number/officers", a.adminAddOfficer)
	admin.POST("/locals/:number/officers/:id/remove", a.adminRemoveOfficer)
	admin.POST("/users/:id/staff", a.adminSetStaff)
	officer := r.Group("/officer", a.requireUser, a.requireOfficer, noStore)
	officer.GET("", a.officerHome)
	officer.GET("/locals/:number/roster", a.rosterPage)
	officer.POST("/locals/:number/roster/uploads", uploadLimit(rosterUploadCap), a.uploadRoster)
	officer.GET("/locals/:number/roster/uploads/:id", a.rosterUploadPage)
	officer.POST("/locals/:number/roster/uploads/:id/apply", a.applyRosterUpload)
	apiLocals := api.Group("/locals", a.requireUser)
	apiLocals.GET("", a.apiLocals)
	apiLocals.POST("", a.requireAdmin, a.apiCreateLocal)
	apiLocals.POST("/:number/officers", a.requireAdmin, a.apiAddOfficer)
	apiLocals.DELETE("/:number/officers/:email", a.requireAdmin, a.apiRemoveOfficer)
	apiLocals.PUT("/:number/roster", a.requireOfficer, uploadLimit(rosterUploadCap), a.apiPutRoster)

	// Payments.
	r.POST("/webhooks/stripe", a.stripeWebhook) // authenticated by Stripe's signature
	member.GET("/registrations/:id/payment", a.paymentPage)
	member.GET("/registrations/:id/payment/success", a.paymentSuccess)
	member.GET("/registrations/:id/payment/cancelled", a.paymentCancelled)
	member.POST("/registrations/:id/checkout", a.checkoutPage)
	member.POST("/registrations/:id/payments", a.recordPaymentPage)
	member.GET("/registrations/:id/cancel", a.cancelPage)
	member.GET("/payments/:id/receipt", a.receiptPage)
	member.GET("/payments/:id/receipt.pdf", a.receiptPDF)
	officer.GET("/locals/:number/statement", a.statementPage)
	officer.GET("/locals/:number/statement.csv", a.statementCSV)
	staff.GET("/conferences/:slug/payments", a.staffPayments)
	staff.GET("/conferences/:slug/payments.csv", a.staffPaymentsCSV)
	staff.POST("/payments/:id/refund", a.refundPage)
	staff.POST("/refunds/:id/retry", a.retryRefundPage)
	staff.POST("/locals/:number/invoices/received", a.receiveInvoices)
	apiMember.POST("/registrations/:id/checkout", a.apiCheckout)
	apiMember.GET("/registrations/:id/payments", a.apiPayments)
	apiMember.POST("/registrations/:id/payments", a.apiRecordPayment)
	apiStaff.POST("/payments/:id/refunds", a.apiRefund)
	apiStaff.POST("/locals/:number/invoices/received", a.apiReceiveInvoices)

	// Check-in. A ticket's QR code opens /t/TOKEN: staff see the check-in
	// status, anyone else only that the ticket is valid.
	r.GET("/t/:token", noStore, a.ticketCodePage)
	staff.GET("/conferences/:slug/checkin", a.checkinDesk)
	staff.POST("/conferences/:slug/checkin", a.checkinScan)
	staff.POST("/conferences/:slug/checkin/undo", a.checkinUndo)
	staff.GET("/tokens", a.tokensPage)
	staff.POST("/tokens", a.createToken)
	staff.POST("/tokens/:id/revoke", a.revokeToken)
	apiStaff.POST("/conferences/:slug/checkins", a.apiCheckIn)
	apiStaff.GET("/conferences/:slug/checkins/counts", a.apiCheckinCounts)
	apiStaff.GET("/conferences/:slug/attendees", a.apiAttendees)
	apiStaff.DELETE("/registrations/:id/checkin", a.apiUndoCheckIn)
	return r
}

func (a *App) healthz(c *gin.Context) { c.String(http.StatusOK, "ok") }

func (a *App) readyz(c *gin.Context) {
	if err := a.DB.PingContext(c.Request.Context()); err != nil {
		a.Log.Error("database not ready", "err", err)
		c.String(http.StatusServiceUnavailable, "database unreachable")
		return
	}
	c.String(http.StatusOK, "ready")
}
