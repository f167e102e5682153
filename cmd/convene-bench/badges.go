package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"convene/models"
	"convene/pdf"
)

// badgeCount is the size of the batch: a big conference's badges, on 167
// Avery 5392 sheets.
const badgeCount = 1000

// badgeRuns is how many times each document is built, QR and text-only
// interleaved, after one warm-up each.
const badgeRuns = 3

// badgesBench builds 1,000 Avery 5392 badges, each with its own QR code, as
// staff print them (pdf.WriteBadges), against the same document with text
// only, in the same process: wall time and peak memory. Goal: at most twice
// the text-only time, and under 100 MB at the peak. The badges are those of
// 1,000 confirmed registrations in the bench database; the note also gives
// the time of the real endpoint, GET .../badges.pdf, for the same batch.
func badgesBench(ctx context.Context, e *env) (Row, error) {
	regs, conf, err := e.seedBadgeConference(ctx)
	if err != nil {
		return Row{}, fmt.Errorf("badges: seeding %d registrations: %w", badgeCount, err)
	}
	withQR := make([]pdf.Badge, len(regs))
	for i, r := range regs {
		local := ""
		if r.LocalNumber != nil && r.LocalName != nil {
			local = "Local " + *r.LocalNumber + " · " + *r.LocalName // as the app prints it
		}
		withQR[i] = pdf.Badge{FirstName: r.FirstName, FullName: r.FullName(), Local: local, Category: r.CategoryName,
			Conference: conf.Title, QRText: e.app.TicketURL(r)}
		if withQR[i].QRText == "" {
			return Row{}, fmt.Errorf("badges: registration %d has no ticket token", r.ID)
		}
	}
	textOnly := slices.Clone(withQR)
	for i := range textOnly {
		textOnly[i].QRText = ""
	}

	var qrPDF, textPDF []byte
	build := func(badges []pdf.Badge, out *[]byte) (time.Duration, uint64, error) {
		var buf bytes.Buffer
		d, peak, err := measure(func() error { return pdf.WriteBadges(&buf, pdf.LayoutAvery5392, badges) })
		*out = buf.Bytes()
		return d, peak, err
	}
	var qrTimes, textTimes []time.Duration
	var qrPeak, textPeak uint64
	for i := range badgeRuns + 1 { // the first round warms up and is not counted
		if ctx.Err() != nil {
			return Row{}, ctx.Err()
		}
		d, p, err := build(withQR, &qrPDF)
		if err != nil {
			return Row{}, fmt.Errorf("badges with QR codes: %w", err)
		}
		td, tp, err := build(textOnly, &textPDF)
		if err != nil {
			return Row{}, fmt.Errorf("badges, text only: %w", err)
		}
		if i > 0 {
			qrTimes, textTimes = append(qrTimes, d), append(textTimes, td)
			qrPeak, textPeak = max(qrPeak, p), max(textPeak, tp)
		}
	}
	if err := checkBadgePDFs(qrPDF, textPDF); err != nil {
		return Row{}, err
	}
	httpTime, httpSize, err := e.fetchBadgeBatch(ctx, conf)
	if err != nil {
		return Row{}, err
	}

	got, base := runsResult(qrTimes), runsResult(textTimes)
	const limit = 100 << 20
	return Row{
		What: "badges: 1,000 Avery 5392 with QR", Got: got, GotCell: docCell(got, qrPeak),
		Baseline: "same document, text only", Base: base, BaseCell: docCell(base, textPeak),
		Goal: Goal{Text: "≤ 2× text-only time (≥ 50%), peak < 100 MB", Met: func(r Row) bool { return r.Ratio() >= 0.5 && qrPeak < limit }},
		Unit: "documents",
		Note: fmt.Sprintf("mean of %d builds each, interleaved, after a warm-up; peak = heap and stacks in use, sampled every ms; %d pages, %.1f MB with QR, %.1f MB text only; "+
			"through the app, GET /staff/conferences/%s/badges.pdf?layout=avery5392 for the same %d confirmed registrations: %.2f s, %.1f MB",
			badgeRuns, (badgeCount+5)/6, mb(uint64(len(qrPDF))), mb(uint64(len(textPDF))), conf.Slug, badgeCount, httpTime.Seconds(), mb(uint64(httpSize))),
	}, nil
}

