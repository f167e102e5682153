package pdf

import (
	"crypto/rand"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"rsc.io/qr/coding"
)

// ticketToken is shaped like models.NewTicketToken's: 26 characters of
// Crockford base32.
func ticketToken() string {
	const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := make([]byte, 26)
	rand.Read(b)
	for i := range b {
		b[i] = crockford[b[i]&31]
	}
	return string(b)
}

// writeQRPNG draws a module matrix at 4 pixels a module inside its quiet zone.
func writeQRPNG(t *testing.T, path string, m [][]bool) {
	t.Helper()
	const px = 4
	side := (len(m) + 2*quietZone) * px
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y, row := range m {
		for x, dark := range row {
			if !dark {
				continue
			}
			for dy := range px {
				for dx := range px {
					img.SetGray((x+quietZone)*px+dx, (y+quietZone)*px+dy, color.Gray{})
				}
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// TestQRCodesDecodeExactly encodes ticket URLs of every shape and a text
// filling each of the 40 versions, and has zbarimg read every one back.
func TestQRCodesDecodeExactly(t *testing.T) {
	requireTools(t, "zbarimg")
	type sample struct {
		text    string
		version int // 0: not checked
	}
	var samples []sample
	for _, host := range []string{"http://localhost:8080", "https://convene.example.org", "http://10.0.0.5:8080",
		"https://registration.civil-and-human-rights-conference.region6.example.org"} {
		for range 5 {
			samples = append(samples, sample{text: host + "/t/" + ticketToken()})
		}
		samples = append(samples, sample{text: fmt.Sprintf("%s/t/%026d", host, 42)}) // the bench's numeric tokens
	}
	// The ticket URL used in the tests: bytes then an alphanumeric tail fit
	// version 4 (33 modules), as bytes alone did.
	samples = append(samples, sample{"http://localhost:8080/t/7K3M9Q2XWT4B8N6R1V5C0HJDFE", 4},
		sample{"0123456789", 1}, sample{"HTTP://EXAMPLE.ORG/T/7K3M9Q2XWT4B8N6R1V5C0HJDFE", 0}, sample{"x", 1})
	// Lower-case letters are bytes: fill each version exactly.
	for v := coding.Version(1); v <= coding.MaxVersion; v++ {
		count := 8
		if v >= 10 {
			count = 16
		}
		n := (v.DataBytes(coding.M)*8 - 4 - count) / 8
		samples = append(samples, sample{strings.Repeat("abcdefghijklmnopqrstuvwxyz", n/26+1)[:n], int(v)})
	}

	dir := t.TempDir()
	for i, s := range samples {
		m, err := QRModules(s.text)
		if err != nil {
			t.Fatalf("%q: %v", s.text, err)
		}
		if s.version != 0 && len(m) != 4*s.version+17 {
			t.Errorf("%.40q...: %d modules a side, want version %d (%d)", s.text, len(m), s.version, 4*s.version+17)
		}
		path := filepath.Join(dir, fmt.Sprintf("qr%03d.png", i))
		writeQRPNG(t, path, m)
		if got := decodeQR(t, path); !slices.Equal(got, []string{s.text}) {
			t.Errorf("version %d code of %.60q... decodes as %.60q", (len(m)-17)/4, s.text, got)
		}
	}
	if _, err := QRModules(samples[len(samples)-1].text + "a"); err == nil {
		t.Error("a text one byte longer than version 40 holds was encoded")
	}
}
