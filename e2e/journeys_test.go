package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"convene/handlers"
	"convene/models"
	"convene/payments"
	"convene/payments/paymentstest"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// The three journeys start from an empty database. Each creates, as an admin
// would, only what its people need: a local, its officer, staff, and one
// published conference open for registration.

const (
	journeyPassword = "solidarity-forever"
	journeySlug     = "summer-leadership-school"
	journeyTitle    = "Summer Leadership School"
	journeyLocal    = "4121"
	journeyLocalNm  = "Harbor City Academic Workers"
	webhookSecret   = "whsec_journeys"
)

// world is what a journey starts from.
type world struct {
	srv     *server
	conf    models.Conference
	local   models.Local
	officer models.User // Rosa, officer of Local 4121
	staff   models.User // Priya, conference staff
}

// newWorld starts Convene over an empty database and creates Local 4121 with
// its officer, a staff account, and a published conference, open now, with
// the given registration types.
func newWorld(t *testing.T, cats ...models.CategoryInput) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{srv: newEmptyServer(t)}
	s := w.srv.Store
	var err error
	if w.local, err = s.CreateLocal(ctx, models.LocalInput{Number: journeyLocal, Name: journeyLocalNm,
		Union: "UAW", Region: "Region 6", City: "Seattle"}); err != nil {
		t.Fatalf("creating the local: %v", err)
	}
	if w.officer, err = s.CreateUser(ctx, "rosa@local4121.example", "Rosa Delgado", journeyPassword); err != nil {
		t.Fatal(err)
	}
	if err := s.AddOfficer(ctx, w.officer.ID, w.local.ID); err != nil {
		t.Fatal(err)
	}
	if w.staff, err = s.CreateUser(ctx, "priya@region6.example", "Priya Natarajan", journeyPassword); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRoles(ctx, w.staff.ID, true, false); err != nil {
		t.Fatal(err)
	}
	loc, _ := models.LoadZone("America/Los_Angeles")
	now := time.Now().In(loc)
	starts := now.AddDate(0, 0, 60)
	conf, err := s.CreateConference(ctx, models.ConferenceInput{Slug: journeySlug, Title: journeyTitle,
		Description: "Three days of steward and organizer training.", Venue: "Union Hall", City: "Seattle, WA",
		TimeZone: "America/Los_Angeles", StartsOn: starts.Format(models.DateLayout), EndsOn: starts.AddDate(0, 0, 2).Format(models.DateLayout),
		Mode: "in_person", Languages: "en,es", Capacity: "100", Currency: "usd", PaymentDueDays: "14",
		RegistrationOpensAt:  now.AddDate(0, 0, -1).Format(time.RFC3339),
		RegistrationClosesAt: now.AddDate(0, 0, 30).Format(models.DateLayout),
	})
	if err != nil {
		t.Fatalf("creating the conference: %v", err)
	}
	for _, c := range cats {
		if _, err := s.CreateCategory(ctx, conf, c); err != nil {
			t.Fatalf("creating the category %s: %v", c.Slug, err)
		}
	}
	if w.conf, err = s.SetConferenceStatus(ctx, conf.ID, models.StatusPublished); err != nil {
		t.Fatal(err)
	}
	return w
}

// Registration types the journeys use.
var (
	paidDelegate = models.CategoryInput{Slug: "member-delegate", Name: "Member delegate", Price: "150.00",
		RequiresMembership: true, Approver: "officer"}
	freeMember = models.CategoryInput{Slug: "member", Name: "Member", Price: "0",
		RequiresMembership: true, Approver: "officer"}
)

// useStripe points the app's payment gateway at a stripe-mock of the test's own.
func (w *world) useStripe(t *testing.T) {
	t.Helper()
	w.srv.App.Pay = payments.NewStripe(payments.Config{SecretKey: "sk_test_123", WebhookSecret: webhookSecret,
		APIBase: paymentstest.StartStripeMock(t)}, nil)
}

// shot saves the whole page as screenshots/journeys/<name>.png.
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join(screenshotDir, "journeys")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: e2e/%s", path)
}