// measure runs f once after a collection and returns its wall time and the
// process's peak heap and stack memory in use meanwhile.
func measure(f func() error) (time.Duration, uint64, error) {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak.Store(max(peak.Load(), ms.HeapInuse+ms.StackInuse))
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	start := time.Now()
	err := f()
	d := time.Since(start)
	close(stop)
	wg.Wait()
	return d, peak.Load(), err
}

// runsResult puts builds' times in a Result, one "request" per document:
// the p50 column shows the median build and the p99 column the slowest.
func runsResult(ds []time.Duration) Result {
	sorted := slices.Sorted(slices.Values(ds))
	r := Result{Requests: len(ds), P50: sorted[len(sorted)/2], P99: sorted[len(sorted)-1]}
	for _, d := range ds {
		r.Elapsed += d
	}
	return r
}

// docCell is a document's mean build time and the peak memory while building it.
func docCell(r Result, peak uint64) string {
	return fmt.Sprintf("%.2f s, peak %.0f MB", r.Elapsed.Seconds()/float64(r.Requests), mb(peak))
}

func mb(n uint64) float64 { return float64(n) / (1 << 20) }

// checkBadgePDFs makes sure the documents timed are the real ones: PDFs of
// every badge's page, the QR one carrying vector codes the other lacks.
func checkBadgePDFs(qr, text []byte) error {
	pages := (badgeCount + 5) / 6
	for name, doc := range map[string][]byte{"with QR": qr, "text only": text} {
		if !bytes.HasPrefix(doc, []byte("%PDF-")) {
			return fmt.Errorf("badges %s: not a PDF", name)
		}
		if n := bytes.Count(doc, []byte("/Type /Page\n")); n != pages {
			return fmt.Errorf("badges %s: %d pages, want %d", name, n, pages)
		}
	}
	if len(qr) <= len(text) {
		return fmt.Errorf("badges: the QR document (%d bytes) is no bigger than the text-only one (%d)", len(qr), len(text))
	}
	return nil
}

