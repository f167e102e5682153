package pdf

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/jung-kurt/gofpdf"
)

// Layout is a way of putting badges on paper.
type Layout string

// The layouts WriteBadges knows.
const (
	// LayoutSingle is one 4x3 in badge per page, landscape, for badge printers.
	LayoutSingle Layout = "single"
	// LayoutAvery5392 is six 4x3 in badges on US Letter, at the margins of
	// Avery 5392 name badge inserts (top 1 in, sides 0.25 in, no gutter).
	LayoutAvery5392 Layout = "avery5392"
	// LayoutA6 is four A6 landscape badges on an A4 landscape page.
	LayoutA6 Layout = "a6"
)

// ErrUnknownLayout is returned for a layout name that is not one of the above.
var ErrUnknownLayout = errors.New("pdf: unknown badge layout")

// ErrNoBadges is returned by WriteBadges when there is nothing to print.
var ErrNoBadges = errors.New("pdf: no badges to print")

// ParseLayout returns the layout named s ("single", "avery5392" or "a6").
func ParseLayout(s string) (Layout, error) {
	l := Layout(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := sheets[l]; !ok {
		return "", fmt.Errorf("%w %q: use single, avery5392 or a6", ErrUnknownLayout, s)
	}
	return l, nil
}

// Badge is what is printed on one attendee's badge.
type Badge struct {
	FirstName  string
	FullName   string
	Local      string
	Category   string
	Conference string
	// QRText is encoded in the QR code, normally BASE_URL/t/TOKEN; empty
	// prints no code.
	QRText string
	// CategoryColor is "#RRGGBB"; empty picks a stable colour from Category.
	CategoryColor string
}

// sheet places badges of one size on pages of another, in points.
type sheet struct {
	orientation string
	page        gofpdf.SizeType // as gofpdf wants it: portrait width and height
	badgeW      float64
	badgeH      float64
	left, top   float64
	cols, rows  int
	cutLines    bool    // plain paper: show where to cut
	inset       float64 // keep colour off the badge's edges: sheets are cut or torn apart imprecisely
}

const (
	inch = 72.0
	mm   = 72.0 / 25.4
)

var sheets = map[Layout]sheet{
	LayoutSingle: {orientation: "L", page: gofpdf.SizeType{Wd: 3 * inch, Ht: 4 * inch},
		badgeW: 4 * inch, badgeH: 3 * inch, cols: 1, rows: 1},
	LayoutAvery5392: {orientation: "P", page: gofpdf.SizeType{Wd: 8.5 * inch, Ht: 11 * inch},
		badgeW: 4 * inch, badgeH: 3 * inch, left: 0.25 * inch, top: 1 * inch, cols: 2, rows: 3, inset: inch / 16},
	LayoutA6: {orientation: "L", page: gofpdf.SizeType{Wd: 210 * mm, Ht: 297 * mm},
		badgeW: 148.5 * mm, badgeH: 105 * mm, cols: 2, rows: 2, cutLines: true, inset: 5 * mm},
}

// WriteBadges writes a PDF of badges in the given layout to w, in order,
// filling each page before the next. The document is built in memory first:
// if that fails, nothing is written.
func WriteBadges(w io.Writer, layout Layout, badges []Badge) error {
	sh, ok := sheets[layout]
	if !ok {
		return fmt.Errorf("%w %q: use single, avery5392 or a6", ErrUnknownLayout, layout)
	}
	if len(badges) == 0 {
		return ErrNoBadges
	}
	f, fs, err := newDoc(sh.orientation, sh.page)
	if err != nil {
		return err
	}
	f.SetTitle("Badges", true)
	stop := make(chan struct{})
	defer close(stop)
	codes := encodeQRCodes(badges, stop)
	perPage := sh.cols * sh.rows
	for i, b := range badges {
		slot := i % perPage
		if slot == 0 {
			f.AddPage()
			if sh.cutLines {
				drawCutLines(f, sh)
			}
		}
		code := <-codes[i]
		if code.err != nil {
			return fmt.Errorf("pdf: badge %d: %w", i+1, code.err) // no names: errors get logged
		}
		p, err := planBadge(fs, sh.badgeW, sh.badgeH, sh.inset, b, code.modules)
		if err != nil {
			return fmt.Errorf("pdf: badge %d: %w", i+1, err)
		}
		x := sh.left + float64(slot%sh.cols)*sh.badgeW
		y := sh.top + float64(slot/sh.cols)*sh.badgeH
		drawBadge(f, x, y, p)
	}
	return f.Output(w)
}

// rgb is a colour with 0-255 components.
type rgb struct{ r, g, b int }

var (
	headerColor = rgb{0x1b, 0x2a, 0x41}
	white       = rgb{0xff, 0xff, 0xff}
	ink         = rgb{0x11, 0x18, 0x27}
	grey        = rgb{0x4b, 0x55, 0x63}
)

// palette holds category colours that are told apart easily and carry white
// or black text; a category without a colour gets one by hash of its name.
var palette = []rgb{
	{0x1f, 0x6f, 0xb2}, // blue
	{0x2e, 0x8b, 0x57}, // green
	{0xd9, 0x76, 0x06}, // orange
	{0x7b, 0x3f, 0xa0}, // purple
	{0xc0, 0x39, 0x2b}, // red
	{0x13, 0x8d, 0x90}, // teal
	{0xb0, 0x30, 0x6a}, // magenta
	{0x8d, 0x55, 0x24}, // brown
	{0xe8, 0xb9, 0x20}, // gold
	{0x5d, 0x6d, 0x7e}, // slate
	{0x55, 0x7a, 0x1f}, // olive
	{0x2c, 0x3e, 0x80}, // navy
}

// categoryColor parses "#RRGGBB" (or "#RGB"), or picks from the palette by a
// hash of the category name when hex is empty.
func categoryColor(hex, category string) (rgb, error) {
	if hex = strings.TrimSpace(hex); hex == "" {
		h := fnv.New32a()
		h.Write([]byte(strings.ToLower(strings.TrimSpace(category))))
		return palette[h.Sum32()%uint32(len(palette))], nil
	}
	digits, ok := strings.CutPrefix(hex, "#")
	if ok && len(digits) == 3 {
		digits = string([]byte{digits[0], digits[0], digits[1], digits[1], digits[2], digits[2]})
	}
	v, err := strconv.ParseUint(digits, 16, 32)
	if !ok || len(digits) != 6 || err != nil {
		return rgb{}, fmt.Errorf("category colour %q is not #RRGGBB", hex)
	}
	return rgb{int(v >> 16), int(v >> 8 & 0xff), int(v & 0xff)}, nil
}

// textOn returns white or near-black, whichever reads better on c (WCAG
// contrast ratio).
func textOn(c rgb) rgb {
	lin := func(v int) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	l := 0.2126*lin(c.r) + 0.7152*lin(c.g) + 0.0722*lin(c.b)
	const inkL = 0.0085 // luminance of ink
	if (1.05)/(l+0.05) >= (l+0.05)/(inkL+0.05) {
		return white
	}
	return ink
}

// line is one line of text placed in a badge, relative to its top left.
type line struct {
	text     string
	style    string
	size     float64
	x, y     float64 // y is the baseline
	maxWidth float64 // the box it had to fit
	width    float64
	color    rgb
}

// badgePlan is everything drawn on one badge, relative to its top left.
type badgePlan struct {
	w, h                float64
	inset               float64
	headerY, headerH    float64
	bandY, bandH        float64
	band                rgb
	lines               []line
	qr                  [][]bool // nil: no code
	qrX, qrY, qrSize    float64
	firstName, fullName []line // the same lines as in lines, for tests
}

// DejaVu Sans vertical metrics, in ems.
const (
	capHeight = 0.73
	ascent    = 0.93 // top of accented capitals such as Á
	descent   = 0.24
	leading   = 1.18
)

// planBadge lays out b, with its QR code's modules if it has one, on a w x h
// badge whose coloured bands stay inset from its edges. The design is made
// for 4x3 in and scaled; a wider badge gives the names more room.
func planBadge(fs *fontSet, w, h, inset float64, b Badge, code [][]bool) (badgePlan, error) {
	band, err := categoryColor(b.CategoryColor, b.Category)
	if err != nil {
		return badgePlan{}, err
	}
	s := min((w-2*inset)/(4*inch), (h-2*inset)/(3*inch))
	pad := inset + 12*s
	p := badgePlan{w: w, h: h, inset: inset, headerY: inset, headerH: 30 * s, bandH: 38 * s, band: band}
	p.bandY = h - inset - p.bandH

	// Header: the conference, white on dark.
	if t := fs.clean(b.Conference); t != "" {
		l := fs.fitLines(bold, t, w-2*pad, p.headerH-6*s, 12*s, 6*s, 2)
		p.lines = append(p.lines, centre(l, pad, p.headerY, p.headerH, white)...)
	}

	// The first name, as large as fits across the badge.
	nameTop := p.headerY + p.headerH + 6*s
	nameH := 48 * s
	first := fs.clean(b.FirstName)
	if first == "" {
		first = fs.clean(b.FullName)
	}
	p.firstName = centre(fs.fitLines(bold, first, w-2*pad, nameH, 40*s, 14*s, 1), pad, nameTop, nameH, ink)
	p.lines = append(p.lines, p.firstName...)

	// Below it: full name and local on the left, the QR code on the right.
	areaTop, areaBottom := nameTop+nameH, p.bandY
	colRight := w - pad
	if code != nil {
		p.qr = code
		p.qrSize = min(areaBottom-areaTop-2*s, 100*s)
		p.qrX = w - inset - p.qrSize - 2*s // the quiet zone is the margin
		p.qrY = areaTop + (areaBottom-areaTop-p.qrSize)/2
		colRight = p.qrX - 4*s // the quiet zone and a little more keep text clear of it
	}
	colW := colRight - pad
	var full, local []line
	if t := fs.clean(b.FullName); t != "" {
		full = fs.fitLines(regular, t, colW, 44*s, 17*s, 8*s, 2)
	}
	if t := fs.clean(b.Local); t != "" {
		local = fs.fitLines(regular, t, colW, 28*s, 12*s, 7*s, 2)
	}
	gap := 5 * s
	blockH := linesHeight(full) + linesHeight(local)
	if full != nil && local != nil {
		blockH += gap
	}
	y := areaTop + (areaBottom-areaTop-blockH)/2
	p.fullName = stack(full, pad, y, ink)
	p.lines = append(p.lines, p.fullName...)
	y += linesHeight(full) + gap
	p.lines = append(p.lines, stack(local, pad, y, grey)...)

	// The category, on its colour, across the bottom.
	if t := fs.clean(strings.ToUpper(b.Category)); t != "" {
		l := fs.fitLines(bold, t, w-2*pad, p.bandH-8*s, 18*s, 7*s, 1)
		p.lines = append(p.lines, centre(l, pad, p.bandY, p.bandH, textOn(band))...)
	}
	return p, nil
}

// linesHeight is the height a stack of lines takes.
func linesHeight(ls []line) float64 {
	if len(ls) == 0 {
		return 0
	}
	return (ascent + descent + leading*float64(len(ls)-1)) * ls[0].size
}

// stack places lines one under another from top, left aligned at x.
func stack(ls []line, x, top float64, c rgb) []line {
	for i := range ls {
		ls[i].x = x
		ls[i].y = top + ascent*ls[i].size + leading*ls[i].size*float64(i)
		ls[i].color = c
	}
	return ls
}

// centre places lines at x so that the block from the first line's capitals
// to the last line's baseline is centred vertically in the band from top to
// top+h.
func centre(ls []line, x, top, h float64, c rgb) []line {
	if len(ls) == 0 {
		return ls
	}
	size := ls[0].size
	block := (capHeight + leading*float64(len(ls)-1)) * size
	first := top + (h-block)/2 + capHeight*size
	for i := range ls {
		ls[i].x = x
		ls[i].y = first + leading*size*float64(i)
		ls[i].color = c
	}
	return ls
}

// fitLines sets s in style within a box maxW wide and maxH tall, on at most
// maxLines lines: the largest size from hi down to lo (in quarter points) at
// which the words wrap into the box. If even lo does not fit, the text is set
// at lo and the last line ends with an ellipsis.
func (fs *fontSet) fitLines(style, s string, maxW, maxH, hi, lo float64, maxLines int) []line {
	words := strings.Fields(s)
	if len(words) == 0 {
		return nil
	}
	heightOK := func(n int, size float64) bool {
		return (ascent+descent+leading*float64(n-1))*size <= maxH+0.01
	}
	// Width scales with size: start at the size where the longest word fits.
	size := hi
	for _, wd := range words {
		if w := fs.width(style, wd, 1); w > 0 {
			size = min(size, maxW/w)
		}
	}
	size = float64(int(size*4)) / 4
	// One line reads best: take it unless it costs more than a quarter of
	// the size; then wrap at the largest size that fits.
	oneLine := maxW / max(fs.width(style, s, 1), 1e-9)
	oneLine = min(hi, float64(int(oneLine*4))/4)
	if maxLines == 1 || oneLine >= max(lo, 0.75*hi) {
		if oneLine >= lo && heightOK(1, oneLine) {
			return fs.lines(style, []string{strings.Join(words, " ")}, maxW, oneLine)
		}
	}
	for ; size >= lo; size -= 0.25 {
		if ls := fs.wrap(style, words, maxW, size); len(ls) <= maxLines && heightOK(len(ls), size) {
			return fs.lines(style, ls, maxW, size)
		}
	}
	// Last resort: the floor size, lines cut to fit, the last one marked.
	size = lo
	for maxLines > 1 && !heightOK(maxLines, size) {
		maxLines--
	}
	ls := fs.wrapHard(style, words, maxW, size)
	if len(ls) > maxLines {
		rest := strings.Join(ls[maxLines-1:], " ")
		ls = append(ls[:maxLines-1], fs.truncate(style, rest, maxW, size))
	}
	return fs.lines(style, ls, maxW, size)
}

func (fs *fontSet) lines(style string, texts []string, maxW, size float64) []line {
	out := make([]line, len(texts))
	for i, t := range texts {
		out[i] = line{text: t, style: style, size: size, maxWidth: maxW, width: fs.width(style, t, size)}
	}
	return out
}

// wrap breaks words greedily into lines no wider than maxW; a word wider
// than maxW gets a line of its own (and the caller tries a smaller size).
func (fs *fontSet) wrap(style string, words []string, maxW, size float64) []string {
	var out []string
	cur := ""
	for _, wd := range words {
		if cur != "" && fs.width(style, cur+" "+wd, size) <= maxW {
			cur += " " + wd
			continue
		}
		if cur != "" {
			out = append(out, cur)
		}
		cur = wd
		if fs.width(style, wd, size) > maxW {
			return append(out, cur, "") // cannot fit at this size
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// wrapHard is wrap that also breaks words wider than maxW between letters.
func (fs *fontSet) wrapHard(style string, words []string, maxW, size float64) []string {
	var out []string
	cur := ""
	for _, wd := range words {
		if cur != "" && fs.width(style, cur+" "+wd, size) <= maxW {
			cur += " " + wd
			continue
		}
		if cur != "" {
			out = append(out, cur)
		}
		cur = ""
		for _, r := range wd {
			if cur != "" && fs.width(style, cur+string(r), size) > maxW {
				out = append(out, cur)
				cur = ""
			}
			cur += string(r)
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// truncate shortens s until it and an ellipsis fit maxW.
func (fs *fontSet) truncate(style, s string, maxW, size float64) string {
	if fs.width(style, s, size) <= maxW {
		return s
	}
	r := []rune(s)
	for n := len(r) - 1; n > 0; n-- {
		t := strings.TrimRight(string(r[:n]), " -,.")
		if t != "" && fs.width(style, t+"…", size) <= maxW {
			return t + "…"
		}
	}
	return "…"
}

// drawBadge draws p with its top left corner at x, y.
func drawBadge(f *gofpdf.Fpdf, x, y float64, p badgePlan) {
	fill(f, headerColor)
	f.Rect(x+p.inset, y+p.headerY, p.w-2*p.inset, p.headerH, "F")
	fill(f, p.band)
	f.Rect(x+p.inset, y+p.bandY, p.w-2*p.inset, p.bandH, "F")
	for _, l := range p.lines {
		f.SetFont(family, l.style, l.size)
		f.SetTextColor(l.color.r, l.color.g, l.color.b)
		f.Text(x+l.x, y+l.y, l.text)
	}
	if p.qr != nil {
		drawQR(f, x+p.qrX, y+p.qrY, p.qrSize, p.qr)
	}
}

func fill(f *gofpdf.Fpdf, c rgb) { f.SetFillColor(c.r, c.g, c.b) }

// drawCutLines marks the edges between badges on plain paper.
func drawCutLines(f *gofpdf.Fpdf, sh sheet) {
	f.SetDrawColor(0xc8, 0xc8, 0xc8)
	f.SetLineWidth(0.3)
	right := sh.left + float64(sh.cols)*sh.badgeW
	bottom := sh.top + float64(sh.rows)*sh.badgeH
	for c := 1; c < sh.cols; c++ {
		x := sh.left + float64(c)*sh.badgeW
		f.Line(x, sh.top, x, bottom)
	}
	for r := 1; r < sh.rows; r++ {
		y := sh.top + float64(r)*sh.badgeH
		f.Line(sh.left, y, right, y)
	}
}
