package e2e

import (
	"context"
	"regexp"
	"strconv"
	"testing"

	"convene/handlers"
	"convene/models"

	"github.com/chromedp/chromedp"
)

const (
	rosaEmail   = "rosa.delgado@convene.example" // officer of Local 4121
	marcusEmail = "marcus.bell@convene.example"  // officer of Local 7600
	anaNumber   = "88231"                        // not on Local 4121's roster: the demo has no roster
)

// tap clicks what css selects without waiting for a page: a radio, a checkbox.
func (b *browser) tap(css string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(css)))
}

// checked reports whether the radio or checkbox that css selects is ticked.
func (b *browser) checked(css string) bool {
	b.t.Helper()
	return eval[bool](b, `document.querySelector(`+jsString(css)+`).checked`)
}

// rows is the visible text of each row of the tables that css selects.
func (b *browser) rows(css string) []string {
	b.t.Helper()
	return eval[[]string](b, `[...document.querySelectorAll(`+jsString(css+" tbody tr")+`)].map(tr => tr.innerText)`)
}

// mustKeep fails the test for each form field whose value is not what was typed.
func (b *browser) mustKeep(want map[string]string) {
	b.t.Helper()
	for css, v := range want {
		if got := b.value(css); got != v {
			b.t.Errorf("%s: the form shows %q, want what was typed, %q", css, got, v)
		}
	}
}

// mustSitBesideLabels fails the test for each radio or checkbox that css
// selects that is wider than a finger's tap or set apart from its label, as
// when a rule meant for text fields stretches it across the form and the
// browser draws it in the middle of the stretch.
func (b *browser) mustSitBesideLabels(css string) {
	b.t.Helper()
	bad := eval[[]string](b, `[...document.querySelectorAll(`+jsString(css)+`)].map(i => {
		const box = i.getBoundingClientRect(), gap = i.labels[0].getBoundingClientRect().left - box.right;
		return box.width > 32 || gap > 16 ? i.id + " is " + Math.round(box.width) + "px wide, " + Math.round(gap) + "px from its label" : "";
	}).filter(Boolean)`)
	for _, m := range bad {
		b.t.Errorf("%s: %s", b.location(), m)
	}
}

var registrationURL = regexp.MustCompile(`/registrations/(\d+)$`)

