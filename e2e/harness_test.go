// Package e2e drives Convene in headless Chromium, the way a person uses it:
// it opens pages, types into forms, clicks, and reads what the page shows.
//
// Each test gets its own database with the demo data and its own server. The
// tests of the package share one Chromium process; each test opens its own
// tab in its own browser context, so cookies never leak between tests.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"convene/config"
	"convene/handlers"
	"convene/internal/testdb"
	"convene/models"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/jmoiron/sqlx"
)

const (
	chromiumPath = "/usr/bin/chromium"
	// tabTimeout bounds everything one test does in its tab.
	tabTimeout = 60 * time.Second
	// screenshotDir is relative to the package folder, where go test runs.
	screenshotDir = "screenshots"
)

// server is a running Convene over a fresh database holding the demo data.
type server struct {
	URL   string
	App   *handlers.App
	Store *models.Store
}

// newServer starts Convene on 127.0.0.1 with a fresh database seeded with the
// demo data; it stops when the test ends.
func newServer(t *testing.T) *server {
	t.Helper()
	db, _ := testdb.New(t)
	store := models.NewStore(db)
	if err := models.SeedDemo(context.Background(), store, time.Now(), nil); err != nil {
		t.Fatalf("seeding the demo data: %v", err)
	}
	return serve(t, db, store)
}

// newEmptyServer starts Convene over a fresh, migrated database with nothing
// in it: no conferences, locals or accounts. The test creates what it needs.
func newEmptyServer(t *testing.T) *server {
	t.Helper()
	db, _ := testdb.New(t)
	return serve(t, db, models.NewStore(db))
}

// serve starts Convene over db on 127.0.0.1; it stops when the test ends.
func serve(t *testing.T, db *sqlx.DB, store *models.Store) *server {
	t.Helper()
	// Listen first, so BASE_URL can name the real address.
	ts := httptest.NewUnstartedServer(nil)
	url := "http://" + ts.Listener.Addr().String()
	cfg := config.Config{BaseURL: url, SecretKey: "e2e"}
	// The app's warnings and errors go to the test log; request lines do not.
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	app, err := handlers.New(db, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = app.Routes()
	ts.Start()
	t.Cleanup(ts.Close) // waits for requests in flight, so nothing logs after the test
	return &server{URL: ts.URL, App: app, Store: store}
}

// testWriter sends log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// chromium is the one browser process the package's tests share.
var chromium struct {
	once   sync.Once
	ctx    context.Context // the browser's first tab; new tabs derive from it
	cancel context.CancelFunc
	err    error
}

// startChromium starts the shared browser once.
func startChromium() (context.Context, error) {
	chromium.once.Do(func() {
		if _, err := os.Stat(chromiumPath); err != nil {
			chromium.err = fmt.Errorf("no browser at %s (%v): run scripts/ensure-chromium.sh, which installs Debian's chromium (make test runs it)", chromiumPath, err)
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(chromiumPath),
			chromedp.Headless,
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("lang", "en-US"),
			chromedp.WindowSize(1280, 900),
			// No UserDataDir: the exec allocator makes a fresh temporary
			// profile for the process and removes it when the browser ends.
		)
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(allocCtx)
		chromium.ctx = ctx
		chromium.cancel = func() { cancelCtx(); cancelAlloc() }
		// The first Do starts the process; its life is bound to ctx, which has
		// no deadline, so guard the start with a timer of our own.
		started := make(chan error, 1)
		go func() { started <- chromedp.Do(ctx) }()
		select {
		case chromium.err = <-started:
		case <-time.After(30 * time.Second):
			chromium.err = errors.New("the browser did not start within 30s")
		}
		if chromium.err != nil {
			chromium.cancel()
			chromium.err = fmt.Errorf("starting %s: %w", chromiumPath, chromium.err)
		}
	})
	return chromium.ctx, chromium.err
}

// TestMain stops the shared browser after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if chromium.cancel != nil {
		chromium.cancel()
	}
	os.Exit(code)
}

