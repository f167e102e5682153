package rostercsv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// caseTest is one roster file and what an officer should see after uploading it.
type caseTest struct {
	name   string
	in     string
	rows   []Row
	errs   []lineReason
	cols   map[string]string // checked when not nil
	failIs error             // whole-file error expected, checked with errors.Is
}

func good(line int, number, first, last, email string) Row {
	return Row{Line: line, MemberNumber: number, FirstName: first, LastName: last, Email: email, Standing: StandingGood}
}

func lapsed(line int, number, first, last, email string) Row {
	r := good(line, number, first, last, email)
	r.Standing = StandingLapsed
	return r
}

// utf16le encodes ASCII-and-Latin-1 text as UTF-16LE with a byte-order mark, as Excel's "Unicode Text" does.
func utf16le(s string) string {
	b := []byte{0xFF, 0xFE}
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return string(b)
}

var cases = []caseTest{
	{
		name: "UTF-8 with a byte-order mark",
		in:   "\uFEFFMember Number,First Name,Last Name,Email\n1042,Ana,Chávez,ana@example.org\n",
		rows: []Row{good(2, "1042", "Ana", "Chávez", "ana@example.org")},
		cols: map[string]string{FieldMemberNumber: "Member Number", FieldFirstName: "First Name", FieldLastName: "Last Name", FieldEmail: "Email"},
	},
	{
		name: "semicolons, as Excel writes them in Europe and Latin America",
		in:   "Member No.;Nombre;Apellido;Correo;Estado\n1042;Ana;Ruiz;ana@example.org;activo\n1043;Luis;Peña;;inactivo\n",
		rows: []Row{good(2, "1042", "Ana", "Ruiz", "ana@example.org"), lapsed(3, "1043", "Luis", "Peña", "")},
		cols: map[string]string{FieldMemberNumber: "Member No.", FieldFirstName: "Nombre", FieldLastName: "Apellido", FieldEmail: "Correo", FieldStanding: "Estado"},
	},
	{
		name: "tabs",
		in:   "Member ID\tFirst\tLast\n7\tAna\tRuiz\n",
		rows: []Row{good(2, "7", "Ana", "Ruiz", "")},
	},
	{
		name: "quoted commas, doubled quotes and a quoted semicolon",
		in:   "Member #,Last Name,First Name\n1042,\"Ruiz, Jr.\",Ana\n1043,\"O\"\"Brien\",\"Mary; Kate\"\n",
		rows: []Row{good(2, "1042", "Ana", "Ruiz, Jr.", ""), good(3, "1043", "Mary; Kate", "O\"Brien", "")},
		cols: map[string]string{FieldMemberNumber: "Member #", FieldLastName: "Last Name", FieldFirstName: "First Name"},
	},
	{
		name: "blank lines and Excel's empty rows are skipped, line numbers still count them",
		in:   "\n\nCard No.,First,Last\n\n1,Ana,Ruiz\n,,\n  ,  , \n\n2,Bo,Li\n\n",
		rows: []Row{good(5, "1", "Ana", "Ruiz", ""), good(9, "2", "Bo", "Li", "")},
	},
	{
		name: "a repeated member number: the first line wins",
		in:   "Member Number,First Name,Last Name\n1042,Ana,Ruiz\n1043,Bo,Li\n1042,Ana,Ruiz\n 1042 ,Other,Person\n",
		rows: []Row{good(2, "1042", "Ana", "Ruiz", ""), good(3, "1043", "Bo", "Li", "")},
		errs: []lineReason{
			{4, "member number 1042 appears again (first on line 2); this line is skipped"},
			{5, "member number 1042 appears again (first on line 2); this line is skipped"},
		},
	},
	{
		name: "the first line with a member number wins even when it has another problem",
		in:   "Member Number,First Name,Last Name,Email\n1042,Ana,Ruiz,not-an-email\n1042,Ana,Ruiz,ana@example.org\nA7,Bo,Li,\na7,Bo,Li,\n",
		rows: []Row{good(4, "A7", "Bo", "Li", "")},
		errs: []lineReason{
			{2, `email "not-an-email" is not a valid email address`},
			{3, "member number 1042 appears again (first on line 2); this line is skipped"},
			{5, "member number a7 appears again (first on line 4); this line is skipped"},
		},
	},
	{
		name: "cells that look like spreadsheet formulas",
		in: "Member Number,First Name,Last Name,Email\n" +
			"1,=HYPERLINK(\"http://x.example\"),Ruiz,\n" +
			"2,Ana,+Ruiz,\n" +
			"-123,Ana,Ruiz,\n" +
			"4,@SUM(A1),Ruiz,\n" +
			"5,\"\t=1+1\",Ruiz,\n" +
			"'=2+2,Ana,Ruiz,\n" +
			"7,Ana,Ruiz,=x@example.org\n" +
			"8,Ana-María,Ruiz-Chávez,\n",
		rows: []Row{good(9, "8", "Ana-María", "Ruiz-Chávez", "")},
		errs: []lineReason{
			{2, `first name "=HYPERLINK(\"http://x.example\")" looks like a spreadsheet formula, not a name`},
			{3, `last name "+Ruiz" looks like a spreadsheet formula, not a name`},
			{4, `member number "-123" looks like a spreadsheet formula, not a member number`},
			{5, `first name "@SUM(A1)" looks like a spreadsheet formula, not a name`},
			{6, `first name "=1+1" looks like a spreadsheet formula, not a name`},
			{7, `member number "=2+2" looks like a spreadsheet formula, not a member number`},
			{8, `email "=x@example.org" looks like a spreadsheet formula, not an email address`},
		},
	},
	{
		name: "Windows-1252, Excel's default on Windows",
		in:   "Member Number,First Name,Last Name\r\n1042,Jos\xe9,Ch\xe1vez\r\n1043,Iv\xe1n,Mu\xf1oz \x96 Pe\xf1a\r\n",
		rows: []Row{good(2, "1042", "José", "Chávez", ""), good(3, "1043", "Iván", "Muñoz – Peña", "")},
	},
	{
		name: "CRLF line ends, with a quoted line break in an ignored column",
		in:   "Member Number,First Name,Last Name,Address\r\n1,Ana,Ruiz,\"12 Main St\r\nApt 4\"\r\n2,Bo,Li,x\r\n",
		rows: []Row{good(2, "1", "Ana", "Ruiz", ""), good(4, "2", "Bo", "Li", "")},
	},
	{
		name: "old Mac line ends (CR only)",
		in:   "Member Number,First Name,Last Name\r1,Ana,Ruiz\r\r2,Bo,Li\r",
		rows: []Row{good(2, "1", "Ana", "Ruiz", ""), good(4, "2", "Bo", "Li", "")},
	},
	{
		name: "standing values",
		in: "Member Number,First Name,Last Name,Good Standing\n" +
			"1,A,A,Lapsed\n2,A,A,no\n3,A,A,FALSE\n4,A,A,0\n5,A,A,suspended\n6,A,A,Not in good standing\n7,A,A,Inactivo\n" +
			"8,A,A,good\n9,A,A,Active\n10,A,A,Y\n11,A,A,TRUE\n12,A,A,1\n13,A,A,In  Good Standing\n14,A,A,Sí\n15,A,A,\n" +
			"16,A,A,maybe\n17,A,A,-1\n18,A,A,Al corriente\n19,A,A,no al corriente\n",
		rows: []Row{
			lapsed(2, "1", "A", "A", ""), lapsed(3, "2", "A", "A", ""), lapsed(4, "3", "A", "A", ""),
			lapsed(5, "4", "A", "A", ""), lapsed(6, "5", "A", "A", ""), lapsed(7, "6", "A", "A", ""),
			lapsed(8, "7", "A", "A", ""),
			good(9, "8", "A", "A", ""), good(10, "9", "A", "A", ""), good(11, "10", "A", "A", ""),
			good(12, "11", "A", "A", ""), good(13, "12", "A", "A", ""), good(14, "13", "A", "A", ""),
			good(15, "14", "A", "A", ""), good(16, "15", "A", "A", ""),
			good(19, "18", "A", "A", ""), lapsed(20, "19", "A", "A", ""),
		},
		errs: []lineReason{
			{17, `standing "maybe" is not one of good, lapsed`},
			{18, `standing "-1" is not one of good, lapsed`},
		},
	},
	{
		name: "missing cells, bad email and several problems on one line",
		in:   "Member Number,First Name,Last Name,Email\n1,Ana\n,,Ruiz,ana@@example.org\n3,Bo,Li,bo@example\n4,Cy,Do,cy at example.org\n5,Ed,Fo,ed@example.org.\n",
		errs: []lineReason{
			{2, "last name is missing"},
			{3, `member number is missing; first name is missing; email "ana@@example.org" is not a valid email address`},
			{4, `email "bo@example" is not a valid email address`},
			{5, `email "cy at example.org" is not a valid email address`},
			{6, `email "ed@example.org." is not a valid email address`},
		},
	},
	{
		name: "trimming, no-break spaces, Excel's text apostrophe and decomposed accents",
		in:   "Member Number,First Name,Last Name\n  '0042 ,\u00a0Ana\u00a0, Cha\u0301vez \n",
		rows: []Row{good(2, "0042", "Ana", "Chávez", "")},
	},
	{
		name: "a member number Excel turned into scientific notation",
		in:   "Member Number,First Name,Last Name\n1.04E+05,Ana,Ruiz\n",
		errs: []lineReason{{2, `member number "1.04E+05" was changed into a number by the spreadsheet; format the column as text, type the numbers again and export again`}},
	},
	{
		name: "line numbers after a multi-line cell, blank lines and errors",
		in:   "Member Number,First Name,Last Name,Notes\n1,Ana,Ruiz,\"line one\nline two\nline three\"\n\n2,,Li,\n3,\"Bo\nBa\",Li,\n4,Cy,Do,\n",
		rows: []Row{good(2, "1", "Ana", "Ruiz", ""), good(9, "4", "Cy", "Do", "")},
		errs: []lineReason{
			{6, "first name is missing"},
			{7, "first name runs over more than one line (lines 7 to 8); a quote mark may be missing"},
		},
	},
	{
		name: "a stray quote inside a name is read leniently",
		in:   "Member Number,First Name,Last Name\n1,Robert \"Bob\",Ruiz\n2,Mary,\"O\"Brien\"\n",
		rows: []Row{good(2, "1", "Robert \"Bob\"", "Ruiz", ""), good(3, "2", "Mary", "O\"Brien", "")},
	},
	{
		name: "an unclosed quote does not swallow the rest of the file",
		in:   "Member Number,First Name,Last Name\n1,\"Ana,Ruiz\n2,Bo,Li\n3,Cy,\"Do\"\n4,Ed,Fo\n",
		rows: []Row{good(3, "2", "Bo", "Li", ""), good(4, "3", "Cy", "Do", ""), good(5, "4", "Ed", "Fo", "")},
		errs: []lineReason{{2, `a quote mark (") on this line opens a cell that is never closed, so the line could not be read`}},
	},
	{
		name: "an unclosed quote on the last line",
		in:   "Member Number,First Name,Last Name\n1,Ana,Ruiz\n2,\"Bo,Li\n",
		rows: []Row{good(2, "1", "Ana", "Ruiz", "")},
		errs: []lineReason{{3, `the quote marks (") on this line do not pair up, so the line could not be read`}},
	},
	{
		name: "more cells than column names: an unquoted comma in a name",
		in:   "Member Number,Last Name,First Name\n1,Ruiz, Jr.,Ana\n2,Li,Bo,,,\n",
		rows: []Row{good(3, "2", "Bo", "Li", "")},
		errs: []lineReason{{2, "this line has 4 cells but the column names line has 3; a name may contain a comma that is not inside quote marks"}},
	},
	{
		name: "a title line above the column names, extra columns, and the column names repeated",
		in:   "Local 4121 membership roster\nExported 2024-03-01,,,\nStatus,Card Number,Surname,Given Name,Phone,ID\nGood,1042,Ruiz,Ana,555-0100,99\nStatus,Card Number,Surname,Given Name,Phone,ID\nLapsed,1043,Li,Bo,,98\n",
		rows: []Row{good(4, "1042", "Ana", "Ruiz", ""), lapsed(6, "1043", "Bo", "Li", "")},
		errs: []lineReason{
			{1, "this line comes before the column names on line 3, so it was skipped"},
			{2, "this line comes before the column names on line 3, so it was skipped"},
			{5, "this line repeats the column names, so it was skipped"},
		},
		cols: map[string]string{FieldMemberNumber: "Card Number", FieldFirstName: "Given Name", FieldLastName: "Surname", FieldStanding: "Status"},
	},
	{
		name: "Excel's sep= line",
		in:   "sep=;\nMember Number;First Name;Last Name\n1;Ana;Ruiz, Jr.\n",
		rows: []Row{good(3, "1", "Ana", "Ruiz, Jr.", "")},
	},
	{
		name: "UTF-16 with a byte-order mark (Excel's Unicode Text)",
		in:   utf16le("Member Number\tFirst Name\tLast Name\r\n1042\tAna\tChávez\r\n"),
		rows: []Row{good(2, "1042", "Ana", "Chávez", "")},
	},
	{
		name: "column names only",
		in:   "Member Number,First Name,Last Name\n",
		cols: map[string]string{FieldMemberNumber: "Member Number", FieldFirstName: "First Name", FieldLastName: "Last Name"},
	},
	{
		name:   "an empty file",
		in:     "",
		failIs: ErrNoHeader,
	},
	{
		name:   "missing required columns",
		in:     "Member Number,Name,Email\n1042,Ana Ruiz,ana@example.org\n",
		failIs: ErrNoHeader,
	},
	{
		name:   "a PNG picture",
		in:     "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + randomBytes(2000),
		failIs: ErrNotCSV,
	},
	{
		name:   "an Excel workbook (zip)",
		in:     "PK\x03\x04\x14\x00\x06\x00\x08\x00" + randomBytes(2000),
		failIs: ErrNotCSV,
	},
	{
		name:   "a line with thousands of cells",
		in:     "Member Number,First Name,Last Name\n1,Ana,Ruiz" + strings.Repeat(",", 5000) + "\n",
		failIs: ErrNotCSV,
	},
	{
		name:   "random bytes",
		in:     randomBytes(4000),
		failIs: ErrNotCSV,
	},
	{
		name:   "a web page saved as .xls",
		in:     "<html><body><table><tr><td>Member Number</td></tr></table></body></html>",
		failIs: ErrNotCSV,
	},
}

