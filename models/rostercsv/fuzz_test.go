package rostercsv

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, tc := range cases {
		f.Add([]byte(tc.in))
	}
	f.Add([]byte("Member Number,First Name,Last Name\n1,\"a\n2,b,c\n3,\"d\"e,f\n"))
	f.Add([]byte("sep=\t\nMember Number\tFirst\tLast\n1\t\"\"\t\"x\"\n"))
	f.Add([]byte("ID;Nombre;Apellido;Estado\r\n'1;Ana;Ruiz;sí\r\n'1;Ana;Ruiz;no\r\n"))

	f.Fuzz(func(t *testing.T, in []byte) {
		res, err := Parse(bytes.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrNotCSV) && !errors.Is(err, ErrNoHeader) &&
				!errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrTooManyRows) {
				t.Fatalf("unexpected error %v", err)
			}
			if res.Rows != nil || res.Errors != nil {
				t.Fatalf("a failed parse returned rows or errors")
			}
			return
		}
		// Every line break the parser may count is a LF or a CR in the input
		// (a UTF-16 file only has more such bytes), so this bounds the line count.
		lines := 1 + bytes.Count(in, []byte("\n")) + bytes.Count(in, []byte("\r")) - bytes.Count(in, []byte("\r\n"))
		used := map[int]bool{}
		use := func(line int, what string) {
			if line < 1 || line > lines {
				t.Fatalf("%s on line %d, but the file has at most %d lines", what, line, lines)
			}
			if used[line] {
				t.Fatalf("line %d reported twice", line)
			}
			used[line] = true
		}
		numbers := map[string]int{}
		prev := 0
		for _, r := range res.Rows {
			use(r.Line, "row")
			if r.Line < 2 || r.Line <= prev {
				t.Fatalf("row line %d after %d", r.Line, prev)
			}
			prev = r.Line
			if r.MemberNumber == "" || r.LastName == "" || r.FirstName == "" {
				t.Fatalf("row with a missing value: %+v", r)
			}
			if r.Standing != StandingGood && r.Standing != StandingLapsed {
				t.Fatalf("row with standing %q", r.Standing)
			}
			for _, v := range []string{r.MemberNumber, r.FirstName, r.LastName, r.Email} {
				if v != "" && strings.ContainsAny(v[:1], "=+-@\t\r\n ") {
					t.Fatalf("row with an unsafe or untrimmed value %q", v)
				}
				if strings.ContainsAny(v, "\n\r\x00") {
					t.Fatalf("row value %q has a line break or NUL", v)
				}
			}
			if r.Email != "" && strings.Count(r.Email, "@") != 1 {
				t.Fatalf("row with email %q", r.Email)
			}
			key := strings.ToLower(r.MemberNumber)
			if first, dup := numbers[key]; dup {
				t.Fatalf("member number %q on lines %d and %d", r.MemberNumber, first, r.Line)
			}
			numbers[key] = r.Line
		}
		for _, e := range res.Errors {
			use(e.Line, "row error")
			if e.Reason == "" {
				t.Fatalf("row error without a reason on line %d", e.Line)
			}
		}
		if len(res.Skipped) > len(res.Errors) {
			t.Fatalf("%d skipped member numbers for %d row errors", len(res.Skipped), len(res.Errors))
		}
		for _, n := range res.Skipped {
			if n == "" || strings.ContainsAny(n[:1], "=+-@\t\r\n ") || strings.ContainsAny(n, "\n\r\x00") {
				t.Fatalf("skipped member number %q", n)
			}
		}
	})
}
