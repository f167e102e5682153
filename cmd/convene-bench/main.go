// Command convene-bench measures Convene under load and prints one markdown
// table: each row is a measurement next to a baseline measured in the same
// run, on the same machine, and the goal the row is held to.
//
//	convene-bench [-only catalogue,rush,checkin,badges] [-duration 5s] [-warmup 1s] [-c 16] [-rush-attempts 2000] [-cpuprofile cpu.pprof]
//
// It creates a fresh database convene_bench_<random> on the PostgreSQL server
// named by DATABASE_URL (default postgres://postgres@127.0.0.1:5432/), seeds
// the demo, serves the real app on a loopback port and drives it from the same
// process with keep-alive clients, each a bare HTTP/1.1 connection that costs
// the app it shares the process with as little as it can (see wire.go). The database is dropped at the end, also on
// Ctrl-C. No traffic goes anywhere but the loopback interface.
//
// Server and load generator share the CPUs (GOMAXPROCS, printed above the
// table), for the row and its baseline alike, so the ratio is fair even when
// the absolute rates are not.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"convene/config"
	"convene/handlers"
	"convene/models"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// bench is one row of the table. To add a row, write a function that checks
// its target answers what it should, measures it against its baseline in the
// same run (Load.Compare interleaves two HTTP targets; a non-HTTP baseline
// such as pgbench fills Row.Base itself) and returns a Row (or several);
// then list it here.
type bench struct {
	name string
	run  func(ctx context.Context, e *env) ([]Row, error)
}

var benches = []bench{
	{"catalogue", one(catalogueBench)},
	{"rush", one(rushBench)},
	{"checkin", checkinBench},
	{"badges", one(badgesBench)},
}

// one adapts a bench of one row.
func one(f func(ctx context.Context, e *env) (Row, error)) func(ctx context.Context, e *env) ([]Row, error) {
	return func(ctx context.Context, e *env) ([]Row, error) {
		r, err := f(ctx, e)
		return []Row{r}, err
	}
}

const defaultServer = "postgres://postgres@127.0.0.1:5432/"

func main() {
	os.Exit(run())
}

func run() int {
	only := flag.String("only", "", "run only these rows, comma-separated: "+names())
	dur := flag.Duration("duration", 5*time.Second, "measured time per target")
	warmup := flag.Duration("warmup", time.Second, "warm-up time per target, not measured")
	clients := flag.Int("c", 16, "concurrent keep-alive clients")
	profile := flag.String("cpuprofile", "", "write a CPU profile of each row's measured phase (not the baseline's) to this file")
	appLog := flag.String("applog", os.DevNull, "where the app's JSON request log goes")
	rushAttempts := flag.Int("rush-attempts", 2000, "registrations attempted in the rush row, each by its own member, for three quarters as many seats")
	pageCache := flag.Bool("pagecache", true, "serve anonymous pages from the app's short-lived cache, as in production (false: to see what it buys)")
	flag.Parse()
	selected, err := choose(*only)
	if err != nil || *clients < 1 || *rushAttempts < 4 || *dur <= 0 || *warmup < 0 || flag.NArg() > 0 {
		if err != nil {
			fmt.Fprintln(os.Stderr, "convene-bench:", err)
		}
		flag.Usage()
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf, err := os.OpenFile(*appLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "convene-bench:", err)
		return 1
	}
	defer logf.Close()

	// The whole process collects garbage as convene serve does: the app,
	// the baselines and the load generator alike.
	gc := config.TuneGC()
	e := &env{load: Load{Clients: *clients, Warmup: *warmup, Duration: *dur}, profile: *profile, multi: len(selected) > 1,
		rushAttempts: *rushAttempts}
	if !*pageCache {
		e.routeOpts = append(e.routeOpts, handlers.PageCacheTTL(0))
	}
	defer e.close()
	if err := e.start(ctx, logf); err != nil {
		fmt.Fprintln(os.Stderr, "convene-bench:", err)
		return 1
	}
	fmt.Printf("%d clients, %s warm-up + %s measured per target (row and baseline in alternating 1 s rounds); GOMAXPROCS=%d of %d CPUs, %s; app and load generator (bare HTTP/1.1 keep-alive clients) in one process; garbage collector at %s (convene serve's defaults unless the environment sets its own)",
		*clients, *warmup, *dur, runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version(), gc)
	if !*pageCache {
		fmt.Print("; app page cache OFF")
	}
	fmt.Print("\n\n")

	var rows []Row
	for _, b := range selected {
		r, err := b.run(ctx, e)
		if err != nil {
			if ctx.Err() != nil {
				fmt.Fprintln(os.Stderr, "convene-bench: interrupted")
			} else {
				fmt.Fprintf(os.Stderr, "convene-bench: %s: %v\n", b.name, err)
			}
			return 1
		}
		rows = append(rows, r...)
	}
	printTable(os.Stdout, rows)
	for _, r := range rows {
		if !r.Pass() {
			return 1
		}
	}
	return 0
}

