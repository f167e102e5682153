package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"convene/models"
)

// The registration rush: members registering through the API into one
// conference with fewer seats than attempts, next to pgbench doing the
// smallest transaction of the same shape (a counter update plus an insert)
// on the same PostgreSQL server with as many clients.
const (
	rushPassword = "rush-bench-password"
	// pgbenchScript is the baseline's transaction: one hot counter row, one insert.
	pgbenchScript = `BEGIN;
UPDATE bench_rush_counter SET n = n + 1 WHERE id = 1;
INSERT INTO bench_rush_log (counter_id) VALUES (1);
END;
`
)

// rushBench measures registrations per second, their latency and any seat
// oversold, against pgbench's rate. Goal: 50% of pgbench's rate, p99 under
// 100 ms, nothing oversold.
func rushBench(ctx context.Context, e *env) (Row, error) {
	pgbench, err := findPgbench()
	if err != nil {
		return Row{}, err
	}
	attempts := e.rushAttempts
	capacity := attempts * 3 / 4
	clients := e.load.Clients

	// Warm-up: connections, the app's pools and the server's caches.
	warm, err := e.newRush(ctx, "warm", clients*8*3/4, clients*8)
	if err != nil {
		return Row{}, err
	}
	// One pool of keep-alive connections for the warm-up and every round.
	client := newClient(clients)
	defer client.CloseIdleConnections()
	if s := warm.run(ctx, client, clients, warm.members); s.errs > 0 {
		return Row{}, fmt.Errorf("warm-up: %d of %d registrations failed: %s", s.errs, len(warm.members), warm.firstErr())
	}
	if _, err := warm.outcome(ctx); err != nil {
		return Row{}, err
	}
	base := &pgbenchRun{bin: pgbench, dsn: e.dsn, clients: clients}
	if err := base.setup(ctx, e); err != nil {
		return Row{}, err
	}
	defer base.cleanup()
	if _, err := base.round(ctx, 1); err != nil {
		return Row{}, err
	}

	rush, err := e.newRush(ctx, "rush", capacity, attempts)
	if err != nil {
		return Row{}, err
	}
	stop, err := e.loadFor("rush").startProfile()
	if err != nil {
		return Row{}, err
	}
	// Alternating rounds, as Load.Compare does: one second of pgbench, then
	// the next slice of the rush.
	rounds := max(1, int(e.load.Duration/time.Second))
	var got, bs sample
	for i := range rounds {
		b, err := base.round(ctx, 1)
		if err != nil {
			stop()
			return Row{}, err
		}
		bs.add(b)
		got.add(rush.run(ctx, client, clients, rush.members[i*attempts/rounds:(i+1)*attempts/rounds]))
	}
	stop()
	if err := ctx.Err(); err != nil {
		return Row{}, err
	}
	out, err := rush.outcome(ctx)
	if err != nil {
		return Row{}, err
	}
	note := fmt.Sprintf("%s attempts by as many members for %s seats: %s confirmed, %s waitlisted; %d oversold; conferences.taken %d, seats held %d",
		thousands(int64(attempts)), thousands(int64(capacity)), thousands(int64(out.held)), thousands(int64(out.waitlisted)),
		out.oversold, out.taken, out.holds)
	if got.errs > 0 {
		note += "; first error: " + rush.firstErr()
	}
	if out.problem != "" {
		note += "; **" + out.problem + "**"
	}
	goal := Goal{
		Text: "≥ 50% of baseline, p99 < 100 ms, 0 oversold",
		Met: func(r Row) bool {
			return r.Ratio() >= 0.50 && r.Got.P99 < 100*time.Millisecond && out.oversold == 0 && out.problem == ""
		},
	}
	return Row{What: "registration rush (POST /api/v1/conferences/{slug}/registrations)", Got: got.result(),
		Baseline: fmt.Sprintf("pgbench -c %d -j %d, counter update + insert", clients, base.threads()), Base: bs.result(),
		Goal: goal, Note: note}, nil
}

// rush is one conference and the members signed in to register for it.
type rush struct {
	e        *env
	conf     models.Conference
	capacity int
	members  []rushMember

	mu        sync.Mutex
	errSample string
}

