package rostercsv

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Longest values accepted, in characters.
const (
	maxMemberNumberLen = 40
	maxNameLen         = 100
	maxEmailLen        = 254
)

// standingWords maps what officers write in the standing column, folded by
// foldWords, to a standing.
var standingWords = map[string]string{
	"good": StandingGood, "active": StandingGood, "yes": StandingGood, "y": StandingGood,
	"true": StandingGood, "1": StandingGood, "in good standing": StandingGood,
	"good standing": StandingGood, "activo": StandingGood, "activa": StandingGood, "si": StandingGood,

	"lapsed": StandingLapsed, "inactive": StandingLapsed, "no": StandingLapsed, "n": StandingLapsed,
	"false": StandingLapsed, "0": StandingLapsed, "suspended": StandingLapsed,
	"not in good standing": StandingLapsed, "inactivo": StandingLapsed, "inactiva": StandingLapsed,
}

// scientific matches a number Excel has rewritten in scientific notation.
var scientific = regexp.MustCompile(`^[0-9](\.[0-9]+)?[eE]\+[0-9]+$`)

// record turns one data line into a Row or a RowError.
func (p *parser) record(line int, cells []string) {
	get := func(field string) string {
		i, ok := p.h.cols[field]
		if !ok || i >= len(cells) {
			return ""
		}
		return cleanCell(cells[i])
	}
	if p.h.isHeaderAgain(cells) {
		p.skip(line, "this line repeats the column names, so it was skipped")
		return
	}
	if extra := lastNonBlank(cells) + 1; extra > p.h.width {
		// Only the first cell cannot have been shifted by a stray delimiter.
		if p.h.cols[FieldMemberNumber] == 0 {
			p.skipped(get(FieldMemberNumber))
		}
		p.skip(line, fmt.Sprintf("this line has %d cells but the column names line has %d; a name may contain a %s that is not inside quote marks",
			extra, p.h.width, delimiterWord(p.h.comma)))
		return
	}
	lines := ""
	if n := newlines(cells); n > 0 {
		lines = fmt.Sprintf("lines %d to %d", line, line+n)
	}

	var problems []string
	row := Row{Line: line}

	row.MemberNumber = get(FieldMemberNumber)
	// Excel users type a leading apostrophe to keep a number as text.
	row.MemberNumber = cleanCell(strings.TrimPrefix(row.MemberNumber, "'"))
	mnProblem := checkValue("member number", row.MemberNumber, maxMemberNumberLen, lines)
	if mnProblem == "" && scientific.MatchString(row.MemberNumber) {
		mnProblem = fmt.Sprintf("member number %q was changed into a number by the spreadsheet; format the column as text, type the numbers again and export again", clip(row.MemberNumber, 30))
	}
	if mnProblem != "" {
		problems = append(problems, mnProblem)
	} else {
		key := strings.ToLower(row.MemberNumber)
		if first, dup := p.firstLine[key]; dup {
			p.skip(line, fmt.Sprintf("member number %s appears again (first on line %d); this line is skipped", clip(row.MemberNumber, 30), first))
			return
		}
		p.firstLine[key] = line
	}

	row.FirstName = get(FieldFirstName)
	if s := checkValue("first name", row.FirstName, maxNameLen, lines); s != "" {
		problems = append(problems, s)
	}
	row.LastName = get(FieldLastName)
	if s := checkValue("last name", row.LastName, maxNameLen, lines); s != "" {
		problems = append(problems, s)
	}

	row.Email = get(FieldEmail)
	if row.Email != "" {
		if s := checkValue("email", row.Email, maxEmailLen, lines); s != "" {
			problems = append(problems, s)
		} else if !validEmail(row.Email) {
			problems = append(problems, fmt.Sprintf("email %q is not a valid email address", clip(row.Email, 60)))
		}
	}

	st := get(FieldStanding)
	if st == "" {
		row.Standing = StandingGood
	} else if s, ok := standingWords[foldWords(st)]; ok {
		row.Standing = s
	} else {
		problems = append(problems, fmt.Sprintf("standing %q is not one of good, lapsed", clip(st, 30)))
	}

	if len(problems) > 0 {
		if mnProblem == "" {
			p.res.Skipped = append(p.res.Skipped, row.MemberNumber)
		}
		p.skip(line, strings.Join(problems, "; "))
		return
	}
	p.res.Rows = append(p.res.Rows, row)
}

// skipped notes the member number of a line whose cells are shifted, when it
// looks like a member number that has not been seen yet.
func (p *parser) skipped(memberNumber string) {
	mn := cleanCell(strings.TrimPrefix(memberNumber, "'"))
	if checkValue("member number", mn, maxMemberNumberLen, "") != "" || scientific.MatchString(mn) {
		return
	}
	if _, dup := p.firstLine[strings.ToLower(mn)]; dup {
		return
	}
	p.res.Skipped = append(p.res.Skipped, mn)
}

// checkValue returns what is wrong with a member number, name or email, or "".
func checkValue(what, v string, maxLen int, lines string) string {
	switch {
	case v == "":
		return what + " is missing"
	case strings.ContainsRune(v, '\n'):
		return fmt.Sprintf("%s runs over more than one line (%s); a quote mark may be missing", what, lines)
	case strings.ContainsFunc(v, unicode.IsControl):
		return what + " contains a hidden control character"
	case strings.ContainsAny(v[:1], "=+-@"):
		kind := "a name"
		switch what {
		case "member number":
			kind = "a member number"
		case "email":
			kind = "an email address"
		}
		return fmt.Sprintf("%s %q looks like a spreadsheet formula, not %s", what, clip(v, 30), kind)
	case utf8.RuneCountInString(v) > maxLen:
		return fmt.Sprintf("%s is too long (more than %d characters)", what, maxLen)
	}
	return ""
}

// validEmail is a loose check: one @, something before it, a dot inside the
// domain, and no spaces or separators.
func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || strings.Contains(domain, "@") {
		return false
	}
	if strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(`,;:<>()[]"\`, r)
	}) {
		return false
	}
	dot := strings.IndexByte(domain, '.')
	return dot > 0 && !strings.HasSuffix(domain, ".") && !strings.Contains(domain, "..")
}

// cleanCell trims spaces (including no-break spaces and stray byte-order
// marks) and puts the text in NFC form.
func cleanCell(s string) string {
	return norm.NFC.String(strings.TrimFunc(s, isTrimmable))
}

func blank(s string) bool { return strings.TrimFunc(s, isTrimmable) == "" }

func isTrimmable(r rune) bool {
	return unicode.IsSpace(r) || r == '\uFEFF' || r == '\u200B'
}

// foldWords lower-cases, removes accents and collapses spaces.
func foldWords(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func lastNonBlank(cells []string) int {
	for i := len(cells) - 1; i >= 0; i-- {
		if !blank(cells[i]) {
			return i
		}
	}
	return -1
}

func newlines(cells []string) int {
	n := 0
	for _, c := range cells {
		n += strings.Count(c, "\n")
	}
	return n
}

func delimiterWord(c rune) string {
	switch c {
	case ';':
		return "semicolon"
	case '\t':
		return "tab"
	case '|':
		return "vertical bar"
	}
	return "comma"
}