func randomBytes(n int) string {
	b := make([]byte, n)
	rand.New(rand.NewSource(int64(n))).Read(b)
	return string(b)
}

func TestParse(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Parse(strings.NewReader(tc.in))
			if tc.failIs != nil {
				if !errors.Is(err, tc.failIs) {
					t.Fatalf("error = %v, want %v", err, tc.failIs)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			assertRows(t, res.Rows, tc.rows)
			assertErrors(t, res.Errors, tc.errs)
			if tc.cols != nil && !reflect.DeepEqual(res.Columns, tc.cols) {
				t.Errorf("columns = %v, want %v", res.Columns, tc.cols)
			}
		})
	}
}

func assertRows(t *testing.T, got, want []Row) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d rows, want %d", len(got), len(want))
	}
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Errorf("missing row %+v", want[i])
		case i >= len(want):
			t.Errorf("unexpected row %+v", got[i])
		case got[i] != want[i]:
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// lineReason is a skipped line as a test expects it: its number and its
// reason in English.
type lineReason struct {
	Line   int
	Reason string
}

func assertErrors(t *testing.T, got []RowError, want []lineReason) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d row errors, want %d", len(got), len(want))
	}
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Errorf("missing row error %+v", want[i])
		case i >= len(want):
			t.Errorf("unexpected row error %+v", got[i])
		case got[i].Line != want[i].Line || got[i].Reason != want[i].Reason:
			t.Errorf("row error %d:\n got line %d: %s\nwant line %d: %s", i, got[i].Line, got[i].Reason, want[i].Line, want[i].Reason)
		}
	}
}

