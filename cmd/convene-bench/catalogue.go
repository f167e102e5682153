package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// catalogueBench measures the public catalogue (GET /) as an anonymous
// visitor's browser asks for it, against the bare gin handler. The goal: the
// real page, with every demo conference, at 30% or more of the bare rate.
func catalogueBench(ctx context.Context, e *env) (Row, error) {
	t := Target{Name: "catalogue", URL: e.appURL + "/",
		Header: http.Header{"Accept-Language": {"en-US,en;q=0.9"}, "Accept": {"text/html"}}}
	note, err := e.checkCatalogue(ctx, t)
	if err != nil {
		return Row{}, err
	}
	got, base, err := e.vsBareGin(ctx, "catalogue", t)
	if err != nil {
		return Row{}, err
	}
	return Row{What: "catalogue page (GET /)", Got: got, Baseline: bareName, Base: base, Goal: atLeastOfBaseline(0.30), Note: note}, nil
}

// checkCatalogue makes sure the page measured is the real one: a 200 that
// lists every published demo conference; the note says what it held.
func (e *env) checkCatalogue(ctx context.Context, t Target) (string, error) {
	status, body, err := fetch(ctx, t)
	if err != nil {
		return "", fmt.Errorf("catalogue: %w", err)
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("catalogue: answered %d", status)
	}
	confs, err := e.store.PublicConferences(ctx)
	if err != nil {
		return "", err
	}
	if len(confs) < 5 {
		return "", fmt.Errorf("catalogue: only %d public conferences after seeding the demo", len(confs))
	}
	for _, c := range confs {
		if !strings.Contains(body, `href="/conferences/`+c.Slug+`"`) {
			return "", fmt.Errorf("catalogue: the page does not list %s", c.Slug)
		}
	}
	return fmt.Sprintf("%d conferences, %.1f KB of HTML", len(confs), float64(len(body))/1024), nil
}
