package handlers_test

import (
	"convene/internal/pdftest"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// screenshotDir is where the tests leave page 1 of every PDF they fetch, as
// a PNG to look at; e2e/screenshots/ is not committed.
var screenshotDir = filepath.Join("..", "e2e", "screenshots", "pdf")

// requirePDFTools fails (never skips) when poppler or zbar is missing.
func requirePDFTools(t *testing.T) { pdftest.RequireTools(t, "pdftoppm", "pdftotext", "zbarimg") }

var (
	runTool   = pdftest.Run
	scanQR    = pdftest.DecodeQR
	plainText = pdftest.Plain
)

// pdfFile checks that r is a PDF and writes it to a temporary file.
func pdfFile(t *testing.T, r response) string {
	t.Helper()
	if r.Code != 200 || r.Header().Get("Content-Type") != "application/pdf" || !strings.HasPrefix(r.body, "%PDF-") {
		t.Fatalf("want a PDF, got %d %s: %.300s", r.Code, r.Header().Get("Content-Type"), r.body)
	}
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, []byte(r.body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// pdfPages counts a PDF's pages: pdftotext ends each with a form feed.
func pdfPages(t *testing.T, path string) int {
	t.Helper()
	return strings.Count(runTool(t, "pdftotext", path, "-"), "\f")
}

// screenshot renders page 1 of a PDF at 110 dpi into screenshotDir/name.png.
func screenshot(t *testing.T, pdfPath, name string) {
	t.Helper()
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	runTool(t, "pdftoppm", "-r", "110", "-png", "-f", "1", "-l", "1", "-singlefile", pdfPath, filepath.Join(screenshotDir, name))
}

// region is a rectangle of a page, in points from its top left.
type region struct{ page, x, y, w, h float64 }

// regionText is the text pdftotext finds inside r.
func regionText(t *testing.T, path string, r region) string {
	t.Helper()
	p := fmt.Sprint(int(r.page))
	return plainText(runTool(t, "pdftotext", "-f", p, "-l", p, "-x", fmt.Sprint(int(r.x)), "-y", fmt.Sprint(int(r.y)),
		"-W", fmt.Sprint(int(r.w)), "-H", fmt.Sprint(int(r.h)), path, "-"))
}

// regionQR renders r alone at 150 dpi and scans it.
func regionQR(t *testing.T, path string, r region) []string {
	t.Helper()
	const dpi = 150
	px := func(pt float64) string { return fmt.Sprint(int(pt * dpi / 72)) }
	p := fmt.Sprint(int(r.page))
	out := filepath.Join(t.TempDir(), "crop")
	runTool(t, "pdftoppm", "-r", fmt.Sprint(dpi), "-png", "-singlefile", "-f", p, "-l", p,
		"-x", px(r.x), "-y", px(r.y), "-W", px(r.w), "-H", px(r.h), path, out)
	return scanQR(t, out+".png")
}