func TestHeaderSynonyms(t *testing.T) {
	tests := []struct {
		header string
		field  string
	}{
		{"Member Number", FieldMemberNumber},
		{"member #", FieldMemberNumber},
		{"Member No", FieldMemberNumber},
		{"MEMBER NO.", FieldMemberNumber},
		{"Card No.", FieldMemberNumber},
		{"Card Number", FieldMemberNumber},
		{"Membership Number", FieldMemberNumber},
		{"ID", FieldMemberNumber},
		{" Member ID ", FieldMemberNumber},
		{"Número de miembro", FieldMemberNumber},
		{"Numero de Miembro", FieldMemberNumber},
		{"Nº de miembro", FieldMemberNumber},
		{"First", FieldFirstName},
		{"first_name", FieldFirstName},
		{"Given Name", FieldFirstName},
		{"Nombre", FieldFirstName},
		{"Last", FieldLastName},
		{"Last-Name", FieldLastName},
		{"Surname", FieldLastName},
		{"Family Name", FieldLastName},
		{"Apellido", FieldLastName},
		{"Email", FieldEmail},
		{"E-mail", FieldEmail},
		{"Email Address", FieldEmail},
		{"Correo", FieldEmail},
		{"Correo electrónico", FieldEmail},
		{"Standing", FieldStanding},
		{"Status", FieldStanding},
		{"Good Standing", FieldStanding},
		{"Estado", FieldStanding},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			s, ok := synonymRank[headerKey(tt.header)]
			if !ok || s.field != tt.field {
				t.Fatalf("%q matched %q (found %v), want %q", tt.header, s.field, ok, tt.field)
			}
		})
	}
}