// standInForStripe answers the tab's requests to any https address (Stripe's
// hosted pages; the app itself is plain http on 127.0.0.1) with a small page
// of its own, since the test machine has no network. It returns the
// addresses asked for, in order.
func (b *browser) standInForStripe() <-chan string {
	b.t.Helper()
	paused := chromedp.Events(b.Ctx, fetch.RequestPaused)
	if _, err := chromedp.Call(b.Ctx, fetch.Enable, fetch.EnableParams{
		Patterns: []*fetch.RequestPattern{{URLPattern: "https://*"}}}); err != nil {
		b.t.Fatalf("intercepting https requests: %v", err)
	}
	asked := make(chan string, 16)
	page := []byte(`<!doctype html><html lang="en"><title>Stripe Checkout</title><h1>Stripe Checkout (stand-in)</h1>`)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			select {
			case asked <- ev.Request.URL:
			default:
			}
			_, _ = chromedp.Call(b.Ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID,
				ResponseCode: 200, Body: page,
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html; charset=utf-8"}}})
		}
	}()
	return asked
}

// decodeQR reads the QR codes in a screenshot of the page with zbarimg.
func (b *browser) decodeQR() string {
	b.t.Helper()
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(b.t.TempDir(), "page.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	var out, stderr bytes.Buffer
	cmd := exec.Command("zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", path)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 4 { // 4: no code found
			b.t.Fatalf("zbarimg: %v %s", err, stderr.String())
		}
	}
	return strings.TrimSpace(out.String())
}

// needTool fails the test, naming the script that installs it, when a
// command-line tool is missing.
func needTool(t *testing.T, name, script string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not found: run scripts/%s, or `make test`", name, script)
	}
}