type rushMember struct {
	email  string
	cookie *http.Cookie
}

// newRush creates a published conference with one free category and
// capacity seats, and attempts members each with a session of their own.
// Passwords are hashed once: the rush measures registering, not signing in.
func (e *env) newRush(ctx context.Context, name string, capacity, attempts int) (*rush, error) {
	now := time.Now().UTC()
	slug := fmt.Sprintf("bench-%s-%d", name, now.UnixNano())
	conf, err := e.store.CreateConference(ctx, models.ConferenceInput{Slug: slug, Title: "Bench " + name, TimeZone: "UTC",
		StartsOn: now.AddDate(0, 2, 0).Format(models.DateLayout), EndsOn: now.AddDate(0, 2, 2).Format(models.DateLayout),
		Mode: "in_person", Capacity: strconv.Itoa(capacity), Currency: "USD",
		RegistrationOpensAt: now.Add(-time.Hour).Format("2006-01-02T15:04"), RegistrationClosesAt: now.AddDate(0, 1, 0).Format(models.DateLayout)})
	if err != nil {
		return nil, fmt.Errorf("creating the %s conference: %w", name, err)
	}
	if conf, err = e.store.SetConferenceStatus(ctx, conf.ID, models.StatusPublished); err != nil {
		return nil, err
	}
	if _, err := e.store.CreateCategory(ctx, conf, models.CategoryInput{Slug: "open", Name: "Open", Price: "0"}); err != nil {
		return nil, fmt.Errorf("creating the %s category: %w", name, err)
	}
	r := &rush{e: e, conf: conf, capacity: capacity}
	var users []struct {
		ID    int64  `db:"id"`
		Email string `db:"email"`
	}
	err = e.db.SelectContext(ctx, &users, `INSERT INTO users (email, name, password_hash)
		SELECT $1 || '-' || g || '@example.org', 'Rush Member ' || g, $2 FROM generate_series(1, $3) g
		RETURNING id, email`, slug, models.HashPassword(rushPassword), attempts)
	if err != nil {
		return nil, fmt.Errorf("creating members: %w", err)
	}
	slices.SortFunc(users, func(a, b struct {
		ID    int64  `db:"id"`
		Email string `db:"email"`
	}) int {
		return int(a.ID - b.ID)
	})
	// The first member signs in through the API, which shows the sign-in
	// works and names the session cookie; the rest get sessions directly.
	first, err := e.login(ctx, users[0].Email, rushPassword)
	if err != nil {
		return nil, err
	}
	r.members = make([]rushMember, len(users))
	r.members[0] = rushMember{email: users[0].Email, cookie: first}
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	var next atomic.Int64
	next.Store(1)
	for range 16 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(users); i = int(next.Add(1) - 1) {
				tok, err := e.store.CreateSession(ctx, users[i].ID)
				if err != nil {
					failed.Store(&err)
					return
				}
				r.members[i] = rushMember{email: users[i].Email, cookie: &http.Cookie{Name: first.Name, Value: tok}}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		return nil, fmt.Errorf("creating sessions: %w", *err)
	}
	return r, nil
}

// login signs in through the API and returns the session cookie.
func (e *env) login(ctx context.Context, email, password string) (*http.Cookie, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.appURL+"/api/v1/auth/login", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	client := newClient(1)
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("signing in through the API answered %d", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.HttpOnly && c.Value != "" {
			return &http.Cookie{Name: c.Name, Value: c.Value}, nil
		}
	}
	return nil, errors.New("signing in through the API set no session cookie")
}