func TestBetterColumnNameWins(t *testing.T) {
	res, err := Parse(strings.NewReader("ID,Status,Member Number,First,Last,Standing\n9,active,1042,Ana,Ruiz,lapsed\n"))
	if err != nil {
		t.Fatal(err)
	}
	assertRows(t, res.Rows, []Row{lapsed(2, "1042", "Ana", "Ruiz", "")})
	if res.Columns[FieldMemberNumber] != "Member Number" || res.Columns[FieldStanding] != "Standing" {
		t.Errorf("columns = %v", res.Columns)
	}
}

func TestMissingColumnsAreNamed(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // substrings of the message
	}{
		{"no first or last name", "Member Number,Name,Email\n1,Ana Ruiz,a@example.org\n",
			[]string{"could not find the first name and last name columns on line 1", `"Member Number", "Name", "Email"`, `split the "Name" column into first name and last name`}},
		{"no member number", "First Name;Last Name\nAna;Ruiz\n",
			[]string{"could not find the member number column on line 1", `"First Name", "Last Name"`}},
		{"nothing recognised", "a,b,c\n", []string{"member number, first name and last name columns", `"a", "b", "c"`}},
		{"empty file", "\n\n", []string{"the file is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.in))
			var he *HeaderError
			if !errors.As(err, &he) || !errors.Is(err, ErrNoHeader) {
				t.Fatalf("error = %v, want a *HeaderError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not contain %q", err, w)
				}
			}
		})
	}
}