// TestJourneyMemberSignsUpPaysAndGetsHerTicket: Elena, on her local's roster,
// creates an account, registers for a paid conference, is approved at once
// by the roster match, pays through Stripe Checkout (stripe-mock; the test
// stands in for Stripe's page and then delivers the signed webhook Stripe
// would send), and finds herself confirmed, with a ticket whose QR code
// scans to her ticket's address.
func TestJourneyMemberSignsUpPaysAndGetsHerTicket(t *testing.T) {
	t.Parallel()
	needTool(t, "zbarimg", "ensure-pdf-tools.sh")
	ctx := context.Background()
	w := newWorld(t, paidDelegate)
	w.useStripe(t)
	srv := w.srv
	// Her local's roster has her line.
	roster := "Member Number,First Name,Last Name,Email,Standing\n55012,Elena,Márquez,elena.marquez@example.org,good\n"
	if _, _, err := srv.Store.ApplyRoster(ctx, w.local.ID, w.officer.ID, []byte(roster)); err != nil {
		t.Fatalf("loading the roster: %v", err)
	}

	// She creates her account.
	elena := newBrowser(t)
	elena.visit(srv.URL + "/")
	if status := elena.clickLink("Create an account"); status != 200 {
		t.Fatalf("the sign-up page answered %d", status)
	}
	elena.typeInto("#f-name", "Elena Márquez")
	elena.typeInto("#f-email", "elena.marquez@example.org")
	elena.typeInto("#f-password", journeyPassword)
	elena.shot("1-01-signup")
	if status := elena.click(`form[action="/signup"] button[type=submit]`); status != 200 {
		t.Fatalf("creating the account answered %d", status)
	}
	mustSee(t, elena.text(".flash"), "Welcome to Convene. Your account is ready.")

	// She finds the conference and registers as a member delegate.
	if status := elena.clickLink(journeyTitle); status != 200 {
		t.Fatalf("the conference page answered %d", status)
	}
	if status := elena.clickLink("Register"); status != 200 {
		t.Fatalf("the registration form answered %d", status)
	}
	elena.mustKeep(map[string]string{"#f-first_name": "Elena", "#f-last_name": "Márquez", "#f-email": "elena.marquez@example.org"})
	elena.tap(`label[for="cat-member-delegate"]`)
	elena.typeInto("#f-local", journeyLocal)
	elena.typeInto("#f-member_number", "55012")
	elena.typeInto("#f-phone", "(206) 555-0110")
	elena.shot("1-02-register")
	if status := elena.click(`form.wide-form button[type=submit]`); status != 200 {
		t.Fatalf("submitting the registration answered %d", status)
	}
	m := registrationURL.FindStringSubmatch(elena.location())
	if m == nil {
		t.Fatalf("after submitting, the browser is at %s, not a registration's page", elena.location())
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)

	// The roster match approves her at once: she is asked to pay.
	if status := elena.text(".status"); status != "Awaiting payment" {
		t.Errorf("status after registering: got %q, want Awaiting payment", status)
	}
	mustSee(t, elena.text("main"), "Approved. Pay "+handlers.Money(15000, "usd")+" to confirm your seat.")
	elena.shot("1-03-approved-awaiting-payment")

	// She pays by card: the app sends her to Stripe Checkout.
	if status := elena.clickLink("Pay now"); status != 200 {
		t.Fatalf("the payment page answered %d", status)
	}
	asked := elena.standInForStripe()
	if status := elena.click(`form[action="/registrations/` + m[1] + `/checkout"] button[type=submit]`); status != 200 {
		t.Fatalf("Pay by card led to a page answering %d", status)
	}
	pays, err := srv.Store.Payments(ctx, id)
	if err != nil || len(pays) != 1 || pays[0].StripeSessionID == nil {
		t.Fatalf("after checkout the registration has payments %+v (%v), want one with a Stripe session", pays, err)
	}
	pay := pays[0]
	if pay.AmountCents != 15000 || pay.CheckoutURL == "" {
		t.Errorf("the checkout asks %d cents at %q, want 15000 at a Stripe address", pay.AmountCents, pay.CheckoutURL)
	}
	select {
	case u := <-asked:
		if u != pay.CheckoutURL {
			t.Errorf("the browser was sent to %s, want the session's checkout page %s", u, pay.CheckoutURL)
		}
	default:
		t.Fatal("the browser never asked for Stripe's checkout page")
	}
	if loc := elena.location(); loc != pay.CheckoutURL {
		t.Errorf("the browser shows %s, want %s", loc, pay.CheckoutURL)
	}
	elena.shot("1-04-at-stripe")

	// Stripe sends her back before its webhook has arrived: not confirmed yet.
	successURL := srv.URL + "/registrations/" + m[1] + "/payment/success"
	if status := elena.visit(successURL); status != 200 {
		t.Fatalf("the page Stripe returns to answered %d", status)
	}
	mustSee(t, elena.text("main"), "We are confirming your payment with the card company.")
	elena.shot("1-05-back-confirming")

	// Stripe's signed webhook lands.
	event := paymentstest.CheckoutSessionEvent("evt_journey_paid", payments.EventCheckoutCompleted,
		*pay.StripeSessionID, id, pay.AmountCents, "paid")
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/stripe", bytes.NewReader(event))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", paymentstest.SignedWebhook(webhookSecret, event, time.Time{}))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the webhook answered %d", resp.StatusCode)
	}

	// The page sees it, and so does her dashboard.
	elena.visit(successURL)
	mustSee(t, elena.text("main"), "Your payment was received and your registration is confirmed.")
	if status := elena.visit(srv.URL + "/me"); status != 200 {
		t.Fatalf("/me answered %d", status)
	}
	if status := elena.text("li.reg .status"); status != "Confirmed" {
		t.Errorf("dashboard status: got %q, want Confirmed", status)
	}
	mustSee(t, elena.text("li.reg"), journeyTitle, "You are confirmed. Bring your ticket's QR code to the check-in desk.")
	elena.shot("1-06-dashboard-confirmed")

	// Her ticket's QR code scans to her ticket's address.
	if status := elena.click(`li.reg a[href$="/ticket"]`); status != 200 {
		t.Fatalf("the ticket page answered %d", status)
	}
	reg, err := srv.Store.Registration(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	mustSee(t, elena.text("main"), "Elena Márquez", "Member delegate", "Show this code at the check-in desk", *reg.TicketToken)
	elena.shot("1-07-ticket")
	if got, want := elena.decodeQR(), srv.App.TicketURL(reg); got != want {
		t.Errorf("the ticket's QR code reads %q, want %q", got, want)
	}
}