// TestMemberRegistersOfficerApproves is the whole journey of a registration
// that needs an officer: a member registers on her phone, is sent to her
// local's officers because she is not on the roster, an officer of her local
// approves her from the queue, and her dashboard then says she is approved
// and what to pay, in English and in Spanish.
func TestMemberRegistersOfficerApproves(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	ctx := context.Background()
	formURL := srv.URL + "/conferences/" + palSlug + "/register"

	// Ana signs in on her phone and finds the conference.
	ana := newPhoneBrowser(t)
	if status := ana.signIn(srv.URL, memberEmail, models.DemoPassword); status != 200 {
		t.Fatalf("signing in as Ana answered %d", status)
	}
	if status := ana.clickLink(palTitle); status != 200 {
		t.Fatalf("the conference page answered %d", status)
	}
	mustSee(t, ana.text("h1"), palTitle)
	mustSee(t, ana.text("dl.facts"), "Open until")
	if status := ana.clickLink("Register"); status != 200 {
		t.Fatalf("the registration form answered %d", status)
	}
	if loc := ana.location(); loc != formURL {
		t.Errorf("Register led to %s, want %s", loc, formURL)
	}
	mustSee(t, ana.text("h1"), "Register")
	ana.mustNotScrollSideways()
	ana.mustSitBesideLabels(`input[type=radio], input[type=checkbox]`)
	ana.mustKeep(map[string]string{"#f-first_name": "Ana", "#f-last_name": "Cortés", "#f-email": memberEmail})

	// She fills in everything but her member number, and submits.
	ana.tap(`label[for="cat-member-delegate"]`)
	if !ana.checked("#cat-member-delegate") {
		t.Fatal("tapping Member delegate did not choose it")
	}
	typed := map[string]string{
		"#f-phone":           "(562) 555-0142",
		"#f-local":           "4121",
		"#f-interpretation":  "Spanish",
		"#f-childcare_count": "1",
		"#f-childcare_ages":  "4",
		"#f-dietary":         "Vegetarian",
		"#f-emergency_name":  "Marisol Cortés",
		"#f-emergency_phone": "(562) 555-0199",
	}
	for css, v := range typed {
		ana.typeInto(css, v)
	}
	if status := ana.click(`form.wide-form button[type=submit]`); status != 422 {
		t.Errorf("a form without a member number answered %d, want 422", status)
	}
	ana.waitVisible("#e-member_number")
	if msg := ana.text("#e-member_number"); msg != "Enter your member number, as on your union card." {
		t.Errorf("message beside Member number: got %q", msg)
	}
	if !eval[bool](ana, `document.querySelector("#e-member_number").closest(".field").contains(document.querySelector("#f-member_number"))`) {
		t.Error("the message is not beside the Member number field")
	}
	if d := eval[string](ana, `document.querySelector("#f-member_number").getAttribute("aria-describedby")`); d != "e-member_number" {
		t.Errorf("Member number is described by %q, want e-member_number", d)
	}
	mustSee(t, ana.text(".alert"), "Please fix the fields marked below.")
	ana.mustKeep(typed)
	ana.mustKeep(map[string]string{"#f-first_name": "Ana", "#f-last_name": "Cortés", "#f-email": memberEmail})
	if !ana.checked("#cat-member-delegate") {
		t.Error("the registration type was not kept")
	}
	ana.mustNotScrollSideways()
	ana.screenshot("register-error")

	// She adds her member number and sends it again.
	ana.typeInto("#f-member_number", anaNumber)
	ana.screenshot("register-form-phone")
	if status := ana.click(`form.wide-form button[type=submit]`); status != 200 {
		t.Fatalf("submitting the registration answered %d", status)
	}
	m := registrationURL.FindStringSubmatch(ana.location())
	if m == nil {
		t.Fatalf("after submitting, the browser is at %s, not a registration's page", ana.location())
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	regURL := srv.URL + "/registrations/" + m[1]
	if flash := ana.text(".flash"); flash != "Thank you. Your registration is received." {
		t.Errorf("flash: got %q", flash)
	}
	if status := ana.text(".status"); status != "Waiting for approval" {
		t.Errorf("status: got %q, want Waiting for approval", status)
	}
	page := ana.text("main")
	mustSee(t, page, "Ana Cortés", palTitle, "Member delegate",
		"Waiting for Local 4121's officers: member number "+anaNumber+" is not on the local's roster.",
		"Who decides: the officers of Local 4121.")
	facts := ana.text("dl.facts")
	mustSee(t, facts, "(562) 555-0142", "4121 — Harbor City Academic Workers", anaNumber,
		"Spanish", "1 child (ages: 4)", "Vegetarian", "Marisol Cortés (562) 555-0199")
	mustNotSee(t, page, "Verification", "History") // officers' and staff's part of the page
	ana.mustNotScrollSideways()
	ana.screenshot("registration-pending")

	// Marcus, an officer of another local, never sees her.
	marcus := newBrowser(t)
	if status := marcus.signIn(srv.URL, marcusEmail, models.DemoPassword); status != 200 {
		t.Fatalf("signing in as Marcus answered %d", status)
	}
	if status := marcus.clickLink("Approvals"); status != 200 {
		t.Fatalf("Marcus's approvals answered %d", status)
	}
	queue := marcus.text("main")
	mustSee(t, queue, "Inland Valley Health Care Workers", "Nothing is waiting for you.")
	mustNotSee(t, queue, "Ana", anaNumber)
	if status := marcus.visit(regURL); status != 403 {
		t.Errorf("Ana's registration answered %d to an officer of Local 7600, want 403", status)
	}
	mustNotSee(t, marcus.text("main"), "Ana", anaNumber)

	// Rosa, an officer of Ana's local, approves her from the queue.
	rosa := newBrowser(t)
	if status := rosa.signIn(srv.URL, rosaEmail, models.DemoPassword); status != 200 {
		t.Fatalf("signing in as Rosa answered %d", status)
	}
	if status := rosa.clickLink("Approvals"); status != 200 {
		t.Fatalf("Rosa's approvals answered %d", status)
	}
	mustSee(t, rosa.text("h1"), "Registrations waiting for approval")
	mustSee(t, rosa.text("main h2"), palTitle)
	row := card(rosa.rows("table.queue"), "Ana Cortés")
	if row == "" {
		t.Fatalf("Ana is not in Rosa's queue:\n%s", indent(rosa.text("main")))
	}
	mustSee(t, row, memberEmail, "4121", "#"+anaNumber, "Member delegate",
		"Not on the roster: no line has #"+anaNumber+".")
	rosa.tap(`input[aria-label="Select Ana Cortés"]`)
	if !rosa.checked(`input[aria-label="Select Ana Cortés"]`) {
		t.Fatal("ticking Ana's row did not tick it")
	}
	rosa.screenshot("officer-queue")
	if status := rosa.click(`form[action="/officer/approvals"] button[type=submit]`); status != 200 {
		t.Fatalf("Approve selected answered %d", status)
	}
	mustSee(t, rosa.text(".flash"), "Approved 1")
	mustSee(t, rosa.text("main"), "Nothing is waiting for you.")

	// Ana reloads her dashboard: approved, with the amount to pay.
	r, err := srv.Store.Registration(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != models.RegAwaitingPayment || r.AmountDueCents == 0 {
		t.Fatalf("after approval the registration is %s with %d cents due, want awaiting_payment with the price due", r.Status, r.AmountDueCents)
	}
	if r.PaymentDueAt == nil {
		t.Fatal("an approved registration with money due has no payment deadline")
	}
	due := handlers.Money(r.AmountDueCents, r.ConferenceCurrency)
	loc := srv.conference(t, palSlug).Location()
	payBy := handlers.FormatInstant(*r.PaymentDueAt, loc, "en")
	if status := ana.visit(srv.URL + "/me"); status != 200 {
		t.Fatalf("/me answered %d", status)
	}
	cards := eval[[]string](ana, `[...document.querySelectorAll("li.reg")].map(li => li.innerText)`)
	if len(cards) != 1 {
		t.Fatalf("the dashboard lists %d registrations, want 1: %q", len(cards), cards)
	}
	if status := ana.text("li.reg .status"); status != "Awaiting payment" {
		t.Errorf("dashboard status: got %q, want Awaiting payment", status)
	}
	mustSee(t, cards[0], palTitle, "Ana Cortés · Member delegate · Local 4121",
		"Approved. Pay "+due+" to confirm your seat. Pay by "+payBy+", or the seat goes to the next person on the waiting list.",
		"Details", "Cancel registration")
	mustNotSee(t, cards[0], "Waiting for approval", "Waiting for Local")
	ana.mustNotScrollSideways()
	ana.screenshot("dashboard-approved")

	// Her registration's page says who approved it.
	if status := ana.click(`li.reg a.button[href="/registrations/` + m[1] + `"]`); status != 200 {
		t.Fatalf("Details answered %d", status)
	}
	mustSee(t, ana.text("main"), "Approved by Rosa Delgado on ", "still due: "+due)
	mustNotSee(t, ana.text("main"), "Who decides")

	// And in Spanish.
	if status := ana.visit(srv.URL + "/me?lang=es"); status != 200 {
		t.Fatalf("/me?lang=es answered %d", status)
	}
	mustSee(t, ana.text("h1"), "Sus inscripciones")
	if status := ana.text("li.reg .status"); status != "Pago pendiente" {
		t.Errorf("Spanish dashboard status: got %q, want Pago pendiente", status)
	}
	es := ana.text("li.reg")
	mustSee(t, es, "Aprobada. Pague "+due+" para confirmar su lugar.",
		"Pague a más tardar el "+handlers.FormatInstant(*r.PaymentDueAt, loc, "es"), "Detalles", "Cancelar inscripción")
	mustNotSee(t, es, "Awaiting payment", "Approved. Pay", "Details", "Cancel registration")
	ana.mustNotScrollSideways()
	ana.screenshot("dashboard-approved-es")
}