// endlessReader yields an unending roster and counts what was read.
type endlessReader struct{ n int }

func (r *endlessReader) Read(p []byte) (int, error) {
	line := []byte("1042,Ana,Ruiz\n")
	for i := range p {
		p[i] = line[(r.n+i)%len(line)]
	}
	r.n += len(p)
	return len(p), nil
}

func TestSizeLimits(t *testing.T) {
	t.Run("a 6 MB file is too large", func(t *testing.T) {
		var b bytes.Buffer
		b.WriteString("Member Number,First Name,Last Name\n")
		for i := 0; b.Len() < 6<<20; i++ {
			fmt.Fprintf(&b, "%d,Ana,Ruiz\n", i)
		}
		_, err := Parse(&b)
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("error = %v, want ErrTooLarge", err)
		}
	})
	t.Run("an endless upload is not read past the limit", func(t *testing.T) {
		r := &endlessReader{}
		_, err := Parse(r)
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("error = %v, want ErrTooLarge", err)
		}
		if r.n > MaxBytes+1+64<<10 {
			t.Errorf("read %d bytes, want at most about %d", r.n, MaxBytes+1)
		}
	})
	roster := func(n int) io.Reader {
		var b bytes.Buffer
		b.WriteString("Member Number,First Name,Last Name\n")
		for i := range n {
			fmt.Fprintf(&b, "%d,Ana,Ruiz\n", i)
		}
		return &b
	}
	t.Run("50,000 members are accepted", func(t *testing.T) {
		res, err := Parse(roster(MaxRows))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != MaxRows || len(res.Errors) != 0 {
			t.Fatalf("got %d rows and %d errors", len(res.Rows), len(res.Errors))
		}
		if last := res.Rows[MaxRows-1]; last.Line != MaxRows+1 || last.MemberNumber != fmt.Sprint(MaxRows-1) {
			t.Errorf("last row = %+v", last)
		}
	})
	t.Run("50,001 members are too many", func(t *testing.T) {
		_, err := Parse(roster(MaxRows + 1))
		if !errors.Is(err, ErrTooManyRows) {
			t.Fatalf("error = %v, want ErrTooManyRows", err)
		}
	})
}

