package handlers

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"convene/models"
	"convene/models/rostercsv"
	"convene/templates"

	"github.com/gin-gonic/gin"
)

// Renderer holds every page's template set, parsed once at start-up.
type Renderer struct {
	pages    map[string]*template.Template
	catalogs map[string]templates.Catalog
}

// Page is what every template receives as its root value.
type Page struct {
	Lang    string
	User    *models.User
	Path    string
	Title   string
	Flash   string
	Errors  map[string]string
	Form    any
	Data    any
	Now     time.Time
	BaseURL string
	cat     templates.Catalog
}

// T translates a message into the page's language; args fill its %s verbs.
func (p *Page) T(msg string, args ...any) string {
	msg = p.translate(msg)
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

// TN is T for a sentence about n things: one when n is 1, other otherwise
// (English and Spanish both make 1 alone singular), so a page never says
// "1 seats left". args fill the message's verbs; with none, n fills its %d.
func (p *Page) TN(n int, one, other string, args ...any) string {
	msg := other
	if n == 1 {
		msg = one
	}
	if len(args) == 0 {
		args = []any{n}
	}
	return p.T(msg, args...)
}

// translate is msg in the page's language, or msg when the catalog has none.
func (p *Page) translate(msg string) string {
	if tr, ok := p.cat[msg]; ok && tr != "" {
		return tr
	}
	return msg
}

// SkipReason is why a roster line is skipped, in the page's language.
func (p *Page) SkipReason(e rostercsv.RowError) string { return e.Text(p.translate) }

// Note translates a stored message template and fills in its arguments.
func (p *Page) Note(msg string, args []string) string {
	vals := make([]any, len(args))
	for i, a := range args {
		vals[i] = a
	}
	return p.T(msg, vals...)
}

// Instant writes t in the named zone and the page's language.
func (p *Page) Instant(t time.Time, zone string) string {
	return FormatInstant(t, models.Conference{TimeZone: zone}.Location(), p.Lang)
}

// Err is the translated message for a bad form field, or "".
func (p *Page) Err(field string) string {
	if msg, ok := p.Errors[field]; ok {
		return p.T(msg)
	}
	return ""
}

// LangURL is the current page's address in another language.
func (p *Page) LangURL(lang string) string { return p.Path + "?lang=" + lang }

var funcs = template.FuncMap{
	"money": Money,
	"deref": func(p any) any {
		switch v := p.(type) {
		case *int:
			if v != nil {
				return *v
			}
		case *int64:
			if v != nil {
				return *v
			}
		case *time.Time:
			if v != nil {
				return *v
			}
		case *string:
			if v != nil {
				return *v
			}
			return ""
		}
		return nil
	},
	"join": strings.Join,
	"list": func(xs ...string) []string { return xs },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	"eq_s": func(a, b string) bool { return a == b },
}

// NewRenderer parses layouts/base.html, every partial and each page into one
// set per page.
func NewRenderer() (*Renderer, error) {
	cats, err := templates.LoadCatalogs()
	if err != nil {
		return nil, err
	}
	r := &Renderer{pages: map[string]*template.Template{}, catalogs: cats}
	partials, err := fs.Glob(templates.FS, "partials/*.html")
	if err != nil {
		return nil, err
	}
	pages, err := fs.Glob(templates.FS, "pages/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		files := append([]string{"layouts/base.html"}, partials...)
		files = append(files, p)
		t, err := template.New("base.html").Funcs(funcs).Funcs(dateFuncs).ParseFS(templates.FS, files...)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", p, err)
		}
		r.pages[strings.TrimSuffix(path.Base(p), ".html")] = t
	}
	return r, nil
}

// render writes a page with status into a buffer first, so a template error
// becomes a clean 500 instead of half a page.
func (a *App) render(c *gin.Context, status int, name string, p *Page) {
	t, ok := a.Pages.pages[name]
	if !ok {
		a.Log.Error("no such page template", "page", name, "request_id", requestID(c))
		c.String(http.StatusInternalServerError, "Internal error")
		return
	}
	a.fillPage(c, p)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "base.html", p); err != nil {
		a.Log.Error("template failed", "page", name, "err", err, "request_id", requestID(c))
		c.String(http.StatusInternalServerError, p.T("Something went wrong on our side. Please try again in a minute."))
		return
	}
	c.Header("Content-Language", p.Lang)
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// newPage starts a page with the request's language, user and flash.
func (a *App) newPage(c *gin.Context, title string) *Page {
	p := &Page{Title: title}
	a.fillPage(c, p)
	return p
}

func (a *App) fillPage(c *gin.Context, p *Page) {
	if p.cat != nil {
		return
	}
	p.Lang = lang(c)
	p.cat = a.Pages.catalogs[p.Lang]
	p.User = currentUser(c)
	p.Path = c.Request.URL.Path
	p.Now = a.Now()
	p.BaseURL = a.Cfg.BaseURL
	if p.Flash == "" {
		p.Flash = takeFlash(c)
	}
}

// T translates msg into the request's language.
func (a *App) T(c *gin.Context, msg string, args ...any) string {
	p := Page{cat: a.Pages.catalogs[lang(c)]}
	return p.T(msg, args...)
}

const flashCookie = "convene_flash"

func setFlash(c *gin.Context, msg string) {
	http.SetCookie(c.Writer, &http.Cookie{Name: flashCookie, Value: urlEscape(msg), Path: "/", MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func takeFlash(c *gin.Context) string {
	ck, err := c.Request.Cookie(flashCookie)
	if err != nil || ck.Value == "" {
		return ""
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1})
	return urlUnescape(ck.Value)
}

// Money writes an amount for people: "$1,500" or "$12.50", "MX$1,500".
func Money(cents int64, currency string) string {
	sym := "$"
	switch strings.ToLower(currency) {
	case "mxn":
		sym = "MX$"
	case "cad":
		sym = "CA$"
	case "eur":
		sym = "€"
	}
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	whole := strconv.FormatInt(cents/100, 10)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	if cents%100 == 0 {
		return sign + sym + whole
	}
	return fmt.Sprintf("%s%s%s.%02d", sign, sym, whole, cents%100)
}