// browser is one tab, in a browser context of its own (its own cookies),
// bound to one test.
type browser struct {
	t *testing.T
	// Ctx runs chromedp actions in the tab; it ends with the test or after
	// tabTimeout, whichever is first.
	Ctx context.Context
}

// newBrowser opens a desktop-sized tab (1280x900). When the test fails, the
// tab's last state is saved as screenshots/FAILED-<test>.png (the test's
// second tab as FAILED-<test>-2.png, and so on); script errors
// and static files that fail to load fail the test.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	return openTab(t, chromedp.EmulateViewport(1280, 900))
}

// newPhoneBrowser opens a phone-sized tab: 390x844 CSS pixels (an iPhone 12
// to 15), mobile layout and touch, drawn at 2x to keep screenshots small.
func newPhoneBrowser(t *testing.T) *browser {
	t.Helper()
	return openTab(t, chromedp.EmulateViewport(390, 844,
		chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(2)))
}

func openTab(t *testing.T, viewport chromedp.Action[chromedp.Void]) *browser {
	t.Helper()
	parent, err := startChromium()
	if err != nil {
		t.Fatal(err)
	}
	tabCtx, closeTab := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	// Open the tab with tabCtx, which has no deadline, so the timeout below
	// limits the test's actions without tying the tab's life to it.
	if err := chromedp.Do(tabCtx, viewport); err != nil {
		closeTab()
		t.Fatalf("opening a tab: %v", err)
	}
	ctx, cancel := context.WithTimeout(tabCtx, tabTimeout)
	b := &browser{t: t, Ctx: ctx}
	failedName := "FAILED-" + t.Name()
	if n := tabNumber(t); n > 1 {
		failedName += fmt.Sprint("-", n)
	}
	problems := watchConsole(tabCtx)
	t.Cleanup(func() {
		if t.Failed() {
			sctx, scancel := context.WithTimeout(tabCtx, 5*time.Second)
			if png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100)); err == nil {
				b.save(failedName, png)
			}
			scancel()
		}
		cancel()
		closeTab()
		for _, p := range <-problems {
			t.Errorf("browser console: %s", p)
		}
	})
	return b
}

// tabsOpened counts the tabs each test has opened, so that the screenshots
// of a failed test's tabs do not overwrite one another.
var tabsOpened sync.Map // test name -> *atomic.Int32

func tabNumber(t *testing.T) int32 {
	n, _ := tabsOpened.LoadOrStore(t.Name(), new(atomic.Int32))
	return n.(*atomic.Int32).Add(1)
}

// watchConsole collects what a person would never want a page to do: script
// errors, console.error calls, security errors, and static files that fail to
// load. Error statuses of pages themselves (401, 403, 422) are expected and
// left out. The channel gives the list once the tab is closed.
func watchConsole(tabCtx context.Context) <-chan []string {
	msgs := chromedp.Console(tabCtx)
	done := make(chan []string, 1)
	go func() {
		var problems []string
		for m, err := range msgs {
			if err != nil {
				break // the tab is closed
			}
			if m.IsException() || m.Type == chromedp.ConsoleError &&
				(m.Source != "network" || strings.Contains(m.URL, "/static/")) {
				problems = append(problems, fmt.Sprintf("%s (%s)", m.Text, m.URL))
			}
		}
		done <- problems
	}()
	return done
}

// do runs actions in the tab and fails the test on the first error.
func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// visit opens url, waits for the page to load and returns its HTTP status.
func (b *browser) visit(url string) int64 {
	b.t.Helper()
	resp, err := chromedp.Run(b.Ctx, chromedp.NavigateResponse(url))
	return b.status(resp, err, "opening "+url)
}

// status is the HTTP status of the page a navigation loaded.
func (b *browser) status(resp *network.Response, err error, what string) int64 {
	b.t.Helper()
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	if resp == nil {
		b.t.Fatalf("%s: no page loaded", what)
	}
	return resp.Status
}