// seedBadgeConference registers badgeCount people as staff in a published
// conference of their own, which confirms them, and returns them by local
// and name, the order badges print in.
func (e *env) seedBadgeConference(ctx context.Context) ([]models.Registration, models.Conference, error) {
	now := time.Now()
	in := models.ConferenceInput{Slug: "bench-badges", Title: "Convención Binacional de Trabajadores 2027", TimeZone: "America/Los_Angeles",
		StartsOn: now.AddDate(0, 2, 0).Format(models.DateLayout), EndsOn: now.AddDate(0, 2, 2).Format(models.DateLayout), Mode: "in_person",
		RegistrationOpensAt: now.AddDate(0, 0, -1).Format(time.RFC3339), RegistrationClosesAt: now.AddDate(0, 1, 0).Format(time.RFC3339)}
	conf, err := e.store.CreateConference(ctx, in)
	if err != nil {
		return nil, conf, err
	}
	if conf, err = e.store.SetConferenceStatus(ctx, conf.ID, models.StatusPublished); err != nil {
		return nil, conf, err
	}
	cats := []string{"Delegate", "Alternate delegate", "Observer", "Guest", "Speaker", "Staff"}
	for _, c := range cats {
		if _, err := e.store.CreateCategory(ctx, conf, models.CategoryInput{Name: c, Price: "0", Approver: "staff"}); err != nil {
			return nil, conf, err
		}
	}
	staff, err := e.staffActor(ctx)
	if err != nil {
		return nil, conf, err
	}
	locals, err := e.store.Locals(ctx)
	if err != nil || len(locals) == 0 {
		return nil, conf, fmt.Errorf("no demo locals (%v)", err)
	}
	firsts := []string{"Ana", "José Luis", "María del Carmen", "Jürgen", "Siobhán", "Þórdís", "Łukasz", "Maximiliano Alejandro", "Nguyễn", "Zoë",
		"Çağla", "Ægir", "Dolores", "Guadalupe", "Renée", "Søren", "Ngozi", "Ximena", "Iñaki", "Françoise"}
	lasts := []string{"Cortés", "Chávez-Nava", "Ñúñez", "Müller", "O'Brien", "Guðmundsdóttir", "Wójcik-Żelazny", "de la Santísima Trinidad",
		"Thị Minh Khai", "Đorđević", "Öztürk", "Ørsted-Ångström", "Huerta", "Reyes", "Okafor", "Liu", "Delgado-Ibáñez", "García Márquez",
		"Bălan", "Šimek", "Van der Berg", "D'Amato", "Ó Súilleabháin", "Kowalczyk", "Hernández", "Nakamura", "Abadi", "Lindqvist",
		"Mbeki", "Pérez Prado", "Castañeda", "Brontë", "Zúñiga", "Gonçalves", "Eriksdóttir", "Yılmaz", "Dvořák", "Fernández", "Lefèvre", "Núñez"}
	slugs, _ := e.store.Categories(ctx, conf.ID)
	for i := range badgeCount {
		in := models.RegistrationInput{Category: slugs[i%len(slugs)].Slug, FirstName: firsts[i%len(firsts)], LastName: lasts[(i/len(firsts))%len(lasts)],
			Email: fmt.Sprintf("badge%04d@bench.example", i)}
		if i%5 != 4 {
			in.Local = locals[i%len(locals)].Number
		}
		r, err := e.store.Register(ctx, conf, in, staff, now)
		if err != nil {
			return nil, conf, fmt.Errorf("registration %d: %w", i, err)
		}
		if r.Status != models.RegConfirmed {
			return nil, conf, fmt.Errorf("registration %d is %s, not confirmed", i, r.Status)
		}
	}
	regs, err := e.store.ConferenceRegistrations(ctx, conf.ID, models.RegistrationFilter{Status: models.RegConfirmed}, staff)
	if err == nil && len(regs) != badgeCount {
		err = fmt.Errorf("%d confirmed registrations, want %d", len(regs), badgeCount)
	}
	return regs, conf, err
}

// staffActor is the demo's staff member.
func (e *env) staffActor(ctx context.Context) (models.Actor, error) {
	u, err := e.store.UserByEmail(ctx, "staff@convene.example")
	if err != nil {
		return models.Actor{}, fmt.Errorf("demo staff account: %w", err)
	}
	return e.store.ActorFor(ctx, u)
}

// fetchBadgeBatch prints the conference's badges through the app, signed in
// as the demo staff member, and returns the time to the last byte.
func (e *env) fetchBadgeBatch(ctx context.Context, conf models.Conference) (time.Duration, int, error) {
	staff, err := e.staffActor(ctx)
	if err != nil {
		return 0, 0, err
	}
	token, err := e.store.CreateSession(ctx, staff.User.ID)
	if err != nil {
		return 0, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.appURL+"/staff/conferences/"+conf.Slug+"/badges.pdf?layout=avery5392", nil)
	if err != nil {
		return 0, 0, err
	}
	req.AddCookie(&http.Cookie{Name: "convene_session", Value: token})
	client := newClient(1)
	defer client.CloseIdleConnections()
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	d := time.Since(start)
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" {
		return 0, 0, fmt.Errorf("badges.pdf answered %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if n := bytes.Count(body, []byte("/Type /Page\n")); n != (badgeCount+5)/6 {
		return 0, 0, fmt.Errorf("badges.pdf has %d pages, want %d", n, (badgeCount+5)/6)
	}
	return d, len(body), nil
}
