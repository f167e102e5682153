package pdf

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"sync"
	"unicode"
	"unsafe"

	"github.com/jung-kurt/gofpdf"
	"golang.org/x/text/unicode/norm"
)

// DejaVu Sans 2.37 from Debian's fonts-dejavu-core; fonts/LICENSE is its
// licence (Bitstream Vera licence, DejaVu changes in the public domain).
var (
	//go:embed fonts/DejaVuSans.ttf
	dejaVuSans []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	dejaVuSansBold []byte
)

const (
	family  = "DejaVu"
	regular = ""
	bold    = "B"
)

// Why the fonts are shared through reflection:
//
// gofpdf's AddUTF8FontFromBytes parses the whole TrueType file (tables, cmap,
// a 65,536-entry width table) and hashes the result into a font id every time
// it is called: about 8 ms and 5 MB for the two faces, in every document, even
// one with a single badge. gofpdf has no public way to add an already parsed
// UTF-8 font: SetFontLoader and AddFontFromBytes take only the JSON
// definitions of single-byte fonts, templates carry drawing and images but not
// fonts, and an Fpdf cannot be cloned. gofpdf is archived and go.mod pins
// v1.16.2, so its internals are frozen. The fonts are parsed once per process
// into a hidden Fpdf, and each new document gets a copy of the definitions.
// The copy shares what gofpdf only reads after parsing (metrics and the width
// table) and gets its own of what a document changes: the set of runes it
// used, and the font-file reader, over its own copy of the font bytes, that
// gofpdf's subsetter re-reads and writes into when the document is written.
// checkShape verifies every field touched before first use, and
// TestSharedFontsMatchPublicAPI that a document made this way is byte for byte
// the one AddUTF8FontFromBytes makes. Still done per document, as it must be:
// gofpdf's subsetting of the glyphs that document used, at Output.

// fontSet is the process-wide result of parsing the embedded fonts once.
type fontSet struct {
	holder  reflect.Value // map[string]fontDefType of a hidden Fpdf: read only
	defType reflect.Type  // gofpdf's fontDefType
	utfType reflect.Type  // gofpdf's utf8FontFile
	rdrType reflect.Type  // gofpdf's fileReader
	widths  map[string][]int
	missing map[string]int
}

var (
	fontsOnce sync.Once
	fonts     *fontSet
	fontsErr  error
)

// loadFonts parses the embedded fonts the first time it is called.
func loadFonts() (*fontSet, error) {
	fontsOnce.Do(func() { fonts, fontsErr = parseFonts() })
	return fonts, fontsErr
}

func parseFonts() (*fontSet, error) {
	f := gofpdf.New("P", "pt", "Letter", "")
	f.AddUTF8FontFromBytes(family, regular, dejaVuSans)
	f.AddUTF8FontFromBytes(family, bold, dejaVuSansBold)
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("pdf: parse embedded fonts: %w", err)
	}
	table, err := fontTable(f)
	if err != nil {
		return nil, err
	}
	fs := &fontSet{holder: table, defType: table.Type().Elem(), widths: map[string][]int{}, missing: map[string]int{}}
	if err := fs.checkShape(); err != nil {
		return nil, err
	}
	for _, style := range []string{regular, bold} {
		def := table.MapIndex(reflect.ValueOf(fontKey(style)))
		if !def.IsValid() {
			return nil, fmt.Errorf("pdf: font %q style %q missing after parsing", family, style)
		}
		fs.widths[style] = def.FieldByName("Cw").Interface().([]int)
		fs.missing[style] = int(def.FieldByName("Desc").FieldByName("MissingWidth").Int())
	}
	return fs, nil
}

// fontKey is gofpdf's key for a family and style in its font table.
func fontKey(style string) string { return strings.ToLower(family) + style }

var errInternals = errors.New("pdf: github.com/jung-kurt/gofpdf internals differ from v1.16.2, which this package is written against")

// fontTable returns f's unexported font table, made readable and writable.
func fontTable(f *gofpdf.Fpdf) (reflect.Value, error) {
	v := reflect.ValueOf(f).Elem().FieldByName("fonts")
	if !v.IsValid() || v.Kind() != reflect.Map || v.Type().Key().Kind() != reflect.String ||
		v.Type().Elem().Kind() != reflect.Struct {
		return reflect.Value{}, errInternals
	}
	return expose(v), nil
}

// expose returns v without reflect's read-only flag for unexported fields.
// v must be addressable.
func expose(v reflect.Value) reflect.Value {
	return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
}