// click clicks the first element that matches css, waits for the page it
// leads to (a link or a form's submit button) and returns that page's status.
func (b *browser) click(css string) int64 {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.Ctx, chromedp.Click(chromedp.CSS(css)))
	return b.status(resp, err, "clicking "+css)
}

// clickLink clicks the link whose visible text is exactly text and waits for
// the page it leads to; it returns that page's status.
func (b *browser) clickLink(text string) int64 {
	b.t.Helper()
	sel := chromedp.JSPath(`[...document.querySelectorAll("a")].find(a => a.innerText.trim() === ` + jsString(text) + `)`)
	resp, err := chromedp.RunResponse(b.Ctx, chromedp.Click(sel))
	return b.status(resp, err, fmt.Sprintf("clicking the link %q", text))
}

// typeInto replaces what the field that matches css holds with s, typed key
// by key, as a person does it: focus, select all, delete, type. (chromedp's
// Clear then SendKeys is a data race in chromedp v0.23.0: SendKeys reads the
// node's attributes without its lock while Clear's change to them arrives.)
func (b *browser) typeInto(css, s string) {
	b.t.Helper()
	b.do(chromedp.Focus(chromedp.CSS(css), chromedp.NodeVisible),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent(kb.Backspace),
		chromedp.KeyEvent(s))
}

// setValue sets a field's value directly, for inputs that take no typing in a
// fixed format (date and datetime-local pickers differ by locale).
func (b *browser) setValue(css, v string) {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.CSS(css), v))
}

// value is the current value of the form field that matches css.
func (b *browser) value(css string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Value(chromedp.CSS(css)))
	if err != nil {
		b.t.Fatalf("reading the value of %s: %v", css, err)
	}
	return v
}

// waitVisible waits until an element that matches css is on the page and
// visible (rendered, not hidden by CSS).
func (b *browser) waitVisible(css string) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, chromedp.WaitVisible(chromedp.CSS(css))); err != nil {
		b.t.Fatalf("waiting for %s to be visible: %v", css, err)
	}
}

// text is what a person sees in the first element that matches css: its
// innerText, which leaves out hidden content. It waits for the element to be
// visible.
func (b *browser) text(css string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS(css), chromedp.NodeVisible))
	if err != nil {
		b.t.Fatalf("reading the text of %s: %v", css, err)
	}
	return s
}

// eval evaluates a JavaScript expression in the page and decodes its result.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// location is the URL the tab shows.
func (b *browser) location() string {
	b.t.Helper()
	u, err := chromedp.Run(b.Ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("reading the location: %v", err)
	}
	return u
}

// signIn signs in through the real sign-in form at base+"/login" and returns
// the status of the page the form leads to (200 after the redirect when the
// password is right, 401 when not). It asserts nothing.
func (b *browser) signIn(base, email, password string) int64 {
	b.t.Helper()
	b.visit(base + "/login")
	b.typeInto("#f-email", email)
	b.typeInto("#f-password", password)
	return b.click(`form[action="/login"] button[type=submit]`)
}

// screenshot saves the whole page as screenshots/<name>.png.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	b.save(name, png)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func (b *browser) save(name string, png []byte) {
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		b.t.Errorf("screenshot folder: %v", err)
		return
	}
	path := filepath.Join(screenshotDir, unsafeName.ReplaceAllString(name, "_")+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Errorf("saving %s: %v", path, err)
		return
	}
	b.t.Logf("screenshot: e2e/%s", path)
}

// mustSee fails the test for each of wants that the visible text does not hold.
func mustSee(t *testing.T, visible string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(visible, w) {
			t.Errorf("the page does not show %q; it shows:\n%s", w, indent(visible))
		}
	}
}

// mustNotSee fails the test for each of unwanted that the visible text holds.
func mustNotSee(t *testing.T, visible string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(visible, w) {
			t.Errorf("the page shows %q but should not", w)
		}
	}
}

func indent(s string) string {
	const max = 3000
	if len(s) > max {
		s = s[:max] + "…"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\u2028", `\u2028`, "\u2029", `\u2029`)
	return `"` + r.Replace(s) + `"`
}
