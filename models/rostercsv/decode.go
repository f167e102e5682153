package rostercsv

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

const saveAsCSV = "in your spreadsheet choose File > Save As, pick \"CSV UTF-8 (Comma delimited)\" or \"CSV (Comma delimited)\", and upload that file"

// binarySignatures are the starts of files officers upload by mistake.
var binarySignatures = []struct {
	magic string
	msg   string
}{
	{"PK\x03\x04", "this is an Excel workbook or another zipped file, not a CSV file; " + saveAsCSV},
	{"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "this is an old Excel workbook (.xls), not a CSV file; " + saveAsCSV},
	{"%PDF", "this is a PDF file, not a CSV file; " + saveAsCSV},
	{"\x89PNG", "this is a picture, not a CSV file; " + saveAsCSV},
	{"\xFF\xD8\xFF", "this is a picture, not a CSV file; " + saveAsCSV},
	{"GIF8", "this is a picture, not a CSV file; " + saveAsCSV},
}

// markupStarts are how web pages and XML spreadsheets begin; some
// membership systems save those with an .xls or .csv name.
var markupStarts = []string{"<!doctype", "<html", "<?xml", "<table", "<head", "<body"}

// decode turns the raw file into UTF-8 text with "\n" line ends, or says it is not CSV.
func decode(raw []byte) (string, error) {
	for _, s := range binarySignatures {
		if bytes.HasPrefix(raw, []byte(s.magic)) {
			return "", &notCSVError{s.msg}
		}
	}
	var text string
	switch {
	case bytes.HasPrefix(raw, bomUTF8):
		text = fromUTF8OrWindows1252(raw[len(bomUTF8):])
	case bytes.HasPrefix(raw, bomUTF16LE), bytes.HasPrefix(raw, bomUTF16BE):
		b, err := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(raw)
		if err != nil {
			return "", ErrNotCSV
		}
		text = string(b)
	default:
		text = fromUTF8OrWindows1252(raw)
	}
	// Old DOS tools end a text file with Ctrl-Z.
	text = strings.TrimRight(text, "\x1A")
	if !looksLikeText(text) {
		return "", ErrNotCSV
	}
	head := strings.ToLower(strings.TrimLeft(text[:min(len(text), 64)], " \t\r\n\uFEFF"))
	for _, m := range markupStarts {
		if strings.HasPrefix(head, m) {
			return "", &notCSVError{"this is a web page or XML file, not a CSV file; " + saveAsCSV}
		}
	}
	if strings.IndexByte(text, '\r') >= 0 {
		// Windows line ends, and the lone CR of old Mac exports, both end a line.
		text = strings.ReplaceAll(text, "\r\n", "\n")
		text = strings.ReplaceAll(text, "\r", "\n")
	}
	if line := lineWithTooManyCells(text); line > 0 {
		return "", &notCSVError{fmt.Sprintf("line %d has more than %d cells, so this does not look like a membership roster; save your spreadsheet as CSV (comma-separated) and upload it again", line, maxCellsPerLine)}
	}
	return text, nil
}

// maxCellsPerLine bounds the cells of one line: the CSV reader allocates
// for every cell, and a 5 MB line of commas would cost close to a gigabyte.
const maxCellsPerLine = 2000

// lineWithTooManyCells returns the first line with more than maxCellsPerLine
// delimiters of any kind, or 0.
func lineWithTooManyCells(text string) int {
	line, n := 1, 0
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '\n':
			line, n = line+1, 0
		case ',', ';', '\t', '|':
			if n++; n >= maxCellsPerLine {
				return line
			}
		}
	}
	return 0
}

// fromUTF8OrWindows1252 keeps valid UTF-8 and reads every byte that is not
// part of a valid UTF-8 sequence as Windows-1252.
func fromUTF8OrWindows1252(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/4)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			sb.WriteRune(charmap.Windows1252.DecodeByte(b[i]))
			i++
			continue
		}
		sb.WriteString(string(b[i : i+n]))
		i += n
	}
	return sb.String()
}

// looksLikeText reports whether text has no NUL and at most one character
// in twenty that is an unprintable control character or undecodable.
func looksLikeText(text string) bool {
	total, bad := 0, 0
	for _, r := range text {
		total++
		switch {
		case r == 0:
			return false
		case r == '\t' || r == '\n' || r == '\r':
		case r < 0x20 || (r >= 0x7F && r < 0xA0) || r == utf8.RuneError:
			bad++
		}
	}
	return bad*20 <= total
}
