package pdf

import (
	"bytes"
	"convene/internal/pdftest"
	"errors"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// attendees are fictional, with names that break naive PDF code.
var attendees = []Badge{
	{FirstName: "Ana", FullName: "Ana Cortés", Local: "Local 4121", Category: "Delegate", QRText: "http://localhost:8080/t/7K3M9Q2XWT4B8N6R1V5C0HJDFE"},
	{FirstName: "José Luis", FullName: "José Luis Chávez-Nava", Local: "Local 7600 · Los Ángeles", Category: "Delegate", QRText: "http://localhost:8080/t/0QZ4R8T1M6V3X9B2N7K5C1HJWD"},
	{FirstName: "María", FullName: "María del Carmen Ñúñez", Local: "Local 1199", Category: "Observer", QRText: "http://localhost:8080/t/9D2F5H8K1M4Q7T0W3Y6B9C2E5G"},
	{FirstName: "Jürgen", FullName: "Jürgen Müller", Local: "Local 305", Category: "Staff", CategoryColor: "#C0392B", QRText: "http://localhost:8080/t/1A4D7G0J3M6P9S2V5Y8B1E4H7K"},
	{FirstName: "Siobhán", FullName: "Siobhán O'Brien", Local: "Local 32BJ", Category: "Guest", QRText: "http://localhost:8080/t/5N8Q1T4W7Z0C3F6J9M2P5S8V1Y"},
	{FirstName: "Þórdís", FullName: "Þórdís Guðmundsdóttir", Local: "Local 12", Category: "Speaker", QRText: "http://localhost:8080/t/2B5E8H1K4N7R0T3W6Z9C2F5J8M"},
	{FirstName: "Łukasz", FullName: "Łukasz Wójcik-Żelazny", Local: "Local 8", Category: "Alternate Delegate", QRText: "http://localhost:8080/t/6C9F2J5M8Q1T4X7A0D3G6K9N2R"},
	{FirstName: "Maximiliano Alejandro", FullName: "Maximiliano Alejandro de la Santísima Trinidad Chávez-Nava", Local: "Local 1000 Southern California Public Service Workers", Category: "Delegate", QRText: "http://localhost:8080/t/3H6K9N2R5V8Y1B4E7H0M3Q6T9W"},
	{FirstName: "Nguyễn", FullName: "Nguyễn Thị Minh Khai", Local: "Local 2", Category: "Observer", QRText: "http://localhost:8080/t/8R1V4Y7B0E3H6M9Q2T5X8A1D4G"},
	{FirstName: "Zoë", FullName: "Zoë Đorđević", Local: "Local 99", Category: "Volunteer", CategoryColor: "#e8b920", QRText: "http://localhost:8080/t/4W7Z0C3F6J9M2Q5T8X1A4D7G0K"},
}

const conference = "Convención Binacional de Trabajadores 2026"

func hardBadges() []Badge {
	out := slices.Clone(attendees)
	for i := range out {
		out[i].Conference = conference
	}
	return out
}

var (
	requireTools = pdftest.RequireTools
	run          = pdftest.Run
	decodeQR     = pdftest.DecodeQR
	plain        = pdftest.Plain
)

func writePDF(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// savePage1 renders page 1 at 150 dpi into testdata/out/name.png, to look at.
func savePage1(t *testing.T, pdfPath, name string) {
	t.Helper()
	if err := os.MkdirAll("testdata/out", 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile", pdfPath, filepath.Join("testdata/out", name))
}

type wordBox struct {
	page                   int
	text                   string
	xMin, yMin, xMax, yMax float64
}

var (
	pageTag = regexp.MustCompile(`<page `)
	wordTag = regexp.MustCompile(`<word xMin="([0-9.]+)" yMin="([0-9.]+)" xMax="([0-9.]+)" yMax="([0-9.]+)">([^<]*)</word>`)
)

// wordBoxes returns every word's box in points, as pdftotext -bbox sees it.
func wordBoxes(t *testing.T, pdfPath string) []wordBox {
	t.Helper()
	var out []wordBox
	pages := pageTag.Split(run(t, "pdftotext", "-bbox", pdfPath, "-"), -1)
	for p, page := range pages[1:] {
		for _, m := range wordTag.FindAllStringSubmatch(page, -1) {
			w := wordBox{page: p + 1, text: html.UnescapeString(m[5])}
			for i, v := range []*float64{&w.xMin, &w.yMin, &w.xMax, &w.yMax} {
				*v, _ = strconv.ParseFloat(m[i+1], 64)
			}
			out = append(out, w)
		}
	}
	if len(out) == 0 {
		t.Fatal("pdftotext -bbox found no words")
	}
	return out
}

func TestBadgeSheetsScanAndRead(t *testing.T) {
	requireTools(t, "pdftoppm", "zbarimg", "pdftotext")
	badges := hardBadges()
	for _, layout := range []Layout{LayoutSingle, LayoutAvery5392, LayoutA6} {
		t.Run(string(layout), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := WriteBadges(&buf, layout, badges); err != nil {
				t.Fatalf("WriteBadges: %v", err)
			}
			path := writePDF(t, buf.Bytes())
			savePage1(t, path, "badges-"+string(layout))
			sh := sheets[layout]
			perPage := sh.cols * sh.rows
			const dpi = 150
			px := func(pt float64) string { return fmt.Sprint(int(pt * dpi / 72)) }

			// Whole pages: each holds exactly the codes of its badges.
			pages := (len(badges) + perPage - 1) / perPage
			dir := t.TempDir()
			run(t, "pdftoppm", "-r", fmt.Sprint(dpi), "-png", path, filepath.Join(dir, "page"))
			pngs, _ := filepath.Glob(filepath.Join(dir, "page-*.png"))
			slices.Sort(pngs)
			if len(pngs) != pages {
				t.Fatalf("%d pages rendered, want %d", len(pngs), pages)
			}
			for p, png := range pngs {
				var want []string
				for _, b := range badges[p*perPage : min(len(badges), (p+1)*perPage)] {
					want = append(want, b.QRText)
				}
				got := decodeQR(t, png)
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("page %d: QR codes %q, want %q", p+1, got, want)
				}
			}

			// Every word pdftotext finds lies inside a badge, clear of its edges.
			for _, w := range wordBoxes(t, path) {
				inside := false
				for slot := range perPage {
					x := sh.left + float64(slot%sh.cols)*sh.badgeW
					y := sh.top + float64(slot/sh.cols)*sh.badgeH
					inside = inside || (w.xMin >= x+sh.inset-0.5 && w.xMax <= x+sh.badgeW-sh.inset+0.5 &&
						w.yMin >= y+sh.inset-0.5 && w.yMax <= y+sh.badgeH-sh.inset+0.5)
				}
				if !inside {
					t.Errorf("page %d: word %q at x %.1f..%.1f, y %.1f..%.1f is not inside a badge", w.page, w.text, w.xMin, w.xMax, w.yMin, w.yMax)
				}
			}

			// Each badge alone: its own code, its own names.
			for i, b := range badges {
				page, slot := i/perPage+1, i%perPage
				x := sh.left + float64(slot%sh.cols)*sh.badgeW
				y := sh.top + float64(slot/sh.cols)*sh.badgeH
				crop := filepath.Join(dir, fmt.Sprintf("badge%d", i))
				run(t, "pdftoppm", "-r", fmt.Sprint(dpi), "-png", "-singlefile",
					"-f", fmt.Sprint(page), "-l", fmt.Sprint(page),
					"-x", px(x), "-y", px(y), "-W", px(sh.badgeW), "-H", px(sh.badgeH), path, crop)
				if got := decodeQR(t, crop+".png"); !slices.Equal(got, []string{b.QRText}) {
					t.Errorf("badge %d (%s): QR codes %q, want only %q", i+1, b.FullName, got, b.QRText)
				}
				text := plain(run(t, "pdftotext", "-f", fmt.Sprint(page), "-l", fmt.Sprint(page),
					"-x", fmt.Sprint(int(x)), "-y", fmt.Sprint(int(y)), "-W", fmt.Sprint(int(sh.badgeW)), "-H", fmt.Sprint(int(sh.badgeH)),
					path, "-"))
				for _, want := range []string{b.FirstName, b.FullName, b.Local, strings.ToUpper(b.Category), conference} {
					if !strings.Contains(text, want) {
						t.Errorf("badge %d: text %q lacks %q", i+1, text, want)
					}
				}
			}
		})
	}
}

func TestLongNamesShrinkToFit(t *testing.T) {
	fs, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	code, err := QRModules("http://localhost:8080/t/7K3M9Q2XWT4B8N6R1V5C0HJDFE")
	if err != nil {
		t.Fatal(err)
	}
	plan := func(first, full string) badgePlan {
		t.Helper()
		p, err := planBadge(fs, 4*inch, 3*inch, 0, Badge{FirstName: first, FullName: full, Category: "Delegate"}, code)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	short := plan("Ana", "Ana Cortés")
	long := plan("Maximiliano Alejandro", "Maximiliano Alejandro de la Santísima Trinidad Chávez-Nava")
	huge := plan("Wolfeschlegelsteinhausenbergerdorff-Featherstonehaugh", strings.Repeat("Chávez-Nava Ñúñez ", 12))

	if got, want := short.firstName[0].size, 40.0; got != want {
		t.Errorf("short first name set at %v pt, want the full %v pt", got, want)
	}
	if l := long.firstName[0]; l.size >= short.firstName[0].size || l.size <= 14 || l.text != "Maximiliano Alejandro" {
		t.Errorf("long first name: %q at %v pt; want it whole, smaller than %v pt and above the 14 pt floor", l.text, l.size, short.firstName[0].size)
	}
	if n := len(long.fullName); n != 2 || strings.Join([]string{long.fullName[0].text, long.fullName[1].text}, " ") != "Maximiliano Alejandro de la Santísima Trinidad Chávez-Nava" {
		t.Errorf("long full name: %+v; want it whole on two lines", long.fullName)
	}
	if l := huge.firstName[0]; l.size != 14 || !strings.HasSuffix(l.text, "…") {
		t.Errorf("impossible first name: %q at %v pt; want the 14 pt floor and an ellipsis", l.text, l.size)
	}
	if last := huge.fullName[len(huge.fullName)-1]; !strings.HasSuffix(last.text, "…") {
		t.Errorf("impossible full name ends %q; want an ellipsis", last.text)
	}
	for _, p := range []badgePlan{short, long, huge} {
		for _, l := range p.lines {
			if l.width > l.maxWidth+1e-9 {
				t.Errorf("%q at %v pt is %.2f pt wide in a %.2f pt box", l.text, l.size, l.width, l.maxWidth)
			}
			if w := fs.width(l.style, l.text, l.size); w != l.width {
				t.Errorf("%q: recorded width %.2f, measured %.2f", l.text, l.width, w)
			}
		}
	}
}

// TestBadgeTextStaysInside checks every line of every hard badge in every
// layout against the badge's edges, the QR code, and the other lines.
func TestBadgeTextStaysInside(t *testing.T) {
	fs, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	for layout, sh := range sheets {
		for _, b := range hardBadges() {
			code, err := QRModules(b.QRText)
			if err != nil {
				t.Fatal(err)
			}
			p, err := planBadge(fs, sh.badgeW, sh.badgeH, sh.inset, b, code)
			if err != nil {
				t.Fatal(err)
			}
			mod := p.qrSize / float64(len(code)+2*quietZone)
			qrLeft, qrTop, qrBottom := p.qrX+quietZone*mod, p.qrY+quietZone*mod, p.qrY+p.qrSize-quietZone*mod
			for i, l := range p.lines {
				top, bottom := l.y-ascent*l.size, l.y+descent*l.size
				if l.x < sh.inset || l.x+l.width > sh.badgeW-sh.inset || top < sh.inset || bottom > sh.badgeH-sh.inset {
					t.Errorf("%s, %s: %q (%.1f..%.1f x %.1f..%.1f) leaves the badge", layout, b.FirstName, l.text, l.x, l.x+l.width, top, bottom)
				}
				if bottom > qrTop && top < qrBottom && l.x+l.width > qrLeft {
					t.Errorf("%s, %s: %q runs into the QR code", layout, b.FirstName, l.text)
				}
				for _, o := range p.lines[i+1:] {
					oTop, oBottom := o.y-ascent*o.size, o.y+descent*o.size
					if top < oBottom-0.01 && oTop < bottom-0.01 && l.x < o.x+o.width && o.x < l.x+l.width {
						t.Errorf("%s, %s: %q overlaps %q", layout, b.FirstName, l.text, o.text)
					}
				}
			}
		}
	}
}

func TestUnknownLayout(t *testing.T) {
	for _, s := range []string{"letter", "", "avery 5392", "A4"} {
		if _, err := ParseLayout(s); !errors.Is(err, ErrUnknownLayout) {
			t.Errorf("ParseLayout(%q) error = %v, want ErrUnknownLayout", s, err)
		}
	}
	for s, want := range map[string]Layout{"single": LayoutSingle, " Avery5392 ": LayoutAvery5392, "a6": LayoutA6} {
		if got, err := ParseLayout(s); err != nil || got != want {
			t.Errorf("ParseLayout(%q) = %q, %v; want %q", s, got, err, want)
		}
	}
	var buf bytes.Buffer
	if err := WriteBadges(&buf, Layout("letter"), hardBadges()); !errors.Is(err, ErrUnknownLayout) || buf.Len() != 0 {
		t.Errorf("WriteBadges with an unknown layout: error %v, %d bytes written; want ErrUnknownLayout and nothing", err, buf.Len())
	}
}

func TestBadBadgeInputIsAnError(t *testing.T) {
	tooLong := hardBadges()
	tooLong[7].QRText = "http://localhost:8080/t/" + strings.Repeat("X", 5000) // beyond QR version 40
	badColour := hardBadges()
	badColour[3].CategoryColor = "#12345G"
	for name, c := range map[string]struct {
		badges []Badge
		want   string
	}{
		"no badges":    {nil, "no badges"},
		"QR too long":  {tooLong, "badge 8: QR code"},
		"bad colour":   {badColour, `badge 4: category colour "#12345G"`},
		"short colour": {[]Badge{{FirstName: "Ana", CategoryColor: "red"}}, "category colour"},
	} {
		var buf bytes.Buffer
		err := WriteBadges(&buf, LayoutAvery5392, c.badges)
		if err == nil || !strings.Contains(err.Error(), c.want) || buf.Len() != 0 {
			t.Errorf("%s: error %v, %d bytes written; want an error containing %q and nothing written", name, err, buf.Len(), c.want)
		}
		if err != nil && strings.Contains(err.Error(), "XXXX") {
			t.Errorf("%s: the error quotes the ticket URL, a secret that would end up in logs: %.80s", name, err)
		}
	}
	if err := WriteBadges(&bytes.Buffer{}, LayoutSingle, nil); !errors.Is(err, ErrNoBadges) {
		t.Errorf("no badges: %v, want ErrNoBadges", err)
	}
}

func TestCategoryColours(t *testing.T) {
	a, _ := categoryColor("", "Delegate")
	b, _ := categoryColor("", " delegate ")
	if a != b {
		t.Errorf("the same category got two colours: %v, %v", a, b)
	}
	seen := map[rgb]bool{}
	for _, c := range []string{"Delegate", "Observer", "Staff", "Guest", "Speaker", "Volunteer"} {
		col, _ := categoryColor("", c)
		seen[col] = true
	}
	if len(seen) < 4 {
		t.Errorf("six categories share %d colours", len(seen))
	}
	for in, want := range map[string]rgb{"#C0392B": {0xc0, 0x39, 0x2b}, "#fff": white, " #1b2a41 ": headerColor} {
		if got, err := categoryColor(in, "x"); err != nil || got != want {
			t.Errorf("categoryColor(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if textOn(rgb{0xe8, 0xb9, 0x20}) != ink || textOn(headerColor) != white {
		t.Error("text on gold should be dark and on navy white")
	}
}

// TestOddTextNeverPanics feeds what real forms produce: emoji, characters
// outside the font and outside gofpdf's reach, controls, empty fields.
func TestOddTextNeverPanics(t *testing.T) {
	requireTools(t, "pdftotext")
	odd := []Badge{
		{FirstName: "Ana 🌹", FullName: "Ana 👩🏽‍🔧 Cortés", Local: "Local\t4121\n", Category: "Delegate", QRText: "http://localhost:8080/t/🌹"},
		{FirstName: "", FullName: "", Local: "", Category: "", Conference: "", QRText: ""},
		{FirstName: "𝔄𝔫𝔞", FullName: "李小龍 Bruce", Local: "\x00\x07", Category: "\u200fمندوب", QRText: "x"},
		{FirstName: strings.Repeat("Ñ", 2000), FullName: strings.Repeat("Chávez ", 2000), Local: strings.Repeat("L", 500), Category: strings.Repeat("Delegate ", 100), Conference: strings.Repeat("Convención ", 100)},
		{FirstName: "Jose\u0301", FullName: "Jose\u0301 Nun\u0303ez", Category: "Observer"},
	}
	for _, layout := range []Layout{LayoutSingle, LayoutAvery5392, LayoutA6} {
		var buf bytes.Buffer
		if err := WriteBadges(&buf, layout, odd); err != nil {
			t.Fatalf("%s: %v", layout, err)
		}
		text := plain(run(t, "pdftotext", writePDF(t, buf.Bytes()), "-"))
		for _, want := range []string{"Ana Cortés", "José Nuñez", "? Bruce"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: text lacks %q", layout, want)
			}
		}
	}
}
