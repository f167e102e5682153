package rostercsv

import (
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
	// What the Spanish upload page tells officers to write.
	"al corriente": StandingGood, "no al corriente": StandingLapsed,

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
		p.skip(line, msg(fHeaderAgain))
		return
	}
	if extra := lastNonBlank(cells) + 1; extra > p.h.width {
		// Only the first cell cannot have been shifted by a stray delimiter.
		if p.h.cols[FieldMemberNumber] == 0 {
			p.skipped(get(FieldMemberNumber))
		}
		p.skip(line, msg(cellsFormat(p.h.comma), extra, p.h.width))
		return
	}
	var lines Message
	if n := newlines(cells); n > 0 {
		lines = msg(fLines, line, line+n)
	}

	var problems []Message
	row := Row{Line: line}

	row.MemberNumber = get(FieldMemberNumber)
	// Excel users type a leading apostrophe to keep a number as text.
	row.MemberNumber = cleanCell(strings.TrimPrefix(row.MemberNumber, "'"))
	mnProblem := checkValue("member number", row.MemberNumber, maxMemberNumberLen, lines)
	if mnProblem.Format == "" && scientific.MatchString(row.MemberNumber) {
		mnProblem = msg(fScientific, clip(row.MemberNumber, 30))
	}
	if mnProblem.Format != "" {
		problems = append(problems, mnProblem)
	} else {
		key := strings.ToLower(row.MemberNumber)
		if first, dup := p.firstLine[key]; dup {
			p.skip(line, msg(fRepeated, clip(row.MemberNumber, 30), first))
			return
		}
		p.firstLine[key] = line
	}

	row.FirstName = get(FieldFirstName)
	if s := checkValue("first name", row.FirstName, maxNameLen, lines); s.Format != "" {
		problems = append(problems, s)
	}
	row.LastName = get(FieldLastName)
	if s := checkValue("last name", row.LastName, maxNameLen, lines); s.Format != "" {
		problems = append(problems, s)
	}

	row.Email = get(FieldEmail)
	if row.Email != "" {
		if s := checkValue("email", row.Email, maxEmailLen, lines); s.Format != "" {
			problems = append(problems, s)
		} else if !validEmail(row.Email) {
			problems = append(problems, msg(fBadEmail, clip(row.Email, 60)))
		}
	}

	st := get(FieldStanding)
	if st == "" {
		row.Standing = StandingGood
	} else if s, ok := standingWords[foldWords(st)]; ok {
		row.Standing = s
	} else {
		problems = append(problems, msg(fBadStanding, clip(st, 30)))
	}

	if len(problems) > 0 {
		if mnProblem.Format == "" {
			p.res.Skipped = append(p.res.Skipped, row.MemberNumber)
		}
		p.skip(line, problems...)
		return
	}
	p.res.Rows = append(p.res.Rows, row)
}

// skipped notes the member number of a line whose cells are shifted, when it
// looks like a member number that has not been seen yet.
func (p *parser) skipped(memberNumber string) {
	mn := cleanCell(strings.TrimPrefix(memberNumber, "'"))
	if checkValue("member number", mn, maxMemberNumberLen, Message{}).Format != "" || scientific.MatchString(mn) {
		return
	}
	if _, dup := p.firstLine[strings.ToLower(mn)]; dup {
		return
	}
	p.res.Skipped = append(p.res.Skipped, mn)
}

// checkValue returns what is wrong with a member number, name or email,
// or a Message with no Format.
func checkValue(what, v string, maxLen int, lines Message) Message {
	missing, multiline, control, formula, tooLong := valueFormats(what)
	switch {
	case v == "":
		return msg(missing)
	case strings.ContainsRune(v, '\n'):
		return msg(multiline, lines)
	case strings.ContainsFunc(v, unicode.IsControl):
		return msg(control)
	case strings.ContainsAny(v[:1], "=+-@"):
		return msg(formula, clip(v, 30))
	case utf8.RuneCountInString(v) > maxLen:
		return msg(tooLong, maxLen)
	}
	return Message{}
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
