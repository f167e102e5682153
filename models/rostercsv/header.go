package rostercsv

import (
	"encoding/csv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// synonyms lists, for each field, the column names it is known by, as
// headerKey writes them, best first: when two columns name the same field
// (say "ID" and "Member Number"), the better name wins.
var synonyms = map[string][]string{
	FieldMemberNumber: {
		"membernumber", "memberno", "membernum", "membershipnumber", "membershipno",
		"memberid", "cardnumber", "cardno", "cardnum", "membershipid",
		"numerodemiembro", "nodemiembro", "numdemiembro", "numerodesocio", "nodesocio",
		"id",
	},
	FieldFirstName: {"firstname", "first", "givenname", "fname", "forename", "nombre", "nombres"},
	FieldLastName:  {"lastname", "last", "surname", "familyname", "lname", "apellido", "apellidos"},
	FieldEmail:     {"email", "emailaddress", "mail", "correo", "correoelectronico"},
	FieldStanding: {
		"standing", "goodstanding", "memberstanding", "status", "memberstatus",
		"membershipstatus", "estado",
	},
}

// required are the fields a roster must have, in the order messages name them.
var required = []string{FieldMemberNumber, FieldFirstName, FieldLastName}

// fieldWords names each field in an officer's words.
var fieldWords = map[string]string{
	FieldMemberNumber: "member number",
	FieldFirstName:    "first name",
	FieldLastName:     "last name",
	FieldEmail:        "email",
	FieldStanding:     "standing",
}

// fieldRank is the field a column name stands for and how good a name it is (lower is better).
type fieldRank struct {
	field string
	rank  int
}

// synonymRank maps headerKey(name) to its field and rank.
var synonymRank = func() map[string]fieldRank {
	m := map[string]fieldRank{}
	for f, names := range synonyms {
		for i, n := range names {
			m[n] = fieldRank{f, i}
		}
	}
	return m
}()

// headerKey folds a column name for loose matching: lower case, accents
// removed, "#" and "º" read as "no", everything but letters and digits dropped.
func headerKey(s string) string {
	s = strings.ToLower(s)
	s = strings.NewReplacer("#", "no", "№", "no", "º", "o", "°", "o").Replace(s)
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// header is the column-names line and what it tells about the file.
type header struct {
	line     int            // line of the column names
	next     int            // byte offset of the line after it
	comma    rune           // delimiter
	width    int            // cells on the column-names line
	cols     map[string]int // field -> cell index
	names    map[string]string
	preamble []int // non-blank lines before the column names
}

// maxHeaderSearch is how many non-blank lines may precede and include the column names.
const maxHeaderSearch = 10

// findHeader finds the column-names line among the first non-blank lines.
func findHeader(text string) (header, error) {
	var (
		best      *HeaderError
		bestFound = -1
		preamble  []int
		forced    rune
		seen      int
	)
	off, line := 0, 0
	for off < len(text) && seen < maxHeaderSearch {
		end := strings.IndexByte(text[off:], '\n')
		next := len(text)
		if end >= 0 {
			end += off
			next = end + 1
		} else {
			end = len(text)
		}
		line++
		raw := text[off:end]
		off = next
		if isBlankLine(raw) {
			continue
		}
		seen++
		if seen == 1 {
			if c, ok := sepHint(raw); ok {
				forced = c
				continue
			}
		}
		var delims []rune
		if forced != 0 {
			delims = []rune{forced}
		} else {
			delims = delimiterOrder(raw)
		}
		for _, d := range delims {
			cells := splitLine(raw, d)
			cols, names := matchColumns(cells)
			found := 0
			var missing []string
			for _, f := range required {
				if _, ok := cols[f]; ok {
					found++
				} else {
					missing = append(missing, fieldWords[f])
				}
			}
			if found == len(required) {
				return header{
					line: line, next: next, comma: d, width: len(cells),
					cols: cols, names: names, preamble: preamble,
				}, nil
			}
			if found > bestFound {
				bestFound = found
				best = &HeaderError{Line: line, Missing: missing, Seen: nonEmpty(cells)}
			}
		}
		preamble = append(preamble, line)
	}
	if best == nil {
		return header{}, &HeaderError{}
	}
	return header{}, best
}

// isBlankLine reports whether a line has nothing but spaces, delimiters and quotes.
func isBlankLine(s string) bool {
	return strings.TrimFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == '\t' || r == '"' || isTrimmable(r)
	}) == ""
}

// sepHint reads Excel's "sep=;" first line, which names the delimiter.
func sepHint(s string) (rune, bool) {
	s = strings.TrimSpace(s)
	if len(s) != 5 || !strings.EqualFold(s[:4], "sep=") {
		return 0, false
	}
	switch c := rune(s[4]); c {
	case ',', ';', '\t', '|':
		return c, true
	}
	return 0, false
}

// delimiterOrder returns comma, semicolon and tab ordered by how often each
// appears outside quotes on the line, most first; ties keep that order.
func delimiterOrder(s string) []rune {
	cands := []rune{',', ';', '\t'}
	count := map[rune]int{}
	inQuotes := false
	for _, r := range s {
		if r == '"' {
			inQuotes = !inQuotes
		} else if !inQuotes {
			count[r]++
		}
	}
	// Insertion sort: three elements, stable.
	for i := 1; i < len(cands); i++ {
		for j := i; j > 0 && count[cands[j]] > count[cands[j-1]]; j-- {
			cands[j], cands[j-1] = cands[j-1], cands[j]
		}
	}
	return cands
}

// splitLine splits one line into cells, leniently.
func splitLine(s string, comma rune) []string {
	r := csv.NewReader(strings.NewReader(s))
	r.Comma = comma
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	cells, err := r.Read()
	if err != nil {
		return nil
	}
	return cells
}

// matchColumns finds which cells name our fields.
func matchColumns(cells []string) (map[string]int, map[string]string) {
	cols := map[string]int{}
	names := map[string]string{}
	rank := map[string]int{}
	for i, c := range cells {
		s, ok := synonymRank[headerKey(c)]
		if !ok {
			continue
		}
		if prev, dup := rank[s.field]; dup && prev <= s.rank {
			continue
		}
		cols[s.field], names[s.field], rank[s.field] = i, cleanCell(c), s.rank
	}
	return cols, names
}

// isHeaderAgain reports whether a data line repeats the column names, as
// files glued together from several exports do.
func (h *header) isHeaderAgain(cells []string) bool {
	for _, f := range required {
		i := h.cols[f]
		if i >= len(cells) {
			return false
		}
		s, ok := synonymRank[headerKey(cells[i])]
		if !ok || s.field != f {
			return false
		}
	}
	return true
}

func nonEmpty(cells []string) []string {
	var out []string
	for _, c := range cells {
		if c = cleanCell(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}