// run registers members with clients concurrent keep-alive clients, each
// request signed in as that member; a 201 whose status is confirmed or
// waitlisted counts, anything else is an error.
func (r *rush) run(ctx context.Context, client *http.Client, clients int, members []rushMember) sample {
	url := r.e.appURL + "/api/v1/conferences/" + r.conf.Slug + "/registrations"
	tallies := make([]sample, clients)
	var next atomic.Int64
	cpu0 := readCPUTicks()
	start := time.Now()
	var wg sync.WaitGroup
	for c := range tallies {
		tl := &tallies[c]
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(members) && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				t0 := time.Now()
				err := r.register(ctx, client, url, members[i])
				tl.lat = append(tl.lat, time.Since(t0))
				if err == nil {
					tl.ok++
				} else if ctx.Err() == nil {
					tl.errs++
					r.noteErr(err)
				}
			}
		})
	}
	wg.Wait()
	var s sample
	for _, tl := range tallies {
		s.merge(tl)
	}
	s.elapsed = time.Since(start)
	s.cpu = readCPUTicks().since(cpu0)
	return s
}

func (r *rush) register(ctx context.Context, client *http.Client, url string, m rushMember) error {
	local, _, _ := strings.Cut(m.email, "@")
	body, _ := json.Marshal(map[string]any{"category": "open",
		"attendee": map[string]string{"first_name": "Rush", "last_name": local, "email": m.email}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(m.cookie)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("answered %d: %.200s", resp.StatusCode, b)
	}
	var reg struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(b, &reg); err != nil {
		return err
	}
	if reg.Status != models.RegConfirmed && reg.Status != models.RegWaitlisted {
		return fmt.Errorf("registration is %s, not confirmed or waitlisted", reg.Status)
	}
	return nil
}

func (r *rush) noteErr(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.errSample == "" {
		r.errSample = err.Error()
	}
}

func (r *rush) firstErr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errSample
}

// rushOutcome is what the database holds after a rush.
type rushOutcome struct {
	held       int // registrations holding a seat by status: submitted to confirmed
	holds      int // registrations flagged holds_seat
	waitlisted int
	taken      int // conferences.taken
	oversold   int
	problem    string // an inconsistency other than overselling
}

// outcome reads the rush's result back from the database: seats taken by
// status and by counter may never exceed the capacity, and the counter must
// equal the registrations holding a seat.
func (r *rush) outcome(ctx context.Context) (rushOutcome, error) {
	var o rushOutcome
	var catTaken int
	err := r.e.db.QueryRowxContext(ctx, `SELECT
		(SELECT count(*) FROM registrations WHERE conference_id = $1 AND status IN ('submitted', 'pending', 'approved', 'awaiting_payment', 'confirmed')),
		(SELECT count(*) FROM registrations WHERE conference_id = $1 AND holds_seat),
		(SELECT count(*) FROM registrations WHERE conference_id = $1 AND status = 'waitlisted'),
		(SELECT taken FROM conferences WHERE id = $1),
		(SELECT taken FROM categories WHERE conference_id = $1)`, r.conf.ID).Scan(&o.held, &o.holds, &o.waitlisted, &o.taken, &catTaken)
	if err != nil {
		return o, err
	}
	o.oversold = max(0, o.held-r.capacity, o.holds-r.capacity, o.taken-r.capacity)
	switch {
	case o.taken != o.holds || catTaken != o.holds:
		o.problem = fmt.Sprintf("seat counters disagree: conference taken %d, category taken %d, %d registrations hold a seat", o.taken, catTaken, o.holds)
	case o.held != o.holds:
		o.problem = fmt.Sprintf("%d registrations are live but %d hold a seat", o.held, o.holds)
	case o.held+o.waitlisted < min(len(r.members), r.capacity):
		o.problem = fmt.Sprintf("only %d registrations were stored", o.held+o.waitlisted)
	case o.held < min(r.capacity, len(r.members)) && o.waitlisted > 0:
		o.problem = fmt.Sprintf("%d waitlisted with %d seats free", o.waitlisted, r.capacity-o.held)
	}
	return o, nil
}

// pgbenchRun is the baseline: pgbench running pgbenchScript against scratch
// tables in the bench's database.
type pgbenchRun struct {
	bin, dsn string
	clients  int
	dir      string
}

