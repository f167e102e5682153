package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Row is one line of the bench table: what was measured, the baseline it is
// compared with (measured in the same run, on the same machine) and the goal.
type Row struct {
	What     string
	Got      Result
	Baseline string
	Base     Result
	Goal     Goal
	Note     string // what the row measured, for the line under the table
	// GotCell and BaseCell, when set, are shown instead of the rates: rows
	// that time building one document say its seconds and peak memory.
	GotCell, BaseCell string
	Unit              string // what Got counts; "requests" when empty
}

// Goal is what a row must reach to pass.
type Goal struct {
	Text string
	Met  func(Row) bool
}

// atLeastOfBaseline is met when the row's rate is at least frac of its
// baseline's rate.
func atLeastOfBaseline(frac float64) Goal {
	return Goal{
		Text: fmt.Sprintf("≥ %.0f%% of baseline", frac*100),
		Met:  func(r Row) bool { return r.Ratio() >= frac },
	}
}

// Ratio is the row's rate as a fraction of its baseline's.
func (r Row) Ratio() float64 {
	if r.Base.Rate() == 0 {
		return 0
	}
	return r.Got.Rate() / r.Base.Rate()
}

// Pass reports whether the goal is met with no errors on either side: a fast
// error page is not a fast page.
func (r Row) Pass() bool {
	return r.Got.Errors == 0 && r.Base.Errors == 0 && r.Goal.Met != nil && r.Goal.Met(r)
}

// printTable writes the rows as a markdown table, then one line per row with
// the counts behind the figures.
func printTable(w io.Writer, rows []Row) {
	fmt.Fprintln(w, "| what | rate | p50 | p99 | errors | baseline | baseline rate | ratio | goal | result |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|---:|---:|---|---|")
	for _, r := range rows {
		result := "pass"
		if !r.Pass() {
			result = "**FAIL**"
		}
		got, base := r.GotCell, r.BaseCell
		if got == "" {
			got, base = rate(r.Got), rate(r.Base)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %d | %s | %s | %.1f%% | %s | %s |\n",
			r.What, got, ms(r.Got.P50), ms(r.Got.P99), r.Got.Errors,
			r.Baseline, base, 100*r.Ratio(), r.Goal.Text, result)
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		note := ""
		if r.Note != "" {
			note = " (" + r.Note + ")"
		}
		unit := r.Unit
		if unit == "" {
			unit = "requests"
		}
		fmt.Fprintf(w, "- %s%s: %d %s in %s; baseline (%s): %d %s, p50 %s, p99 %s, %d errors%s\n",
			r.What, note, r.Got.Requests+r.Got.Errors, unit, r.Got.Elapsed.Round(time.Millisecond),
			r.Baseline, r.Base.Requests+r.Base.Errors, unit, ms(r.Base.P50), ms(r.Base.P99), r.Base.Errors,
			rounds(r))
	}
}

// rounds tells, for a row measured in alternating rounds, how much of the
// machine's CPU time its host took for others (steal) and each round's p99
// with that round's steal, so a run that misses a goal shows whether the
// misses came with the host taking the CPUs away.
func rounds(r Row) string {
	if len(r.Got.Rounds) == 0 || len(r.Base.Rounds) == 0 {
		return ""
	}
	each := func(rs []Round) string {
		parts := make([]string, len(rs))
		for i, x := range rs {
			parts[i] = fmt.Sprintf("%.1f (%.0f%%)", float64(x.P99)/float64(time.Millisecond), 100*x.Steal)
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprintf("; CPU time taken by the host (steal): %.1f%% in the row's rounds, %.1f%% in the baseline's; "+
		"p99 in ms of each 1 s round (steal): row %s; baseline %s",
		100*r.Got.Steal, 100*r.Base.Steal, each(r.Got.Rounds), each(r.Base.Rounds))
}

func rate(r Result) string { return thousands(int64(r.Rate()+0.5)) + "/s" }

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	return b.String()
}