// registerSelf registers a member for the journey's conference as she would
// herself, with a member number that is not on her local's roster.
func (w *world) registerSelf(t *testing.T, first, last, email, number string) models.Registration {
	t.Helper()
	ctx := context.Background()
	u, err := w.srv.Store.CreateUser(ctx, email, first+" "+last, journeyPassword)
	if err != nil {
		t.Fatal(err)
	}
	act, err := w.srv.Store.ActorFor(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	r, err := w.srv.Store.Register(ctx, w.conf, models.RegistrationInput{Category: "member", FirstName: first, LastName: last,
		Email: email, Local: journeyLocal, MemberNumber: number}, act, w.srv.App.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != models.RegPending {
		t.Fatalf("%s %s registered as %s, want pending", first, last, r.Status)
	}
	return r
}

// TestJourneyOfficerRosterDelegationApprovals: Rosa, an officer of Local
// 4121, uploads the local's roster as a CSV file and applies it after
// checking what it changes, registers a delegation of five from it, then
// works her approvals queue: she approves one member who registered with a
// number not on the roster and denies another with a reason, which that
// member then reads on her dashboard.
func TestJourneyOfficerRosterDelegationApprovals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, freeMember)
	srv := w.srv
	tomas := w.registerSelf(t, "Tomás", "Herrera", "tomas.herrera@example.org", "99001")
	grace := w.registerSelf(t, "Grace", "Okafor", "grace.okafor@example.org", "99002")

	rosa := newBrowser(t)
	if status := rosa.signIn(srv.URL, w.officer.Email, journeyPassword); status != 200 {
		t.Fatalf("signing in as Rosa answered %d", status)
	}

	// The roster: a CSV file as exported from the local's spreadsheet.
	csvPath := filepath.Join(t.TempDir(), "local-4121-roster.csv")
	delegates := []struct{ number, first, last string }{
		{"10001", "Ana", "Cortés"}, {"10002", "Luis", "Chávez-Nava"}, {"10003", "Mei-Lin", "Harper"},
		{"10004", "Kwame", "Mensah"}, {"10005", "Ñusta", "Quispe"},
	}
	csv := "Member Number,First Name,Last Name,Email,Standing\n"
	for _, d := range delegates {
		csv += d.number + "," + d.first + "," + d.last + "," + d.number + "@local4121.example,good\n"
	}
	csv += "10006,Samuel,Ortega,samuel@local4121.example,good\n10007,Lena,Svensson,,lapsed\n"
	if err := os.WriteFile(csvPath, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	if status := rosa.visit(srv.URL + "/officer"); status != 200 {
		t.Fatalf("/officer answered %d", status)
	}
	if status := rosa.click(`a[href="/officer/locals/4121/roster"]`); status != 200 {
		t.Fatalf("the roster page answered %d", status)
	}
	mustSee(t, rosa.text("main"), "Roster of Local 4121", "The roster is empty.")
	rosa.do(chromedp.SetUploadFiles(chromedp.CSS("#f-roster"), []string{csvPath}))
	rosa.shot("2-01-roster-upload")
	if status := rosa.click(`form[enctype="multipart/form-data"] button[type=submit]`); status != 200 {
		t.Fatalf("uploading the roster answered %d", status)
	}
	mustSee(t, rosa.text("h1"), "Check the roster before applying it")
	mustSee(t, rosa.text("main"), "File: local-4121-roster.csv", "Nothing has changed yet.", "add new members: 7",
		"skip lines that could not be read: 0", "Quispe, Ñusta")
	rosa.shot("2-02-roster-preview")
	if status := rosa.click(`form[action$="/apply"] button[type=submit]`); status != 200 {
		t.Fatalf("applying the roster answered %d", status)
	}
	mustSee(t, rosa.text(".flash"), "Roster updated. Added: 7")
	mustSee(t, rosa.text("main"), "Members on the roster: 7", "in good standing: 6", "lapsed: 1", "Chávez-Nava, Luis")
	rosa.shot("2-03-roster-applied")

	// A delegation of five from the roster.
	if status := rosa.clickLink("Approvals"); status != 200 {
		t.Fatalf("the approvals page answered %d", status)
	}
	if status := rosa.click(`a[href="/officer/locals/4121/delegation"]`); status != 200 {
		t.Fatalf("the delegation page answered %d", status)
	}
	if status := rosa.click(`form.inline-form button[type=submit]`); status != 200 {
		t.Fatalf("choosing the conference answered %d", status)
	}
	members := rosa.text("main table")
	mustSee(t, members, "Samuel Ortega")
	mustNotSee(t, members, "Svensson") // lapsed members cannot be delegates
	for _, d := range delegates {
		rosa.tap("#m-" + d.number)
	}
	rosa.shot("2-04-delegation-chosen")
	if status := rosa.click(`form[method=post] button.primary`); status != 200 {
		t.Fatalf("registering the delegation answered %d", status)
	}
	results := rosa.text(".flash")
	for _, d := range delegates {
		mustSee(t, results, d.first+" "+d.last+": Confirmed")
	}
	// The five are marked registered; Samuel is still free to choose.
	if n := eval[int](rosa, `document.querySelectorAll("input[name=members]").length`); n != 1 {
		t.Errorf("after the delegation %d members can still be ticked, want 1 (Samuel)", n)
	}
	rosa.shot("2-05-delegation-registered")

	// The queue has the two who registered with numbers not on the roster.
	if status := rosa.clickLink("Approvals"); status != 200 {
		t.Fatalf("the approvals page answered %d", status)
	}
	queue := rosa.rows("table.queue")
	if len(queue) != 2 {
		t.Fatalf("the queue has %d rows, want Tomás and Grace:\n%s", len(queue), indent(strings.Join(queue, "\n")))
	}
	mustSee(t, card(queue, "Tomás Herrera"), "#99001", "Not on the roster")
	mustSee(t, card(queue, "Grace Okafor"), "#99002", "Not on the roster")
	rosa.tap(`input[aria-label="Select Tomás Herrera"]`)
	rosa.shot("2-06-queue")
	if status := rosa.click(`form[action="/officer/approvals"] button[type=submit]`); status != 200 {
		t.Fatalf("Approve selected answered %d", status)
	}
	mustSee(t, rosa.text(".flash"), "Approved 1")
	mustNotSee(t, rosa.text("main"), "Tomás Herrera")

	// Grace is denied, with a reason, from her registration's page.
	if status := rosa.clickLink("Grace Okafor"); status != 200 {
		t.Fatalf("Grace's registration answered %d", status)
	}
	const reason = "Member number 99002 is not in our records; bring your union card to the office."
	rosa.typeInto("#reason", reason)
	if status := rosa.click(`form.deny button[type=submit]`); status != 200 {
		t.Fatalf("Deny answered %d", status)
	}
	if status := rosa.text(".status"); status != "Not approved" {
		t.Errorf("Grace's status after denying: got %q, want Not approved", status)
	}
	mustSee(t, rosa.text("main"), "Denied by Rosa Delgado on ")
	rosa.shot("2-07-denied")

	if r, _ := srv.Store.Registration(ctx, tomas.ID); r.Status != models.RegConfirmed {
		t.Errorf("Tomás is %s after approval, want confirmed (the category is free)", r.Status)
	}

	// Grace reads why on her dashboard and on her registration's page.
	gb := newBrowser(t)
	if status := gb.signIn(srv.URL, "grace.okafor@example.org", journeyPassword); status != 200 {
		t.Fatalf("signing in as Grace answered %d", status)
	}
	gb.visit(srv.URL + "/me")
	if status := gb.text("li.reg .status"); status != "Not approved" {
		t.Errorf("Grace's dashboard status: got %q, want Not approved", status)
	}
	mustSee(t, gb.text("li.reg"), "Reason: “"+reason+"”")
	gb.shot("2-08-member-sees-reason")
	gb.visit(srv.URL + "/registrations/" + strconv.FormatInt(grace.ID, 10))
	mustSee(t, gb.text("main"), "Not approved. Reason: “"+reason+"”", "Denied by Rosa Delgado")
}

// pdfText is the text pdftotext finds in a PDF document.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

// TestJourneyStaffPrintBadgesAndCheckInTwo: two delegates of Local 4121 are
// registered and confirmed. Priya, conference staff, prints their badge sheet
// from the badges page (the PDF is fetched with her session, as her browser
// would download it, and read back with pdftotext), then opens the check-in
// desk and types each delegate's QR text (BASE_URL/t/TOKEN) into the scan
// field as a keyboard-wedge scanner does: each shows green and the live count
// goes to 2 of 2.
func TestJourneyStaffPrintBadgesAndCheckInTwo(t *testing.T) {
	t.Parallel()
	needTool(t, "pdftotext", "ensure-pdf-tools.sh")
	ctx := context.Background()
	w := newWorld(t, freeMember)
	srv := w.srv
	roster := "Member Number,First Name,Last Name\n20001,Ana,Cortés\n20002,Luis,Chávez-Nava\n"
	if _, _, err := srv.Store.ApplyRoster(ctx, w.local.ID, w.officer.ID, []byte(roster)); err != nil {
		t.Fatal(err)
	}
	rosa, err := srv.Store.ActorFor(ctx, w.officer)
	if err != nil {
		t.Fatal(err)
	}
	var delegates []models.Registration
	for _, d := range []struct{ number, first, last string }{{"20001", "Ana", "Cortés"}, {"20002", "Luis", "Chávez-Nava"}} {
		r, err := srv.Store.Register(ctx, w.conf, models.RegistrationInput{Category: "member", FirstName: d.first, LastName: d.last,
			Email: d.number + "@local4121.example", Local: journeyLocal, MemberNumber: d.number}, rosa, srv.App.Now())
		if err != nil || r.Status != models.RegConfirmed {
			t.Fatalf("registering %s %s: %v (%s)", d.first, d.last, err, r.Status)
		}
		delegates = append(delegates, r)
	}

	priya := newBrowser(t)
	if status := priya.signIn(srv.URL, w.staff.Email, journeyPassword); status != 200 {
		t.Fatalf("signing in as Priya answered %d", status)
	}
	if status := priya.visit(srv.URL + "/staff/conferences/" + journeySlug); status != 200 {
		t.Fatalf("the conference's staff page answered %d", status)
	}
	if status := priya.clickLink("Print badges"); status != 200 {
		t.Fatalf("the badge page answered %d", status)
	}
	mustSee(t, priya.text("main"), "2 badges match.", "Avery 5392")
	priya.shot("3-01-badges-page")

	// "Print these badges (PDF)" submits the filters to badges.pdf; fetch
	// what the button asks for, with Priya's cookies.
	b64, err := chromedp.Run(priya.Ctx, chromedp.Evaluate[string](`(async () => {
		const button = document.querySelector("button[formaction$='/badges.pdf']");
		const query = new URLSearchParams(new FormData(button.form)).toString();
		const r = await fetch(button.getAttribute("formaction") + "?" + query);
		if (!r.ok || r.headers.get("Content-Type") !== "application/pdf") return "status " + r.status + " " + r.headers.get("Content-Type");
		const bytes = new Uint8Array(await r.arrayBuffer());
		let s = "";
		for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
		return btoa(s);
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetching badges.pdf: %v", err)
	}
	pdf, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("badges.pdf did not give a PDF: %.200q", b64)
	}
	sheet := pdfText(t, pdf)
	mustSee(t, sheet, "Ana Cortés", "Luis Chávez-Nava", journeyTitle)
	for _, r := range delegates {
		if got, _ := srv.Store.Registration(ctx, r.ID); got.BadgePrintedAt == nil {
			t.Errorf("%s's badge is not marked printed", r.FullName())
		}
	}

	// The check-in desk.
	priya.visit(srv.URL + "/staff/conferences/" + journeySlug)
	if status := priya.clickLink("Check-in desk"); status != 200 {
		t.Fatalf("the check-in desk answered %d", status)
	}
	priya.waitVisible("#scan-code")
	if in, of := priya.text("#count-in"), priya.text("#count-expected"); in != "0" || of != "2" {
		t.Errorf("the desk opens counting %s of %s, want 0 of 2", in, of)
	}
	priya.shot("3-02-desk")
	for i, r := range delegates {
		priya.do(chromedp.SendKeys(chromedp.CSS("#scan-code"), srv.App.TicketURL(r)+"\r"))
		priya.waitVisible(`#result .tone-ok[data-result="checked_in"]`)
		priya.do(chromedp.Poll[chromedp.Void](`document.querySelector("#result .result-name")?.innerText === ` + jsString(r.FullName())))
		mustSee(t, priya.text("#result"), "Checked in", r.FullName(), "Local 4121", "Member")
		want := strconv.Itoa(i + 1)
		priya.do(chromedp.Poll[chromedp.Void](`document.getElementById("count-in").textContent === ` + jsString(want)))
		priya.shot("3-03-checked-in-" + want)
	}
	mustSee(t, priya.text("#count-expected"), "2")
	for _, r := range delegates {
		if got, _ := srv.Store.Registration(ctx, r.ID); got.CheckedInAt == nil {
			t.Errorf("%s is not checked in in the database", r.FullName())
		}
	}
}