// checkShape verifies the type of every field copyInto and parseFonts touch.
func (fs *fontSet) checkShape() error {
	field := func(t reflect.Type, name string, want reflect.Kind) reflect.Type {
		if t == nil || t.Kind() != reflect.Struct {
			return nil
		}
		sf, ok := t.FieldByName(name)
		if !ok || sf.Type.Kind() != want {
			return nil
		}
		return sf.Type
	}
	elem := func(t reflect.Type) reflect.Type {
		if t == nil {
			return nil
		}
		return t.Elem()
	}
	fs.utfType = elem(field(fs.defType, "utf8File", reflect.Pointer))
	fs.rdrType = elem(field(fs.utfType, "fileReader", reflect.Pointer))
	if field(fs.defType, "usedRunes", reflect.Map) != reflect.TypeOf(map[int]int{}) ||
		field(fs.defType, "Cw", reflect.Slice) != reflect.TypeOf([]int{}) ||
		field(field(fs.defType, "Desc", reflect.Struct), "MissingWidth", reflect.Int) == nil ||
		field(fs.rdrType, "array", reflect.Slice) != reflect.TypeOf([]byte{}) ||
		field(fs.rdrType, "readerPosition", reflect.Int64) == nil {
		return errInternals
	}
	return nil
}

// copyInto gives f the parsed fonts, as if AddUTF8FontFromBytes had been
// called on it.
func (fs *fontSet) copyInto(f *gofpdf.Fpdf) error {
	dst, err := fontTable(f)
	if err != nil {
		return err
	}
	iter := fs.holder.MapRange()
	for iter.Next() {
		def := reflect.New(fs.defType).Elem()
		def.Set(iter.Value())

		runes := expose(def.FieldByName("usedRunes"))
		runes.Set(reflect.ValueOf(maps.Clone(runes.Interface().(map[int]int))))

		utf := expose(def.FieldByName("utf8File"))
		ttf := expose(expose(utf.Elem().FieldByName("fileReader")).Elem().FieldByName("array")).Bytes()
		rdr := reflect.New(fs.rdrType)
		// A copy: gofpdf's subsetter pads table slices of the font file in
		// place (generateChecksum appends to them), so two documents written
		// at once from the same bytes race, with or without this sharing.
		expose(rdr.Elem().FieldByName("array")).SetBytes(bytes.Clone(ttf))
		fresh := reflect.New(fs.utfType)
		expose(fresh.Elem().FieldByName("fileReader")).Set(rdr)
		utf.Set(fresh)

		dst.SetMapIndex(iter.Key(), def)
	}
	return nil
}

// width returns the advance of s in points at size, exactly as gofpdf's
// GetStringWidth computes it for the same font.
func (fs *fontSet) width(style, s string, size float64) float64 {
	cw := fs.widths[style]
	w := 0
	for _, r := range s {
		c := int(r)
		switch {
		case c < len(cw) && cw[c] == 65535: // gofpdf's marker for zero width
		case c < len(cw) && cw[c] > 0:
			w += cw[c]
		default:
			w += fs.missing[style]
		}
	}
	return float64(w) * size / 1000
}

// has reports whether both faces have a glyph for r. gofpdf only handles the
// Basic Multilingual Plane (a rune above it panics when the document is
// written), so nothing above it is drawable.
func (fs *fontSet) has(r rune) bool {
	for _, cw := range fs.widths {
		if int(r) >= len(cw) || cw[r] == 0 {
			return false
		}
	}
	return true
}

// clean makes s safe and drawable: NFC so accents are single glyphs, control
// characters and line breaks become spaces, runs of spaces collapse, format
// characters and the emoji and other symbols the font lacks are dropped, and
// letters it lacks become "?".
func (fs *fontSet) clean(s string) string {
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space = b.Len() > 0
			continue
		case unicode.Is(unicode.Cf, r):
			continue // soft hyphens, joiners, direction marks: invisible at best
		case fs.has(r):
		case unicode.IsLetter(r) || unicode.IsNumber(r):
			r = '?'
		default:
			continue // emoji, joiners, variation selectors, unknown marks
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// newDoc starts a document in points with the shared fonts and no automatic
// page breaks or margins: every layout here places things itself.
func newDoc(orientation string, size gofpdf.SizeType) (*gofpdf.Fpdf, *fontSet, error) {
	fs, err := loadFonts()
	if err != nil {
		return nil, nil, err
	}
	f := gofpdf.NewCustom(&gofpdf.InitType{OrientationStr: orientation, UnitStr: "pt", Size: size})
	if err := fs.copyInto(f); err != nil {
		return nil, nil, err
	}
	f.SetMargins(0, 0, 0)
	f.SetAutoPageBreak(false, 0)
	f.SetCreator("Convene", true)
	f.SetCatalogSort(true) // the same input gives the same file, bar its dates
	return f, fs, nil
}
