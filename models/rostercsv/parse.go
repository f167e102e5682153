package rostercsv

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxBytes is the largest roster file Parse accepts (5 MB).
const MaxBytes = 5 << 20

// MaxRows is the largest number of data lines Parse accepts.
const MaxRows = 50000

// Field names used as keys of Result.Columns.
const (
	FieldMemberNumber = "member_number"
	FieldFirstName    = "first_name"
	FieldLastName     = "last_name"
	FieldEmail        = "email"
	FieldStanding     = "standing"
)

// Standing values of a Row.
const (
	StandingGood   = "good"
	StandingLapsed = "lapsed"
)

// Row is one member read from the roster.
type Row struct {
	Line         int // line in the file where the member's record starts
	MemberNumber string
	FirstName    string
	LastName     string
	Email        string // may be empty
	Standing     string // StandingGood or StandingLapsed
}

// RowError is one line of the file that was skipped, with the reason.
type RowError struct {
	Line int
	// Reason is Parts in English, joined with "; ".
	Reason string
	Parts  []Message
}

// Result is everything Parse read from a roster file.
type Result struct {
	Rows    []Row
	Errors  []RowError
	Columns map[string]string // our field (FieldMemberNumber ...) -> column name as written in the file
	// Skipped lists the member numbers that could be read from lines that
	// became row errors, so that a caller comparing the file with a roster
	// does not take those members as missing from the file. A member number
	// repeated on a later line is not listed again.
	Skipped []string
}

// ErrTooLarge means the file is larger than MaxBytes.
var ErrTooLarge = errors.New("the file is larger than 5 MB; split the roster into smaller CSV files and upload each one")

// ErrTooManyRows means the file has more than MaxRows data lines.
var ErrTooManyRows = errors.New("the file has more than 50,000 lines of members; split the roster into smaller CSV files and upload each one")

// ErrNotCSV means the file is not a text CSV file (a workbook, an image, a binary file).
var ErrNotCSV = errors.New("this file is not a CSV file; save your spreadsheet as CSV (comma-separated) and upload it again")

// ErrNoHeader means no line of the file names the required columns; the
// error returned is a *HeaderError that says which ones are missing.
var ErrNoHeader = errors.New("the first line of the file must name the columns: member number, first name and last name")

// HeaderError says which required columns could not be found; errors.Is(err, ErrNoHeader) holds.
type HeaderError struct {
	Line    int      // line whose column names were examined; 0 if the file is empty
	Missing []string // required columns not found, in plain words ("member number")
	Seen    []string // the column names found on that line, as written
}

// Error says which columns are missing and which names were found.
func (e *HeaderError) Error() string {
	if e.Line == 0 {
		return "the file is empty; the first line must name the columns: member number, first name and last name"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "could not find the %s column", joinAnd(e.Missing))
	if len(e.Missing) > 1 {
		b.WriteString("s")
	}
	fmt.Fprintf(&b, " on line %d; the first line must name the columns: member number, first name and last name", e.Line)
	if len(e.Seen) == 0 {
		b.WriteString(" (that line is empty)")
	} else {
		seen := e.Seen
		more := ""
		if len(seen) > 12 {
			seen, more = seen[:12], ", ..."
		}
		quoted := make([]string, len(seen))
		for i, s := range seen {
			quoted[i] = fmt.Sprintf("%q", clip(s, 40))
		}
		fmt.Fprintf(&b, " (found: %s%s)", strings.Join(quoted, ", "), more)
	}
	for _, s := range e.Seen {
		if k := headerKey(s); k == "name" || k == "fullname" || k == "membername" || k == "nombrecompleto" {
			fmt.Fprintf(&b, "; split the %q column into first name and last name", s)
			break
		}
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNoHeader) true for a *HeaderError.
func (e *HeaderError) Is(target error) bool { return target == ErrNoHeader }

// notCSVError is ErrNotCSV with a more specific message.
type notCSVError struct{ msg string }

func (e *notCSVError) Error() string        { return e.msg }
func (e *notCSVError) Is(target error) bool { return target == ErrNotCSV }

// Parse reads a roster CSV file. It reads at most MaxBytes+1 bytes from r.
// The error is nil or one of ErrTooLarge, ErrTooManyRows, ErrNotCSV,
// ErrNoHeader (as a *HeaderError) or a read error from r; problems with
// single lines are in Result.Errors. A file with column names but no
// members is not an error: Result.Rows is empty.
func Parse(r io.Reader) (Result, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return Result{}, fmt.Errorf("reading the roster file: %w", err)
	}
	if len(raw) > MaxBytes {
		return Result{}, ErrTooLarge
	}
	text, err := decode(raw)
	if err != nil {
		return Result{}, err
	}
	h, err := findHeader(text)
	if err != nil {
		return Result{}, err
	}
	p := newParser(text, h)
	if err := p.run(); err != nil {
		return Result{}, err
	}
	return p.res, nil
}

// clip shortens s to at most n characters for quoting in a message.
func clip(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// joinAnd joins words as "a, b and c".
func joinAnd(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
