package pdf

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jung-kurt/gofpdf"
	"rsc.io/qr/coding"
)

// quietZone is the white margin around a QR code, in modules, that the
// standard asks for and scanners rely on.
const quietZone = 4

// qrCode is one badge's encoded QR code: nil modules for no code.
type qrCode struct {
	modules [][]bool
	err     error
}

// encodeQRCodes encodes the badges' QR texts on every CPU, in badge order,
// and hands each result over on its own channel as soon as it is ready, so
// the pages are drawn while later codes are still being encoded. Closing stop
// makes the workers quit.
func encodeQRCodes(badges []Badge, stop <-chan struct{}) []chan qrCode {
	out := make([]chan qrCode, len(badges))
	for i := range out {
		out[i] = make(chan qrCode, 1) // each is sent to once: sends never block
	}
	var next atomic.Int64
	for range min(runtime.GOMAXPROCS(0), len(badges)) {
		go func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(badges) {
					return
				}
				select {
				case <-stop:
					return
				default:
				}
				var c qrCode
				if text := badges[i].QRText; text != "" {
					c.modules, c.err = QRModules(text)
				}
				out[i] <- c
			}
		}()
	}
	return out
}

// qrMask is the mask of every code. An encoder may try all eight masks on
// each code and keep the one a penalty rule scores best (boombuler's did,
// at about 2 ms a code, most of the time of a big badge batch); every mask
// makes a valid code that any reader decodes, and the rule only steers away
// from patterns that trouble marginal scanners. Over 1,000 ticket URLs on
// four hosts, mask 2 had the lowest mean and worst penalty of the eight
// (1,431 and 1,657, against 1,458 to 1,493 and up to 1,840 for the others).
const qrMask coding.Mask = 2

// qrPlans holds each version's layout at level M with qrMask, built once.
var qrPlans [coding.MaxVersion + 1]struct {
	once sync.Once
	plan *coding.Plan
	err  error
}

func qrPlan(v coding.Version) (*coding.Plan, error) {
	p := &qrPlans[v]
	p.once.Do(func() { p.plan, p.err = coding.NewPlan(v, coding.M, qrMask) })
	return p.plan, p.err
}

// QRModules encodes text at error correction level M, in the smallest
// version its segments fit, and returns its module matrix, rows first:
// true is dark. Badges draw it as vectors; the ticket page as SVG.
func QRModules(text string) ([][]bool, error) {
	segs, v, ok := qrSegments(text)
	if !ok {
		// The text is never quoted: it is a secret ticket URL.
		return nil, fmt.Errorf("QR code: its %d-byte text does not fit in a QR code", len(text))
	}
	plan, err := qrPlan(v)
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	code, err := plan.Encode(segs...)
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	n := code.Size
	m := make([][]bool, n)
	cells := make([]bool, n*n)
	for y := range n {
		m[y] = cells[y*n : (y+1)*n]
		row := code.Bitmap[y*code.Stride:]
		for x := range n {
			m[y][x] = row[x/8]&(0x80>>(x%8)) != 0
		}
	}
	return m, nil
}

// qrSegments chooses how to write text into a code: all of it in the
// tightest mode it allows (digits, upper-case alphanumerics or bytes), or
// bytes followed by its longest upper-case alphanumeric or numeric tail. A
// ticket URL, http://HOST/t/TOKEN, is lower-case up to the token, which is
// upper-case Crockford base32: as alphanumerics its 26 characters take 143
// bits instead of 208. It returns the choice that fits the smallest version
// at level M, and that version; false when nothing fits version 40.
func qrSegments(text string) ([]coding.Encoding, coding.Version, bool) {
	var choices [][]coding.Encoding
	switch {
	case text != "" && strings.Trim(text, qrDigits) == "":
		choices = append(choices, []coding.Encoding{coding.Num(text)})
	case text != "" && strings.Trim(text, qrAlphanumerics) == "":
		choices = append(choices, []coding.Encoding{coding.Alpha(text)})
	default:
		choices = append(choices, []coding.Encoding{coding.String(text)})
		for _, set := range []string{qrAlphanumerics, qrDigits} {
			head := strings.TrimRight(text, set)
			if head != "" && head != text {
				choices = append(choices, []coding.Encoding{coding.String(head), tail(set, text[len(head):])})
			}
		}
	}
	for v := coding.Version(coding.MinVersion); v <= coding.MaxVersion; v++ {
		capacity := v.DataBytes(coding.M) * 8
		best, bestBits := -1, 0
		for i, segs := range choices {
			bits := 0
			for _, s := range segs {
				bits += s.Bits(v)
			}
			if bits <= capacity && (best < 0 || bits < bestBits) {
				best, bestBits = i, bits
			}
		}
		if best >= 0 {
			return choices[best], v, true
		}
	}
	return nil, 0, false
}

// The characters of QR's numeric and alphanumeric modes.
const (
	qrDigits        = "0123456789"
	qrAlphanumerics = qrDigits + "ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
)

func tail(set, s string) coding.Encoding {
	if set == qrDigits {
		return coding.Num(s)
	}
	return coding.Alpha(s)
}

// drawQR draws the code in a size x size square at x, y, quiet zone
// included, as filled rectangles: one per horizontal run of dark modules.
// The rectangles are written straight into the page in module units under a
// scaling transform, so each is a few integers rather than four formatted
// floats through gofpdf's Rect; q/Q keeps gofpdf's graphics state right.
func drawQR(f *gofpdf.Fpdf, x, y, size float64, m [][]bool) {
	n := len(m)
	mod := size / float64(n+2*quietZone)
	_, pageH := f.GetPageSize() // the document is in points, like PDF itself
	buf := make([]byte, 0, 64+n*n)
	// Module (col, row) maps to the point (x0 + col*mod, y0 + row*mod) from
	// the top left of the page; PDF counts y up from the bottom.
	buf = append(buf, "q "...)
	buf = strconv.AppendFloat(buf, mod, 'f', 5, 64)
	buf = append(buf, " 0 0 "...)
	buf = strconv.AppendFloat(buf, -mod, 'f', 5, 64)
	buf = append(buf, ' ')
	buf = strconv.AppendFloat(buf, x+quietZone*mod, 'f', 3, 64)
	buf = append(buf, ' ')
	buf = strconv.AppendFloat(buf, pageH-(y+quietZone*mod), 'f', 3, 64)
	buf = append(buf, " cm\n1 g "...)
	buf = appendRect(buf, -quietZone, -quietZone, n+2*quietZone, n+2*quietZone)
	buf = append(buf, "f\n0 g\n"...)
	for row, cells := range m {
		for c := 0; c < n; {
			if !cells[c] {
				c++
				continue
			}
			start := c
			for c < n && cells[c] {
				c++
			}
			buf = appendRect(buf, start, row, c-start, 1)
		}
	}
	buf = append(buf, "f Q"...)
	f.RawWriteStr(string(buf))
}

// appendRect appends a PDF rectangle of w x h modules at module col, row.
func appendRect(buf []byte, col, row, w, h int) []byte {
	buf = strconv.AppendInt(buf, int64(col), 10)
	buf = append(buf, ' ')
	buf = strconv.AppendInt(buf, int64(row), 10)
	buf = append(buf, ' ')
	buf = strconv.AppendInt(buf, int64(w), 10)
	buf = append(buf, ' ')
	buf = strconv.AppendInt(buf, int64(h), 10)
	return append(buf, " re\n"...)
}
