package pdf

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jung-kurt/gofpdf"
)

// thousandBadges is a big conference's Avery batch: a distinct ticket URL on
// every badge, or none at all for the text-only comparison.
func thousandBadges(withQR bool) []Badge {
	src := hardBadges()
	out := make([]Badge, 1000)
	for i := range out {
		b := src[i%len(src)]
		b.QRText = ""
		if withQR {
			b.QRText = fmt.Sprintf("http://localhost:8080/t/%026d", i) // 26 characters, like a real token
		}
		out[i] = b
	}
	return out
}

func BenchmarkBadges1000QR(b *testing.B) {
	benchBadges(b, thousandBadges(true))
}

func BenchmarkBadges1000TextOnly(b *testing.B) {
	benchBadges(b, thousandBadges(false))
}

func benchBadges(b *testing.B, badges []Badge) {
	if _, err := loadFonts(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteBadges(io.Discard, LayoutAvery5392, badges); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewDocSharedFonts is the per-document font cost now: a copy of
// the definitions parsed once per process.
func BenchmarkNewDocSharedFonts(b *testing.B) {
	if _, err := loadFonts(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := newDoc("P", gofpdf.SizeType{Wd: pageW, Ht: pageH}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewDocParseFonts is what it would be with gofpdf's public API.
func BenchmarkNewDocParseFonts(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		f := gofpdf.NewCustom(&gofpdf.InitType{OrientationStr: "P", UnitStr: "pt", Size: gofpdf.SizeType{Wd: pageW, Ht: pageH}})
		f.AddUTF8FontFromBytes(family, regular, dejaVuSans)
		f.AddUTF8FontFromBytes(family, bold, dejaVuSansBold)
		if err := f.Error(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOneBadge is the check-in desk's "print this badge".
func BenchmarkOneBadge(b *testing.B) {
	badge := hardBadges()[:1]
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteBadges(io.Discard, LayoutSingle, badge); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBadgeBenchReport builds each 1,000-badge document once and prints its
// wall time and peak memory (heap and stacks in use, sampled every
// millisecond). Run with:
//
//	CONVENE_BENCH=1 go test -v -run TestBadgeBenchReport ./pdf/
func TestBadgeBenchReport(t *testing.T) {
	if os.Getenv("CONVENE_BENCH") == "" {
		t.Skip("set CONVENE_BENCH=1")
	}
	if _, err := loadFonts(); err != nil {
		t.Fatal(err)
	}
	measure := func(badges []Badge) (secs, peakMB float64) {
		runtime.GC()
		var peak atomic.Uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				if v := ms.HeapInuse + ms.StackInuse; v > peak.Load() {
					peak.Store(v)
				}
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		}()
		start := time.Now()
		err := WriteBadges(io.Discard, LayoutAvery5392, badges)
		secs = time.Since(start).Seconds()
		close(stop)
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		return secs, float64(peak.Load()) / (1 << 20)
	}
	withQR, textOnly := thousandBadges(true), thousandBadges(false)
	measure(withQR) // warm up
	qrS, qrMB := measure(withQR)
	txtS, txtMB := measure(textOnly)
	fmt.Printf("badges avery5392 1000 qr: %.2f s, peak %.0f MB\n", qrS, qrMB)
	fmt.Printf("badges avery5392 1000 text-only: %.2f s, peak %.0f MB\n", txtS, txtMB)

	start := time.Now()
	for _, b := range withQR {
		if _, err := QRModules(b.QRText); err != nil {
			t.Fatal(err)
		}
	}
	encode := time.Since(start).Seconds()
	verdict := "met"
	if qrS > 2*txtS {
		verdict = "NOT met"
	}
	fmt.Printf("qr / text-only: %.2fx time (goal <= 2x: %s), %.2fx peak memory; encoding the 1000 codes alone, one CPU: %.2f s; GOMAXPROCS %d\n",
		qrS/txtS, verdict, qrMB/txtMB, encode, runtime.GOMAXPROCS(0))
	if qrMB >= 100 {
		t.Errorf("QR document peaks at %.0f MB; the goal is under 100 MB", qrMB)
	}
}