func names() string {
	var ns []string
	for _, b := range benches {
		ns = append(ns, b.name)
	}
	return strings.Join(ns, ",")
}

func choose(only string) ([]bench, error) {
	if only == "" {
		return benches, nil
	}
	var out []bench
	for _, n := range strings.Split(only, ",") {
		found := false
		for _, b := range benches {
			if b.name == strings.TrimSpace(n) {
				out, found = append(out, b), true
			}
		}
		if !found {
			return nil, fmt.Errorf("no row named %q (rows: %s)", n, names())
		}
	}
	return out, nil
}

const bareName = "bare gin handler"

// env is what the rows share: the database, the running app and the bare
// gin server.
type env struct {
	load      Load
	profile   string
	multi     bool
	routeOpts []handlers.RouteOption
	// rushAttempts is how many registrations the rush row makes.
	rushAttempts int

	adminDSN string // the server's postgres database, to create and drop ours
	dbName   string
	dsn      string // our database, for pgbench
	db       *sqlx.DB
	store    *models.Store
	app      *handlers.App
	appURL   string
	bareURL  string
	servers  []*http.Server
}

// start creates and seeds the database and starts both servers.
func (e *env) start(ctx context.Context, appLog io.Writer) error {
	server := os.Getenv("DATABASE_URL")
	if server == "" {
		server = defaultServer
	}
	b := make([]byte, 6)
	rand.Read(b)
	e.dbName = "convene_bench_" + hex.EncodeToString(b)
	dsn, admin, err := benchDSN(server, e.dbName)
	if err != nil {
		return err
	}
	e.adminDSN, e.dsn = admin, dsn
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if e.db, err = models.Open(ctx, dsn, quiet); err != nil {
		return fmt.Errorf("%w\nIs PostgreSQL running? scripts/ensure-postgres.sh starts one", err)
	}
	e.store = models.NewStore(e.db)
	if err := models.SeedDemo(ctx, e.store, time.Now(), quiet); err != nil {
		return fmt.Errorf("seeding the demo: %w", err)
	}

	gin.SetMode(gin.ReleaseMode)
	ln, err := listen()
	if err != nil {
		return err
	}
	e.appURL = "http://" + ln.Addr().String()
	cfg := config.Config{BaseURL: e.appURL, SecretKey: "convene-bench"}
	// The app logs as in production: one JSON line per request.
	if e.app, err = handlers.New(e.db, cfg, slog.New(slog.NewJSONHandler(appLog, nil))); err != nil {
		return err
	}
	e.serve(ln, e.app.Routes(e.routeOpts...))

	bare := gin.New()
	bare.GET("/", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	if ln, err = listen(); err != nil {
		return err
	}
	e.bareURL = "http://" + ln.Addr().String()
	e.serve(ln, bare)
	return nil
}

func listen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// serve runs h with the same server settings as cmd/convene.
func (e *env) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 60 * time.Second, WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second}
	e.servers = append(e.servers, srv)
	go srv.Serve(ln)
}

// close stops the servers and drops the database, whatever state start left.
func (e *env) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, s := range e.servers {
		s.Shutdown(ctx)
	}
	if e.db != nil {
		e.db.Close()
	}
	if e.adminDSN == "" {
		return
	}
	admin, err := sql.Open("postgres", e.adminDSN)
	if err == nil {
		_, err = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(e.dbName)+" WITH (FORCE)")
		admin.Close()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "convene-bench: could not drop database %s: %v\n", e.dbName, err)
	}
}

// vsBareGin measures t against the bare gin handler, interleaved.
func (e *env) vsBareGin(ctx context.Context, row string, t Target) (got, base Result, err error) {
	return e.loadFor(row).Compare(ctx, t, Target{Name: "bare", URL: e.bareURL + "/"})
}

// loadFor is the load for a row's own target, profiled when asked; with more
// than one row, each profile file carries the row's name.
func (e *env) loadFor(row string) Load {
	l := e.load
	l.CPUProfile = e.profile
	if e.profile != "" && e.multi {
		ext := filepath.Ext(e.profile)
		l.CPUProfile = strings.TrimSuffix(e.profile, ext) + "-" + row + ext
	}
	return l
}

// benchDSN names database name on server, and the server's postgres database
// for creating and dropping it. The server must be on this machine.
func benchDSN(server, name string) (dsn, admin string, err error) {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", errors.New("DATABASE_URL must be a postgres:// URL")
	}
	switch u.Hostname() {
	case "127.0.0.1", "localhost", "::1":
	default:
		return "", "", fmt.Errorf("DATABASE_URL points at %q: the bench creates and drops databases and runs only against a PostgreSQL on this machine", u.Hostname())
	}
	q := u.Query()
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	u.Path = "/" + name
	dsn = u.String()
	u.Path = "/postgres"
	return dsn, u.String(), nil
}