// findPgbench finds Debian's pgbench (scripts/bench.sh installs it).
func findPgbench() (string, error) {
	for _, p := range []string{"pgbench", "/usr/bin/pgbench"} {
		if bin, err := exec.LookPath(p); err == nil {
			if exec.Command(bin, "--version").Run() == nil {
				return bin, nil
			}
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	if len(matches) > 0 {
		slices.Sort(matches)
		return matches[len(matches)-1], nil
	}
	return "", errors.New("pgbench not found: scripts/bench.sh installs it (apt-get install postgresql-client postgresql-contrib)")
}

func (p *pgbenchRun) threads() int { return min(2, p.clients) }

func (p *pgbenchRun) setup(ctx context.Context, e *env) error {
	if _, err := e.db.ExecContext(ctx, `DROP TABLE IF EXISTS bench_rush_counter, bench_rush_log;
		CREATE TABLE bench_rush_counter (id integer PRIMARY KEY, n bigint NOT NULL);
		INSERT INTO bench_rush_counter VALUES (1, 0);
		CREATE TABLE bench_rush_log (id bigserial PRIMARY KEY, counter_id integer NOT NULL, at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("pgbench tables: %w", err)
	}
	dir, err := os.MkdirTemp("", "convene-bench-pgbench-")
	if err != nil {
		return err
	}
	p.dir = dir
	return os.WriteFile(filepath.Join(dir, "rush.sql"), []byte(pgbenchScript), 0o644)
}

func (p *pgbenchRun) cleanup() {
	if p.dir != "" {
		os.RemoveAll(p.dir)
	}
}

var (
	pgbenchProcessed = regexp.MustCompile(`(?m)^number of transactions actually processed: (\d+)`)
	pgbenchFailed    = regexp.MustCompile(`(?m)^number of failed transactions: (\d+)`)
	pgbenchTPS       = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(without initial connection time\)`)
)

// round runs pgbench for secs seconds and reads its transaction count, its
// own rate (without connection set-up) and each transaction's latency from
// its per-transaction log.
func (p *pgbenchRun) round(ctx context.Context, secs int) (sample, error) {
	prefix := filepath.Join(p.dir, "log")
	old, _ := filepath.Glob(prefix + ".*")
	for _, f := range old {
		os.Remove(f)
	}
	cmd := exec.CommandContext(ctx, p.bin, "-n", "-f", filepath.Join(p.dir, "rush.sql"),
		"-c", strconv.Itoa(p.clients), "-j", strconv.Itoa(p.threads()), "-T", strconv.Itoa(secs),
		"-l", "--log-prefix", prefix, p.dsn)
	cmd.Dir = p.dir
	cpu0 := readCPUTicks()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return sample{}, fmt.Errorf("pgbench: %w\n%s", err, out)
	}
	s := sample{cpu: readCPUTicks().since(cpu0)}
	processed, err1 := matchInt(pgbenchProcessed, out)
	failed, err2 := matchInt(pgbenchFailed, out)
	m := pgbenchTPS.FindSubmatch(out)
	if err1 != nil || err2 != nil || m == nil {
		return s, fmt.Errorf("pgbench: could not read its report:\n%s", out)
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	if tps <= 0 {
		return s, fmt.Errorf("pgbench: rate %s:\n%s", m[1], out)
	}
	s.ok, s.errs = processed, failed
	s.elapsed = time.Duration(float64(processed) / tps * float64(time.Second))
	logs, _ := filepath.Glob(prefix + ".*")
	for _, f := range logs {
		if err := readPgbenchLog(f, &s.lat); err != nil {
			return s, err
		}
	}
	return s, nil
}

func matchInt(re *regexp.Regexp, out []byte) (int, error) {
	m := re.FindSubmatch(out)
	if m == nil {
		return 0, errors.New("no match")
	}
	return strconv.Atoi(string(m[1]))
}

// readPgbenchLog appends the latencies in a pgbench transaction log: lines of
// "client transaction latency_us script epoch_s epoch_us".
func readPgbenchLog(name string, lat *[]time.Duration) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		us, err := strconv.ParseInt(fields[2], 10, 64)
		if err != nil {
			continue // "failed" or "skipped" instead of a latency
		}
		*lat = append(*lat, time.Duration(us)*time.Microsecond)
	}
	return sc.Err()
}
