package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"syscall"
	"time"
)

// Result is what one load run measured.
type Result struct {
	Requests int // answered with 200 during the measured phase
	Errors   int // anything else: another status or a transport error
	Elapsed  time.Duration
	P50, P99 time.Duration
	// Rounds is each measured round's p99 and the share of the machine's
	// CPU time the hypervisor took during it (steal), in order.
	Rounds []Round
	// Steal is the share of CPU time the hypervisor took over all rounds.
	Steal float64
}

// Round is what one measured round of a Compare saw.
type Round struct {
	P99   time.Duration
	Steal float64
}

// Rate is successful requests per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Target is one HTTP request the load generator repeats.
type Target struct {
	Name   string
	URL    string // must be on 127.0.0.1
	Header http.Header
	// Method is GET when empty. Body, when set, makes each request's body: a
	// row that must not repeat itself (check-ins of distinct badges) hands
	// out a new one on each call. Check, when set, must accept a 200's body
	// for the request to count as answered.
	Method string
	Body   func() []byte
	Check  func(body []byte) bool
}

// request builds one request for t.
func (t Target) request(ctx context.Context) (*http.Request, error) {
	method := t.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if t.Body != nil {
		body = bytes.NewReader(t.Body())
	}
	req, err := http.NewRequestWithContext(ctx, method, t.URL, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range t.Header {
		req.Header[k] = vs
	}
	return req, nil
}

// Load is the shape of a load run: warm-up, then a measured phase, with
// Clients concurrent keep-alive clients.
type Load struct {
	Clients  int
	Warmup   time.Duration
	Duration time.Duration
	// Rate, when set, paces the clients to that many requests a second
	// together (open loop): each client sends on its own fixed schedule, and a
	// request's latency counts from when the schedule said to send it, so a
	// slow answer that delays the next request shows in that request's
	// latency too (no coordinated omission). Unset, each client sends its
	// next request as soon as the last is answered (closed loop), which
	// measures the most the target can do; its latencies are then mostly
	// the queue the clients themselves make.
	Rate float64
	// CPUProfile, when set, receives a CPU profile of the whole process (server
	// and load generator) during the measured phase: with Compare, the
	// baseline's rounds too (tell them apart with pprof -focus).
	CPUProfile string
}

// loopbackOnly refuses to connect anywhere but 127.0.0.1, so a bench can never
// send traffic off the machine, whatever a URL or a proxy variable says.
func loopbackOnly(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return err
	}
	if ap.Addr().Unmap() != netip.AddrFrom4([4]byte{127, 0, 0, 1}) {
		return fmt.Errorf("bench: refusing to connect to %s: only 127.0.0.1 is allowed", address)
	}
	return nil
}

// newClient is an HTTP client whose connection pool holds one keep-alive
// connection per concurrent client.
func newClient(clients int) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, Control: loopbackOnly}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil, // never through a proxy
			DialContext:         d.DialContext,
			MaxIdleConns:        clients,
			MaxIdleConnsPerHost: clients,
			MaxConnsPerHost:     clients,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Compare measures a target and its baseline for Duration each, in
// alternating rounds of at most a second, so whatever else the machine is
// doing meanwhile weighs on both alike and their ratio stays fair.
func (l Load) Compare(ctx context.Context, t, base Target) (got, baseline Result, err error) {
	tw, err := newWires(t, l.Clients)
	if err != nil {
		return got, baseline, err
	}
	defer closeWires(tw)
	bw, err := newWires(base, l.Clients)
	if err != nil {
		return got, baseline, err
	}
	defer closeWires(bw)
	for _, ws := range [][]*wire{bw, tw} {
		if _, err := l.phase(ctx, ws, l.Warmup); err != nil {
			return got, baseline, err
		}
	}
	stop, err := l.startProfile()
	if err != nil {
		return got, baseline, err
	}
	defer stop()
	var ts, bs sample
	for left := l.Duration; left > 0; left -= time.Second {
		round := min(left, time.Second)
		s, err := l.phase(ctx, bw, round)
		if err != nil {
			return got, baseline, err
		}
		bs.add(s)
		if s, err = l.phase(ctx, tw, round); err != nil {
			return got, baseline, err
		}
		ts.add(s)
	}
	return ts.result(), bs.result(), nil
}

// startProfile starts the CPU profile if one is wanted; stop ends it.
func (l Load) startProfile() (stop func(), err error) {
	if l.CPUProfile == "" {
		return func() {}, nil
	}
	f, err := os.Create(l.CPUProfile)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// sample is what one or more phases saw, before it is summed up.
type sample struct {
	lat      []time.Duration
	ok, errs int
	elapsed  time.Duration
	cpu      cpuTicks
	rounds   []Round
}

// merge adds what another client saw in the same round to s.
func (s *sample) merge(o sample) {
	s.lat = append(s.lat, o.lat...)
	s.ok += o.ok
	s.errs += o.errs
}

// add sums up another round's sample into s.
func (s *sample) add(o sample) {
	s.merge(o)
	s.elapsed += o.elapsed
	s.cpu.total += o.cpu.total
	s.cpu.steal += o.cpu.steal
	slices.Sort(o.lat)
	s.rounds = append(s.rounds, Round{P99: percentile(o.lat, 0.99), Steal: o.cpu.stealShare()})
}

func (s sample) result() Result {
	slices.Sort(s.lat)
	return Result{Requests: s.ok, Errors: s.errs, Elapsed: s.elapsed,
		P50: percentile(s.lat, 0.50), P99: percentile(s.lat, 0.99),
		Rounds: s.rounds, Steal: s.cpu.stealShare()}
}

// phase runs one worker per connection in ws (Clients of them) for d and
// merges what they saw.
func (l Load) phase(ctx context.Context, ws []*wire, d time.Duration) (sample, error) {
	tallies := make([]sample, len(ws))
	cpu0 := readCPUTicks()
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	// Paced, client i sends at start + (i + k·Clients)/Rate for k = 0, 1, ...
	var every time.Duration
	if l.Rate > 0 {
		every = time.Duration(float64(time.Second) * float64(l.Clients) / l.Rate)
	}
	for i := range tallies {
		tl, w := &tallies[i], ws[i]
		tl.lat = make([]time.Duration, 0, 1<<12)
		wg.Go(func() {
			next := start.Add(every * time.Duration(i) / time.Duration(l.Clients))
			for ctx.Err() == nil {
				t0 := time.Now()
				if every > 0 {
					if d := time.Until(next); d > 0 {
						time.Sleep(d)
					}
					t0, next = next, next.Add(every)
				}
				if !t0.Before(end) {
					return
				}
				ok := w.do(ctx)
				tl.lat = append(tl.lat, time.Since(t0))
				if ok {
					tl.ok++
				} else if ctx.Err() == nil {
					tl.errs++
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return sample{}, err
	}
	var s sample
	for _, tl := range tallies {
		s.merge(tl)
	}
	s.elapsed = time.Since(start)
	s.cpu = readCPUTicks().since(cpu0)
	return s, nil
}

// fetch makes one request and returns the body, for checking a target answers
// what it should before it is measured.
func fetch(ctx context.Context, t Target) (int, string, error) {
	client := newClient(1)
	defer client.CloseIdleConnections()
	req, err := t.request(ctx)
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, string(b), nil
}

// percentile reads the q-quantile from sorted latencies (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
