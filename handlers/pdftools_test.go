package handlers_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

// screenshotDir is where the tests leave page 1 of every PDF they fetch, as
// a PNG to look at; e2e/screenshots/ is not committed.
var screenshotDir = filepath.Join("..", "e2e", "screenshots", "pdf")

// requirePDFTools fails (never skips) when poppler or zbar is missing.
func requirePDFTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"pdftoppm", "pdftotext", "zbarimg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: run scripts/ensure-pdf-tools.sh from the repository root (it installs poppler-utils and zbar-tools), or `make test`", tool)
		}
	}
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// scanQR returns the text of every QR code zbarimg finds in an image.
func scanQR(t *testing.T, png string) []string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", png)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 4 { // no code found
		return nil
	}
	if err != nil {
		t.Fatalf("zbarimg %s: %v\n%s", png, err, stderr.String())
	}
	return strings.Fields(stdout.String())
}

// plainText is pdftotext's output NFC-normalised with whitespace collapsed.
func plainText(s string) string { return strings.Join(strings.Fields(norm.NFC.String(s)), " ") }

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
