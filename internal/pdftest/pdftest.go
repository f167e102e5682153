// Package pdftest runs the command-line tools that tests use to read PDFs
// back: pdftoppm, pdftotext and zbarimg (poppler-utils and zbar-tools).
package pdftest

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

// RequireTools fails (never skips) the test when a tool it needs is missing.
func RequireTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: run scripts/ensure-pdf-tools.sh from the repository root (it installs poppler-utils and zbar-tools), or `make test`", tool)
		}
	}
}

// Run runs a tool and returns its standard output, failing the test on error.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// DecodeQR returns the text of every QR code zbarimg finds in a PNG.
func DecodeQR(t testing.TB, png string) []string {
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

// Plain is pdftotext's output NFC-normalised with whitespace collapsed.
func Plain(s string) string { return strings.Join(strings.Fields(norm.NFC.String(s)), " ") }
