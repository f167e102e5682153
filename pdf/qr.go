package pdf

import (
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"

	"github.com/boombuler/barcode/qr"
	"github.com/jung-kurt/gofpdf"
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
// the pages are drawn while later codes are still being encoded. boombuler's
// encoder scores all eight masks of every code (about 2 ms a code), which is
// most of the cost of a large batch. Closing stop makes the workers quit.
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
					c.modules, c.err = qrModules(text)
				}
				out[i] <- c
			}
		}()
	}
	return out
}

// qrModules encodes text at error correction level M and returns its module
// matrix, rows first.
func qrModules(text string) ([][]bool, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		// Not wrapped: boombuler's message quotes the text, a secret ticket URL.
		return nil, fmt.Errorf("QR code: its %d-byte text does not fit in a QR code", len(text))
	}
	// boombuler's codes come at 1 module = 1 pixel; Get avoids a colour per module.
	type getter interface{ Get(x, y int) bool }
	g, hasGet := code.(getter)
	n := code.Bounds().Dx()
	m := make([][]bool, n)
	cells := make([]bool, n*n)
	for y := range n {
		m[y] = cells[y*n : (y+1)*n]
		for x := range n {
			if hasGet {
				m[y][x] = g.Get(x, y)
			} else {
				r, _, _, _ := code.At(x, y).RGBA()
				m[y][x] = r < 0x8000
			}
		}
	}
	return m, nil
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
