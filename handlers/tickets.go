package handlers

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"convene/models"
	"convene/pdf"

	"github.com/gin-gonic/gin"
)

// TicketView is a registration's ticket page.
type TicketView struct {
	Reg  models.Registration
	Conf ConferenceView
	QR   template.HTML // the code as inline SVG, once confirmed
	URL  string        // what the code says: BASE_URL/t/TOKEN
}

// ticketPage shows a registration's ticket to its owner, an officer of its
// local or staff: its QR code once it is confirmed, and otherwise why there
// is none yet.
func (a *App) ticketPage(c *gin.Context) {
	act, ok := a.actor(c)
	if !ok {
		return
	}
	r, ok := a.registrationFor(c, act)
	if !ok {
		return
	}
	conf, err := a.Store.ConferenceBySlug(c.Request.Context(), r.ConferenceSlug, true)
	if err != nil {
		a.serverError(c, err)
		return
	}
	v := TicketView{Reg: r, Conf: a.view(c, conf, lang(c))}
	if r.Status == models.RegConfirmed {
		if v.URL = a.TicketURL(r); v.URL != "" {
			if v.QR, err = qrSVG(v.URL, a.T(c, "QR code of your ticket")); err != nil {
				a.serverError(c, err)
				return
			}
		}
	}
	p := a.newPage(c, a.T(c, "Ticket: %s", v.Conf.LocalTitle))
	p.Data = v
	a.render(c, http.StatusOK, "ticket", p)
}

// qrSVG draws text as a QR code in SVG: one path of unit squares, one per
// run of dark modules, inside the four-module quiet zone scanners need. It
// scales to any size without blur, and label is read to screen readers. The
// code is the badge's, from the same encoder.
func qrSVG(text, label string) (template.HTML, error) {
	modules, err := pdf.QRModules(text)
	if err != nil {
		return "", err // never quotes the text, a secret ticket URL
	}
	const quiet = 4
	n := len(modules)
	dark := func(x, y int) bool { return modules[y][x] }
	var b strings.Builder
	side := n + 2*quiet
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" class="qr" role="img" aria-label="%s" shape-rendering="crispEdges">`,
		side, side, template.HTMLEscapeString(label))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, side, side)
	for y := range n {
		for x := 0; x < n; {
			if !dark(x, y) {
				x++
				continue
			}
			start := x
			for x < n && dark(x, y) {
				x++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", start+quiet, y+quiet, x-start, x-start)
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()), nil
}
