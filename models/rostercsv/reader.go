package rostercsv

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
)

// parser reads the data lines after the column names.
type parser struct {
	text string
	h    header
	res  Result

	firstLine map[string]int // folded member number -> line it first appeared on
	dataLines int

	// A cursor that turns line numbers into byte offsets, moving forward only.
	curOff, curLine int

	// rereadBudget bounds the bytes read again after a restart, so that a
	// file full of unclosed quotes still takes linear time.
	rereadBudget int
}

func newParser(text string, h header) *parser {
	p := &parser{
		text:         text,
		h:            h,
		firstLine:    map[string]int{},
		curOff:       h.next,
		curLine:      h.line + 1,
		rereadBudget: 2*len(text) + 4096,
	}
	p.res.Columns = maps.Clone(h.names)
	for _, l := range h.preamble {
		p.skip(l, msg(fPreamble, h.line))
	}
	return p
}

// run reads every data line into p.res.
func (p *parser) run() error {
	base, baseLine := p.h.next, p.h.line+1
	for {
		cr := p.newReader(p.text[base:], false)
		restartAt := 0
		for restartAt == 0 {
			cells, err := cr.Read()
			if err == io.EOF {
				return nil
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				start, end := baseLine+pe.StartLine-1, baseLine+pe.Line-1
				if err := p.countLine(); err != nil {
					return err
				}
				if start == end {
					p.quoteProblem(start)
					continue
				}
				// A quote opened on line start and never closed properly:
				// report that line and read again from the next one.
				next := p.offsetOf(start + 1)
				reread := base + int(cr.InputOffset()) - next
				if reread <= p.rereadBudget {
					p.rereadBudget -= reread
					p.skip(start, msg(fUnclosedLine))
					restartAt = start + 1
					base, baseLine = next, start+1
					continue
				}
				p.skip(start, msg(fUnclosedLines, start, end))
				continue
			}
			if err != nil {
				return fmt.Errorf("reading the roster file: %w", err)
			}
			if len(cells) == 0 || allBlank(cells) {
				continue
			}
			if err := p.countLine(); err != nil {
				return err
			}
			line, _ := cr.FieldPos(0)
			p.record(baseLine+line-1, cells)
		}
	}
}

func (p *parser) newReader(s string, lazy bool) *csv.Reader {
	r := csv.NewReader(strings.NewReader(s))
	r.Comma = p.h.comma
	r.FieldsPerRecord = -1
	r.LazyQuotes = lazy
	return r
}

// countLine counts one more data line and enforces MaxRows.
func (p *parser) countLine() error {
	p.dataLines++
	if p.dataLines > MaxRows {
		return ErrTooManyRows
	}
	return nil
}

// quoteProblem handles a single line whose quote marks strict reading
// rejected (O"Brien, or "O"Brien"): it reads the line again leniently and
// keeps the result unless a cell we use then holds a delimiter, which means
// a quote swallowed the cells after it.
func (p *parser) quoteProblem(line int) {
	unpaired := msg(fUnpaired)
	off := p.offsetOf(line)
	end := strings.IndexByte(p.text[off:], '\n')
	if end < 0 {
		end = len(p.text)
	} else {
		end += off
	}
	cells, err := p.newReader(p.text[off:end], true).Read()
	if err != nil || len(cells) == 0 || allBlank(cells) {
		p.skip(line, unpaired)
		return
	}
	for _, i := range p.h.cols {
		if i < len(cells) && strings.ContainsRune(cells[i], p.h.comma) {
			p.skip(line, unpaired)
			return
		}
	}
	p.record(line, cells)
}

// offsetOf returns the byte offset where a line starts (past the end if it does not exist).
func (p *parser) offsetOf(line int) int {
	if line < p.curLine {
		p.curOff, p.curLine = p.h.next, p.h.line+1
	}
	for p.curLine < line && p.curOff < len(p.text) {
		i := strings.IndexByte(p.text[p.curOff:], '\n')
		if i < 0 {
			p.curOff = len(p.text)
			break
		}
		p.curOff += i + 1
		p.curLine++
	}
	return p.curOff
}

// skip records a line skipped for these reasons.
func (p *parser) skip(line int, reasons ...Message) {
	e := RowError{Line: line, Parts: reasons}
	e.Reason = e.Text(english)
	p.res.Errors = append(p.res.Errors, e)
}

func allBlank(cells []string) bool {
	for _, c := range cells {
		if !blank(c) {
			return false
		}
	}
	return true
}
