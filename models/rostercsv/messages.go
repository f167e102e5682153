package rostercsv

import (
	"fmt"
	"strings"
)

// Message is a reason in English with what it names, kept apart so a page
// can show it in its reader's language: Format is looked up in a catalog,
// and each argument that is itself a Message (a column's name, "lines 4 to
// 6") is translated the same way before it is filled in.
type Message struct {
	Format string
	Args   []any
}

func msg(format string, args ...any) Message { return Message{Format: format, Args: args} }

// Text is m with each format translated by tr.
func (m Message) Text(tr func(string) string) string {
	args := make([]any, len(m.Args))
	for i, a := range m.Args {
		if am, ok := a.(Message); ok {
			a = am.Text(tr)
		}
		args[i] = a
	}
	f := tr(m.Format)
	if len(args) == 0 {
		return f
	}
	return fmt.Sprintf(f, args...)
}

func english(s string) string { return s }

// Text is the line's reason with each format translated by tr; Reason is
// the same in English.
func (e RowError) Text(tr func(string) string) string {
	parts := make([]string, len(e.Parts))
	for i, p := range e.Parts {
		parts[i] = p.Text(tr)
	}
	return strings.Join(parts, "; ")
}

// The reasons a line is skipped. Formats lists them all, for the catalogs'
// test.
const (
	fPreamble      = "this line comes before the column names on line %d, so it was skipped"
	fUnclosedLine  = `a quote mark (") on this line opens a cell that is never closed, so the line could not be read`
	fUnclosedLines = `a quote mark (") on this line opens a cell that is never closed, so lines %d to %d could not be read`
	fUnpaired      = `the quote marks (") on this line do not pair up, so the line could not be read`
	fHeaderAgain   = "this line repeats the column names, so it was skipped"
	fLines         = "lines %d to %d"
	fScientific    = "member number %q was changed into a number by the spreadsheet; format the column as text, type the numbers again and export again"
	fRepeated      = "member number %s appears again (first on line %d); this line is skipped"
	fBadEmail      = "email %q is not a valid email address"
	fBadStanding   = "standing %q is not one of good, lapsed"
)

// cellsFormat is the reason for a line with more cells than columns, naming
// the file's delimiter: a whole sentence for each, so each translates whole.
func cellsFormat(comma rune) string {
	word := "comma"
	switch comma {
	case ';':
		word = "semicolon"
	case '\t':
		word = "tab"
	case '|':
		word = "vertical bar"
	}
	return "this line has %d cells but the column names line has %d; a name may contain a " + word + " that is not inside quote marks"
}

// The values checkValue checks, and what each should look like.
var checkedValues = []struct{ what, kind string }{
	{"member number", "a member number"}, {"first name", "a name"}, {"last name", "a name"}, {"email", "an email address"},
}

// valueFormats are checkValue's reasons for one value: a whole sentence
// for each value, so each translates whole.
func valueFormats(what string) (missing, multiline, control, formula, tooLong string) {
	kind := ""
	for _, v := range checkedValues {
		if v.what == what {
			kind = v.kind
		}
	}
	return what + " is missing",
		what + " runs over more than one line (%s); a quote mark may be missing",
		what + " contains a hidden control character",
		what + " %q looks like a spreadsheet formula, not " + kind,
		what + " is too long (more than %d characters)"
}

// Formats are every format a Message may hold.
var Formats = func() []string {
	fs := []string{fPreamble, fUnclosedLine, fUnclosedLines, fUnpaired, fHeaderAgain, fLines,
		fScientific, fRepeated, fBadEmail, fBadStanding}
	for _, c := range []rune{',', ';', '\t', '|'} {
		fs = append(fs, cellsFormat(c))
	}
	for _, v := range checkedValues {
		a, b, c, d, e := valueFormats(v.what)
		fs = append(fs, a, b, c, d, e)
	}
	return fs
}()
