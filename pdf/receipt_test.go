package pdf

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestReceiptPrintsNamesAndAmounts(t *testing.T) {
	requireTools(t, "pdftotext", "pdftoppm")
	r := Receipt{
		Title: "Recibo", Number: "R-000042", Issuer: conference, Subtitle: "4–6 de diciembre de 2026 · Pico Rivera, CA",
		Lines: []ReceiptLine{
			{"Asistente", "José Luis Chávez-Nava"},
			{"Local", "Local 7600 · Los Ángeles"},
			{"Forma de pago", "Tarjeta (Stripe)"},
			{"Referencia", strings.Repeat("pi_3NxLongReferenceWithoutSpaces", 4)},
		},
		TotalLabel: "Total pagado", Total: "$150",
		Notes:  []string{"Reembolsado: $50 el 1 dic 2026."},
		Footer: "Convene — inscripción a conferencias sindicales.",
	}
	var buf bytes.Buffer
	if err := WriteReceipt(&buf, r); err != nil {
		t.Fatal(err)
	}
	path := writePDF(t, buf.Bytes())
	savePage1(t, path, "receipt")
	text := plain(run(t, "pdftotext", "-layout", path, "-"))
	for _, want := range []string{"Recibo", "R-000042", "José Luis Chávez-Nava", "Los Ángeles", "Total pagado", "$150",
		"Reembolsado: $50", conference, "pi_3NxLongReference"} {
		if !strings.Contains(text, want) {
			t.Errorf("receipt text lacks %q:\n%s", want, text)
		}
	}
	if n := strings.Count(run(t, "pdftotext", path, "-"), "\f"); n != 1 {
		t.Errorf("%d pages, want 1", n)
	}
}

func TestEmptyReceiptIsRefused(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteReceipt(&buf, Receipt{Title: "Receipt"}); !errors.Is(err, ErrEmptyReceipt) || buf.Len() != 0 {
		t.Errorf("err %v, %d bytes written", err, buf.Len())
	}
}
