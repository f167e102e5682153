package handlers

import (
	"bytes"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// DefaultPageCacheTTL is how long a page rendered for anonymous visitors is
// served again. Everything lives in PostgreSQL and several app processes may
// run, so entries expire rather than being invalidated: a change made through
// any process shows within this time.
const DefaultPageCacheTTL = time.Second

// RouteOption changes how Routes builds the route table.
type RouteOption func(*routeOptions)

type routeOptions struct {
	pageCacheTTL time.Duration
}

// PageCacheTTL sets how long anonymous pages are cached; 0 turns the cache off.
func PageCacheTTL(d time.Duration) RouteOption {
	return func(o *routeOptions) { o.pageCacheTTL = d }
}

func buildOptions(opts []RouteOption) routeOptions {
	o := routeOptions{pageCacheTTL: DefaultPageCacheTTL}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// pageCache keeps whole pages as rendered for anonymous visitors, per path and
// language, for a short time. It is for pages whose content depends only on
// the path (not the query string), the language and the database, like the
// catalogue. Nothing personal is ever stored, because requests with a
// session, a flash message or credentials are passed through untouched.
// Concurrent misses for one key render once; the others wait for that render.
type pageCache struct {
	app *App
	ttl time.Duration

	mu      sync.Mutex
	entries map[string]*cachedPage
}

// cachedPage is one rendered page, or one being rendered until done closes.
type cachedPage struct {
	done    chan struct{}
	ok      bool // a 200 that set no cookie: servable to others
	status  int
	header  http.Header // what the page's handler set, beyond the middleware
	body    []byte
	expires time.Time // wall clock
	at      time.Time // the app's clock when rendered
}

func newPageCache(a *App, ttl time.Duration) *pageCache {
	return &pageCache{app: a, ttl: ttl, entries: map[string]*cachedPage{}}
}

// fresh reports whether p may still be served. Besides the wall clock it
// checks the app's clock, which is what the page was rendered for (tests move
// it to stand at a deadline).
func (pc *pageCache) fresh(p *cachedPage) bool {
	appNow := pc.app.Now()
	return p.ok && time.Now().Before(p.expires) && !appNow.Before(p.at) && appNow.Sub(p.at) < pc.ttl
}

// anonymous is the middleware that serves and fills the cache.
func (pc *pageCache) anonymous(c *gin.Context) {
	if pc.ttl <= 0 || !cacheable(c) {
		c.Next()
		return
	}
	key := c.Request.URL.Path + "\x00" + lang(c)
	pc.mu.Lock()
	p := pc.entries[key]
	if p != nil {
		select {
		case <-p.done:
			if !pc.fresh(p) {
				p = nil // stale: render it anew
			}
		default: // being rendered: wait for it below
		}
	}
	if p == nil {
		p = &cachedPage{done: make(chan struct{}), at: pc.app.Now()}
		pc.entries[key] = p
		pc.mu.Unlock()
		pc.render(c, p, key)
		return
	}
	pc.mu.Unlock()
	select {
	case <-p.done:
	case <-c.Request.Context().Done():
		c.Abort() // the visitor left
		return
	}
	if !p.ok {
		c.Next() // that render failed; this request tries on its own
		return
	}
	serveCached(c, p)
}

// render runs the page's handler for this request, teeing what it writes
// into p. A panic or an unusable answer leaves p not ok and removes it.
func (pc *pageCache) render(c *gin.Context, p *cachedPage, key string) {
	defer func() {
		if !p.ok {
			pc.mu.Lock()
			if pc.entries[key] == p {
				delete(pc.entries, key)
			}
			pc.mu.Unlock()
		}
		close(p.done)
	}()
	before := c.Writer.Header().Clone()
	w := &teeWriter{ResponseWriter: c.Writer}
	c.Writer = w
	defer func() { c.Writer = w.ResponseWriter }()
	c.Next()

	after := c.Writer.Header()
	if c.Writer.Status() != http.StatusOK || !slices.Equal(before.Values("Set-Cookie"), after.Values("Set-Cookie")) {
		return
	}
	p.header = http.Header{}
	for k, vs := range after {
		if !slices.Equal(before[k], vs) {
			p.header[k] = slices.Clip(slices.Clone(vs)) // shared by every hit: no spare capacity to append into
		}
	}
	p.status = c.Writer.Status()
	p.body = w.buf.Bytes()
	p.expires = time.Now().Add(pc.ttl)
	p.ok = true
}

// cacheable reports whether the request is anonymous in every way that could
// change a page: no session (even an expired one), no flash message waiting,
// no credentials.
func cacheable(c *gin.Context) bool {
	if c.Request.Method != http.MethodGet || currentUser(c) != nil || c.GetHeader("Authorization") != "" {
		return false
	}
	for _, name := range []string{sessionCookie, flashCookie} {
		if _, err := c.Request.Cookie(name); err == nil {
			return false
		}
	}
	return true
}

func serveCached(c *gin.Context, p *cachedPage) {
	h := c.Writer.Header()
	for k, vs := range p.header {
		h[k] = vs
	}
	c.Writer.WriteHeader(p.status)
	c.Writer.Write(p.body)
	c.Abort()
}

// teeWriter passes a response through while keeping a copy of its body.
type teeWriter struct {
	gin.ResponseWriter
	buf bytes.Buffer
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *teeWriter) WriteString(s string) (int, error) {
	w.buf.WriteString(s)
	return w.ResponseWriter.WriteString(s)
}
