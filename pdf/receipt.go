package pdf

import (
	"errors"
	"io"
	"strings"

	"github.com/jung-kurt/gofpdf"
)

// Receipt is one payment's receipt (or, billed to a local, its invoice). The
// caller fills in every word already in the reader's language, so this file
// knows nothing of catalogs.
type Receipt struct {
	Title    string // "Receipt" or "Invoice"
	Number   string // "R-000042"
	Issuer   string // the conference, at the top
	Subtitle string // e.g. its dates and city
	// Lines are label and value pairs: who, what, how, when.
	Lines []ReceiptLine
	// TotalLabel and Total are the amount, printed large.
	TotalLabel, Total string
	// Notes go under the total: refunds, "billed to Local 4121".
	Notes  []string
	Footer string
}

// ReceiptLine is one label and value on a receipt.
type ReceiptLine struct{ Label, Value string }

// ErrEmptyReceipt is returned for a receipt without a title or total.
var ErrEmptyReceipt = errors.New("pdf: a receipt needs a title and a total")

const (
	receiptW      = 8.5 * inch
	receiptH      = 11 * inch
	receiptMargin = 0.9 * inch
	receiptLabelW = 2.1 * inch
)

// WriteReceipt writes a one-page US Letter receipt as a PDF to w. The
// document is built in memory first: if that fails, nothing is written.
func WriteReceipt(w io.Writer, r Receipt) error {
	if r.Title == "" || r.Total == "" {
		return ErrEmptyReceipt
	}
	f, fs, err := newDoc("P", gofpdf.SizeType{Wd: receiptW, Ht: receiptH})
	if err != nil {
		return err
	}
	f.SetTitle(fs.clean(r.Title+" "+r.Number), true)
	f.AddPage()
	textW := receiptW - 2*receiptMargin
	put := func(style string, size, x, y float64, s string, c rgb) {
		f.SetFont(family, style, size)
		f.SetTextColor(c.r, c.g, c.b)
		f.Text(x, y, s)
	}
	rule := func(y float64) {
		f.SetDrawColor(0xc4, 0xcb, 0xd4)
		f.SetLineWidth(0.6)
		f.Line(receiptMargin, y, receiptW-receiptMargin, y)
	}

	y := receiptMargin + 14
	put(bold, 13, receiptMargin, y, fs.truncate(bold, fs.clean(r.Issuer), textW, 13), ink)
	if r.Subtitle != "" {
		y += 16
		put(regular, 10, receiptMargin, y, fs.truncate(regular, fs.clean(r.Subtitle), textW, 10), grey)
	}
	y += 40
	title := fs.clean(r.Title)
	put(bold, 24, receiptMargin, y, title, ink)
	if r.Number != "" {
		n := fs.clean(r.Number)
		put(regular, 12, receiptW-receiptMargin-fs.width(regular, n, 12), y, n, grey)
	}
	y += 14
	rule(y)
	y += 8
	for _, l := range r.Lines {
		value := fs.wrapHard(regular, strings.Fields(fs.clean(l.Value)), textW-receiptLabelW, 11)
		if len(value) == 0 {
			value = []string{""}
		}
		y += 18
		put(bold, 10, receiptMargin, y, fs.truncate(bold, fs.clean(l.Label), receiptLabelW-8, 10), grey)
		for i, v := range value {
			if i > 0 {
				y += 14
			}
			put(regular, 11, receiptMargin+receiptLabelW, y, v, ink)
		}
	}
	y += 16
	rule(y)
	y += 34
	put(bold, 12, receiptMargin, y, fs.clean(r.TotalLabel), grey)
	total := fs.clean(r.Total)
	put(bold, 22, receiptW-receiptMargin-fs.width(bold, total, 22), y, total, ink)
	y += 6
	for _, n := range r.Notes {
		for _, line := range fs.wrapHard(regular, strings.Fields(fs.clean(n)), textW, 10.5) {
			y += 16
			put(regular, 10.5, receiptMargin, y, line, ink)
		}
	}
	if r.Footer != "" {
		lines := fs.wrapHard(regular, strings.Fields(fs.clean(r.Footer)), textW, 8.5)
		fy := receiptH - receiptMargin - float64(len(lines)-1)*11
		for i, line := range lines {
			put(regular, 8.5, receiptMargin, fy+float64(i)*11, line, grey)
		}
	}
	if err := f.Error(); err != nil {
		return err
	}
	return f.Output(w)
}