func TestErrorTextsSpeakToOfficers(t *testing.T) {
	for _, err := range []error{ErrTooLarge, ErrTooManyRows, ErrNotCSV, ErrNoHeader} {
		if msg := err.Error(); strings.Contains(msg, "rostercsv") || len(msg) < 40 {
			t.Errorf("message %q is not for a person", msg)
		}
	}
	_, err := Parse(strings.NewReader("PK\x03\x04" + randomBytes(100)))
	if !strings.Contains(fmt.Sprint(err), "Excel workbook") {
		t.Errorf("a workbook upload says %q", err)
	}
}

// A file whose every line opens a quote must still be read in linear time
// and report every line.
func TestManyUnclosedQuotes(t *testing.T) {
	var b strings.Builder
	b.WriteString("Member Number,First Name,Last Name\n")
	const n = 20000
	for i := range n {
		fmt.Fprintf(&b, "%d,\"Ana,Ruiz\n", i)
	}
	res, err := Parse(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows)+len(res.Errors) == 0 {
		t.Fatal("nothing reported")
	}
	for i := 1; i < len(res.Errors); i++ {
		if res.Errors[i].Line <= res.Errors[i-1].Line {
			t.Fatalf("errors out of order at %d: %+v", i, res.Errors[i-1:i+1])
		}
	}
}

func TestSkippedLinesNameTheirMembers(t *testing.T) {
	in := "Member #,First,Last,Email\n" +
		"100,Ana,Ruiz,not-an-email\n" + // a bad cell: the member number is still read
		"101,José,García, Jr.,jg@example.org\n" + // shifted cells: the first cell is still the member number
		"=HYPERLINK(1),Eve,Stone,\n" + // no usable member number
		"102,Li,Wu,\n" +
		"102,Li,Wu,\n" // repeated: already listed as a row
	res, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"100", "101"}; !reflect.DeepEqual(res.Skipped, want) {
		t.Errorf("skipped = %q, want %q", res.Skipped, want)
	}
	if len(res.Rows) != 1 || len(res.Errors) != 4 {
		t.Errorf("got %d rows and %d errors", len(res.Rows), len(res.Errors))
	}

	// When the member number is not the first column, a shifted line's cells
	// cannot be trusted.
	res, err = Parse(strings.NewReader("First,Last,Member #\nJosé,García, Jr.,101\n"))
	if err != nil || len(res.Skipped) != 0 || len(res.Errors) != 1 {
		t.Errorf("shifted line: skipped %q, %d errors, %v", res.Skipped, len(res.Errors), err)
	}
}
