package pdf

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/jung-kurt/gofpdf"
)

// sample draws the same text on f, whichever way its fonts were added.
func sample(t *testing.T, f *gofpdf.Fpdf) []byte {
	t.Helper()
	f.SetCatalogSort(true)
	stamp := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	f.SetCreationDate(stamp)
	f.SetModificationDate(stamp)
	f.AddPage()
	f.SetFont(family, bold, 24)
	f.Text(20, 40, "Chávez-Nava Þórdís Łukasz")
	f.SetFont(family, regular, 12)
	f.Text(20, 80, "Ñúñez Müller O'Brien Cortés – 9:00 AM")
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		t.Fatalf("output: %v", err)
	}
	return buf.Bytes()
}

func TestSharedFontsMatchPublicAPI(t *testing.T) {
	shared, _, err := newDoc("P", gofpdf.SizeType{Wd: 612, Ht: 792})
	if err != nil {
		t.Fatalf("newDoc: %v", err)
	}
	public := gofpdf.NewCustom(&gofpdf.InitType{OrientationStr: "P", UnitStr: "pt", Size: gofpdf.SizeType{Wd: 612, Ht: 792}})
	public.AddUTF8FontFromBytes(family, regular, dejaVuSans)
	public.AddUTF8FontFromBytes(family, bold, dejaVuSansBold)
	public.SetMargins(0, 0, 0)
	public.SetAutoPageBreak(false, 0)
	public.SetCreator("Convene", true)
	public.SetCatalogSort(true)

	a, b := sample(t, shared), sample(t, public)
	if !bytes.Equal(a, b) {
		t.Fatalf("document with shared fonts (%d bytes) differs from one made with AddUTF8FontFromBytes (%d bytes)", len(a), len(b))
	}
	// A second document from the same shared fonts must not see the first one's runes.
	again, _, err := newDoc("P", gofpdf.SizeType{Wd: 612, Ht: 792})
	if err != nil {
		t.Fatal(err)
	}
	if c := sample(t, again); !bytes.Equal(a, c) {
		t.Fatalf("second shared document differs from the first")
	}
}

func TestWidthMatchesGofpdf(t *testing.T) {
	f, fs, err := newDoc("P", gofpdf.SizeType{Wd: 612, Ht: 792})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Chávez-Nava", "Þórdís Łukasz", "O'Brien – Müller", "Ñúñez…"} {
		for _, style := range []string{regular, bold} {
			f.SetFont(family, style, 17.5)
			if got, want := fs.width(style, s, 17.5), f.GetStringWidth(s); got != want {
				t.Errorf("width(%q, %q) = %v, gofpdf says %v", style, s, got, want)
			}
		}
	}
}

func TestCleanDropsWhatTheFontCannotDraw(t *testing.T) {
	fs, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"  Ana\tMaría \n":        "Ana María",
		"Ana 🌹":                  "Ana",
		"Jose\u0301 Ñun\u0303ez": "José Ñuñez", // decomposed accents become single letters
		"Łukasz\u200d":           "Łukasz",
		"李 Wei":                  "? Wei",
	} {
		if got := fs.clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFontsParsedOnce(t *testing.T) {
	a, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if b, err := loadFonts(); err != nil || b != a {
				t.Errorf("loadFonts returned a different font set (%v)", err)
			}
		}()
	}
	wg.Wait()
	allocs := testing.AllocsPerRun(5, func() {
		if _, _, err := newDoc("P", gofpdf.SizeType{Wd: 612, Ht: 792}); err != nil {
			t.Fatal(err)
		}
	})
	// AddUTF8FontFromBytes makes tens of thousands of allocations per face.
	t.Logf("allocations per new document: %v", allocs)
	if allocs > 2000 {
		t.Errorf("a new document makes %v allocations: fonts are being parsed again", allocs)
	}
}

// TestConcurrentDocuments shares the parsed fonts between documents being
// made at once; run under -race.
func TestConcurrentDocuments(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			if err := WriteBadges(&buf, LayoutAvery5392, hardBadges()[i:]); err != nil {
				t.Error(err)
			}
			if err := WriteAgenda(&buf, sampleAgenda(t, "es", i%2 == 0)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}
