package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"convene/models"
)

// invoiced is a registration of the fixture's local 4121 whose fee the
// local's officer billed to the local, and that invoice.
func (f *regFixture) invoiced(t *testing.T, a models.Actor, last, number string) (models.Registration, models.Payment) {
	t.Helper()
	r := f.awaitingPayment(t, a, last, number)
	p, err := f.s.RecordPayment(context.Background(), r.ID, models.PaymentInput{Method: models.MethodLocalInvoice}, f.officer)
	if err != nil || p.Status != models.PayInvoiced {
		t.Fatalf("fixture: invoice %+v, %v", p, err)
	}
	return r, p
}

// TestALocalPaysItsInvoices: staff record that Local 4121 paid two
// invoices with one check. They leave the statement's total owed, show the
// day and the check, and count as paid by the local in the conference's
// payments; the form sent twice records the money once. Officers and
// members cannot record it, nor can anyone for another local's invoice, a
// cancelled one, a payment that is not an invoice, or without a reference.
func TestALocalPaysItsInvoices(t *testing.T) {
	t.Parallel()
	f := newRegFixture(t)
	ctx := context.Background()
	_, a := f.invoiced(t, f.member, "Cortés", "1002")
	_, b := f.invoiced(t, f.member2, "Reyes", "1004")
	now := time.Now()
	today := now.In(f.conf.Location()).Format("2006-01-02")
	receipt := models.InvoiceReceipt{Reference: "check 20417", ReceivedOn: today}

	for _, who := range []models.Actor{f.officer, f.member} {
		if _, err := f.s.ReceiveInvoices(ctx, f.local.ID, []int64{a.ID}, receipt, who, now); !errors.Is(err, models.ErrForbidden) {
			t.Errorf("%s recorded the local's payment: %v", who.User.Email, err)
		}
	}
	if _, err := f.s.ReceiveInvoices(ctx, f.other.ID, []int64{a.ID}, receipt, f.staff, now); !errors.Is(err, models.ErrConflict) {
		t.Errorf("4121's invoice received for another local: %v", err)
	}
	if _, err := f.s.ReceiveInvoices(ctx, f.local.ID, []int64{a.ID, 999999}, receipt, f.staff, now); !errors.Is(err, models.ErrConflict) {
		t.Errorf("an invoice that does not exist: %v", err)
	}
	tomorrow := now.In(f.conf.Location()).AddDate(0, 0, 1).Format("2006-01-02")
	for _, in := range []models.InvoiceReceipt{
		{ReceivedOn: today},
		{Reference: "check 1", ReceivedOn: tomorrow},
		{Reference: "check 1", ReceivedOn: "2020-01-02"}, // before the invoice was made
		{Reference: "check 1", ReceivedOn: "0000-01-01"},
		{Reference: "check 1", ReceivedOn: "20/11/2026"},
	} {
		field := "received_on"
		if in.Reference == "" {
			field = "reference"
		}
		if _, err := f.s.ReceiveInvoices(ctx, f.local.ID, []int64{a.ID}, in, f.staff, now); fieldErr(t, err, field) == "" {
			t.Errorf("%+v: no problem with %s (%v)", in, field, err)
		}
	}
	if _, err := f.s.ReceiveInvoices(ctx, f.local.ID, nil, receipt, f.staff, now); fieldErr(t, err, "payments") == "" {
		t.Errorf("no invoices chosen: %v", err)
	}
	if p, _ := f.s.Payment(ctx, a.ID); p.Status != models.PayInvoiced || p.ReceivedOn != nil {
		t.Fatalf("refused attempts changed the invoice: %s %v", p.Status, p.ReceivedOn)
	}

	got, err := f.s.ReceiveInvoices(ctx, f.local.ID, []int64{b.ID, a.ID, a.ID}, receipt, f.staff, now)
	if err != nil || len(got) != 2 {
		t.Fatalf("received %d, %v; want both", len(got), err)
	}
	for _, p := range got {
		if p.Status != models.PaySucceeded || p.ReceivedOn == nil || p.ReceivedOn.Format("2006-01-02") != today || p.ReceivedReference != "check 20417" {
			t.Errorf("invoice %d: %s on %v ref %q", p.ID, p.Status, p.ReceivedOn, p.ReceivedReference)
		}
	}
	again, err := f.s.ReceiveInvoices(ctx, f.local.ID, []int64{a.ID}, models.InvoiceReceipt{Reference: "check 99"}, f.staff, now)
	if err != nil || len(again) != 0 {
		t.Errorf("sent again: %d received, %v; want none and no error", len(again), err)
	}
	if p, _ := f.s.Payment(ctx, a.ID); p.ReceivedReference != "check 20417" {
		t.Errorf("sent again, the reference became %q", p.ReceivedReference)
	}
	if n := countAudit(t, f.s, a.RegistrationID, "invoice_received"); n != 1 {
		t.Errorf("%d invoice_received audit entries, want 1", n)
	}
	st, err := f.s.LocalStatement(ctx, f.local.ID, nil, f.officer)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range st {
		if l.Status != models.PaySucceeded {
			t.Errorf("statement line %d is %s, want paid", l.ID, l.Status)
		}
	}
	sum, err := f.s.ConferencePayments(ctx, f.conf.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sum.InvoicedCents != 30000 || sum.InvoicePaidCents != 30000 || sum.PaidCents != 0 {
		t.Errorf("payments: billed %d, paid by locals %d, paid %d; want 30000, 30000, 0", sum.InvoicedCents, sum.InvoicePaidCents, sum.PaidCents)
	}
	if len(sum.ByLocal) != 1 || sum.ByLocal[0].InvoicedCents != 30000 {
		t.Errorf("by local: %+v, want 4121 billed 30000", sum.ByLocal)
	}
}

// TestAPaidInvoiceOfACancellationGoesBackToTheLocal: a registration whose
// invoice the local paid is cancelled before the deadline. The invoice is
// not voided (the money came); it is flagged for staff to pay back to the
// local, and the cancel page's quote says so. An invoice still owed is
// voided as before, and one cancelled cannot then be received.
func TestAPaidInvoiceOfACancellationGoesBackToTheLocal(t *testing.T) {
	t.Parallel()
	f := newRegFixture(t)
	ctx := context.Background()
	paid, pi := f.invoiced(t, f.member, "Cortés", "1002")
	owed, oi := f.invoiced(t, f.member2, "Reyes", "1004")
	if _, err := f.s.ReceiveInvoices(ctx, f.local.ID, []int64{pi.ID}, models.InvoiceReceipt{Reference: "check 5"}, f.staff, f.now); err != nil {
		t.Fatal(err)
	}
	q, err := f.s.QuoteRefund(ctx, f.reload(t, paid.ID), f.now)
	if err != nil {
		t.Fatal(err)
	}
	if !q.InTime || q.LocalPaidCents != 15000 || q.InvoicedCents != 0 || q.PaidCents() != 0 || q.LocalNumber != "4121" {
		t.Errorf("quote: %+v, want 15000 the local paid, to go back to 4121", q)
	}
	for _, r := range []models.Registration{paid, owed} {
		if _, err := f.s.Cancel(ctx, r.ID, f.staff); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.PlanCancellationRefunds(ctx, r.ID, f.staff, f.now, nil); err != nil {
			t.Fatal(err)
		}
	}
	if p, _ := f.s.Payment(ctx, pi.ID); p.Status != models.PaySucceeded || p.OwedBack() != 15000 {
		t.Errorf("the paid invoice is %s owing back %d, want paid and 15000 owed back to the local", p.Status, p.OwedBack())
	}
	if p, _ := f.s.Payment(ctx, oi.ID); p.Status != models.PayVoid {
		t.Errorf("the invoice still owed is %s, want void", p.Status)
	}
	if _, err := f.s.ReceiveInvoices(ctx, f.local.ID, []int64{oi.ID}, models.InvoiceReceipt{Reference: "check 6"}, f.staff, f.now); !errors.Is(err, models.ErrConflict) {
		t.Errorf("a void invoice received: %v", err)
	}
	// Staff pay the local back, as they hand back cash.
	if _, err := f.s.RequestRefund(ctx, pi.ID, "", "returned to the local", f.staff); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.s.Payment(ctx, pi.ID); p.OwedBack() != 0 || p.RefundedCents != 15000 {
		t.Errorf("after staff paid the local back: owing %d, refunded %d", p.OwedBack(), p.RefundedCents)
	}
}
