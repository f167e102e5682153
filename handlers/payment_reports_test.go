package handlers_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"convene/models"
	"convene/payments"
	"convene/payments/paymentstest"
)

// TestStaffPaymentsCSV downloads a conference's payments as the treasurer
// would: every method and status the page lists, nothing of another
// conference, formula cells neutralised, and staff only.
func TestStaffPaymentsCSV(t *testing.T) {
	w := newPayWorld(t)
	staff := w.ta.signedIn("treasurer@example.org", true, false)
	regPath := func(r models.Registration) string { return "/registrations/" + strconv.FormatInt(r.ID, 10) }

	// Ana pays $150 by card; staff refund $50 of it.
	session := w.checkout(t)
	ev := paymentstest.CheckoutSessionEvent("evt_paid", payments.EventCheckoutCompleted, session, w.reg.ID, 15000, "paid")
	if r := w.ta.deliver(ev, time.Now()); r.Code != http.StatusOK {
		t.Fatalf("webhook: %d %s", r.Code, r.body)
	}
	card := w.payments(t, w.reg.ID)[0]
	if r := staff.post("/staff/payments/"+strconv.FormatInt(card.ID, 10)+"/refund", url.Values{"amount": {"50.00"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("partial refund: %d", r.Code)
	}
	// Jordan's name is a formula; local 4121 pays for him.
	jordan := w.register(t, w.ta.signedIn("jordan@example.org", false, false), `=HYPERLINK("http://evil.example","x")`, "Reyes", "1003")
	officer := w.officer("4121")
	if r := officer.post(regPath(jordan)+"/payments", url.Values{"method": {"local_invoice"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("local pays: %d", r.Code)
	}
	// Mei pays at the desk in two parts.
	mei := w.register(t, w.ta.signedIn("mei@example.org", false, false), "Mei", "Harper", "1004")
	for _, f := range []url.Values{{"method": {"cash"}, "amount": {"50"}, "reference": {"desk 2, receipt 118"}}, {"method": {"check"}, "reference": {"#2041"}}} {
		if r := staff.post(regPath(mei)+"/payments", f); r.Code != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", f.Get("method"), r.Code, r.body)
		}
	}
	kwame := w.register(t, w.ta.signedIn("kwame@example.org", false, false), "Kwame", "Mensah", "1005")
	if r := staff.post(regPath(kwame)+"/payments", url.Values{"method": {"waived"}, "reference": {"hardship"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("waiver: %d", r.Code)
	}
	// Lena pays cash, then cancels in time: the desk owes her $150.
	lenaC := w.ta.signedIn("lena@example.org", false, false)
	lena := w.register(t, lenaC, "Lena", "Svensson", "1006")
	if r := staff.post(regPath(lena)+"/payments", url.Values{"method": {"cash"}, "reference": {"desk 3"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("cash: %d", r.Code)
	}
	if r := lenaC.post(regPath(lena)+"/cancel", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("cancel: %d", r.Code)
	}
	// Luis opens a card payment and walks away: the page does not list it.
	luisC := w.ta.signedIn("luis@example.org", false, false)
	luis := w.register(t, luisC, "Luis", "Chávez-Nava", "1001")
	if r := luisC.post(regPath(luis)+"/checkout", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("checkout: %d", r.Code)
	}
	// A cash payment at another conference.
	ctx := context.Background()
	other := w.ta.conference("other", models.StatusPublished)
	if _, err := w.ta.Store.CreateCategory(ctx, other, models.CategoryInput{Slug: "paid", Name: "Paid delegate", Price: "150", RequiresMembership: true}); err != nil {
		t.Fatal(err)
	}
	grace := w.ta.signedIn("grace@example.org", false, false)
	form := registrationForm("Grace", "Liu", "7600", "2001")
	form.Set("category", "paid")
	r := grace.post("/conferences/other/register", form)
	if r.Code != http.StatusSeeOther {
		t.Fatalf("register at the other conference: %d %s", r.Code, r.body)
	}
	graceReg := r.Header().Get("Location")
	if r := staff.post(graceReg+"/payments", url.Values{"method": {"cash"}, "reference": {"OTHER-CONF"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("cash at the other conference: %d", r.Code)
	}

	r = staff.get("/staff/conferences/pal/payments.csv")
	if r.Code != http.StatusOK || !strings.HasPrefix(r.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s %s", r.Code, r.Header().Get("Content-Type"), r.body)
	}
	if cd := r.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="pal-payments-`) || !strings.HasSuffix(cd, `.csv"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := "payment_id,receipt,created_at (America/Los_Angeles),paid_at (America/Los_Angeles),registration_id,first_name,last_name,local,local_name,category," +
		"method,status,amount,currency,refunded,to_refund,reference,stripe_payment_intent,recorded_by,local_paid_on,local_paid_reference,local_paid_recorded_by"
	if got := strings.Join(rows[0], ","); got != wantHeader {
		t.Fatalf("header\n got %s\nwant %s", got, wantHeader)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	// card, invoice, cash + check, waiver, Lena's cash; not Luis's open
	// checkout nor Grace's payment at the other conference.
	if len(rows) != 7 {
		t.Fatalf("%d rows, want header + 6:\n%q", len(rows), rows)
	}
	byRef := map[string][]string{}
	for _, row := range rows[1:] {
		if row[col["last_name"]] == "Chávez-Nava" || row[col["reference"]] == "OTHER-CONF" {
			t.Errorf("row that is not this conference's listed payment: %q", row)
		}
		key := row[col["reference"]]
		if row[col["method"]] == "stripe" || row[col["method"]] == "local_invoice" {
			key = row[col["method"]]
		}
		byRef[key] = row
	}
	la, _ := time.LoadLocation("America/Los_Angeles")
	card = w.payments(t, w.reg.ID)[0]
	for _, c := range []struct {
		row  string
		want map[string]string
	}{
		{"stripe", map[string]string{"payment_id": strconv.FormatInt(card.ID, 10), "registration_id": strconv.FormatInt(w.reg.ID, 10),
			"first_name": "Ana", "last_name": "Cortés", "local": "4121", "local_name": "Harbor City Academic Workers", "category": "Paid delegate",
			"status": "succeeded", "amount": "150.00", "currency": "USD", "refunded": "50.00", "to_refund": "0.00",
			"stripe_payment_intent": deref(card.StripePaymentIntentID), "recorded_by": "Test ana@example.org", "receipt": card.ReceiptNumber(),
			"created_at (America/Los_Angeles)": card.CreatedAt.In(la).Format("2006-01-02 15:04")}},
		{"local_invoice", map[string]string{"first_name": `'=HYPERLINK("http://evil.example","x")`, "last_name": "Reyes", "local": "4121",
			"status": "invoiced", "amount": "150.00", "recorded_by": "Test officer4121@example.org", "stripe_payment_intent": ""}},
		{"desk 2, receipt 118", map[string]string{"first_name": "Mei", "method": "cash", "status": "succeeded", "amount": "50.00", "recorded_by": "Test treasurer@example.org"}},
		{"#2041", map[string]string{"first_name": "Mei", "method": "check", "status": "succeeded", "amount": "100.00"}},
		{"hardship", map[string]string{"first_name": "Kwame", "method": "waived", "status": "succeeded", "amount": "150.00"}},
		{"desk 3", map[string]string{"first_name": "Lena", "method": "cash", "amount": "150.00", "refunded": "0.00", "to_refund": "150.00"}},
	} {
		row, ok := byRef[c.row]
		if !ok {
			t.Errorf("no %s row", c.row)
			continue
		}
		for k, want := range c.want {
			if got := row[col[k]]; got != want {
				t.Errorf("%s row: %s = %q, want %q", c.row, k, got, want)
			}
		}
	}

	page := staff.get("/staff/conferences/pal/payments")
	mustContain(t, page.body, `href="/staff/conferences/pal/payments.csv"`, "Download payments (CSV)")

	// Members and officers get what the page gives them; anonymous callers are sent to sign in.
	for who, c := range map[string]*client{"member": w.ana, "officer": officer} {
		if r := c.get("/staff/conferences/pal/payments"); r.Code != http.StatusForbidden {
			t.Errorf("%s payments page: %d", who, r.Code)
		}
		if r := c.get("/staff/conferences/pal/payments.csv"); r.Code != http.StatusForbidden || strings.Contains(r.body, "Cortés") {
			t.Errorf("%s payments CSV: %d", who, r.Code)
		}
	}
	if r := w.ta.client().get("/staff/conferences/pal/payments.csv"); r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Header().Get("Location"), "/login") {
		t.Errorf("anonymous payments CSV: %d %s", r.Code, r.Header().Get("Location"))
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
