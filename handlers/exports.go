package handlers

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"convene/models"

	"github.com/gin-gonic/gin"
)

// SafeCell neutralises a value a spreadsheet would run as a formula.
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// exportCSV writes a conference's registrations: staff get all, officers
// their locals' only. It has every field staff need for rooms, meals,
// interpretation and childcare.
func (a *App) exportCSV(c *gin.Context) {
	conf, rs, ok := a.listedRegistrations(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	workshops, err := a.Store.Workshops(ctx, ids)
	if err != nil {
		a.serverError(c, err)
		return
	}
	loc := conf.Location()
	header := []string{"id", "status", "waitlist_position", "first_name", "last_name", "email", "phone", "local", "local_name",
		"member_number", "category", "price", "amount_due", "accessibility", "interpretation", "childcare_count", "childcare_ages",
		"dietary", "emergency_contact", "emergency_phone", "workshops", zoned("registered_at", loc), zoned("checked_in_at", loc)}
	rows := make([][]string, 0, len(rs))
	for _, r := range rs {
		wp := ""
		if r.Status == models.RegWaitlisted {
			wp = strconv.Itoa(r.WaitlistPosition)
		}
		rows = append(rows, []string{strconv.FormatInt(r.ID, 10), r.Status, wp, r.FirstName, r.LastName, r.Email, r.Phone,
			deref(r.LocalNumber), deref(r.LocalName), r.MemberNumber, r.CategoryName, models.FormatMoney(r.PriceCents),
			models.FormatMoney(r.AmountDueCents), r.Accessibility, r.Interpretation, strconv.Itoa(r.ChildcareCount), r.ChildcareAges,
			r.Dietary, r.EmergencyName, r.EmergencyPhone, strings.Join(workshops[r.ID], "; "), csvTime(&r.CreatedAt, loc), csvTime(r.CheckedInAt, loc)})
	}
	a.sendConferenceCSV(c, conf, "registrations", header, rows)
}

// sendConferenceCSV sends rows as a download named SLUG-WHAT-DATE.csv (today
// in the conference's zone), with every cell a spreadsheet would run as a
// formula neutralised.
func (a *App) sendConferenceCSV(c *gin.Context, conf models.Conference, what string, header []string, rows [][]string) {
	sendCSV(c, fmt.Sprintf("%s-%s-%s.csv", conf.Slug, what, a.Now().In(conf.Location()).Format("2006-01-02")), header, rows)
}

// sendCSV sends rows as a download with this file name, with every cell a
// spreadsheet would run as a formula neutralised.
func sendCSV(c *gin.Context, name string, header []string, rows [][]string) {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(header)
	for _, row := range rows {
		for i := range row {
			row[i] = SafeCell(row[i])
		}
		w.Write(row)
	}
	w.Flush()
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	// A BOM so Excel reads the accents right.
	c.Data(http.StatusOK, "text/csv; charset=utf-8", append([]byte("\ufeff"), b.String()...))
}

// zoned names a column of csvTime instants with their zone, as every date
// shown to a person names it, leaving the cells for spreadsheets to read as
// dates: "registered_at (America/Los_Angeles)".
func zoned(column string, loc *time.Location) string { return column + " (" + loc.String() + ")" }

// csvTime is an instant in a spreadsheet-friendly form in loc, or "" for none.
func csvTime(t *time.Time, loc *time.Location) string {
	if t == nil {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// dashboardPage shows a conference's numbers for staff.
func (a *App) dashboardPage(c *gin.Context) {
	conf, ok := a.conferenceFor(c)
	if !ok {
		return
	}
	d, err := a.Store.ConferenceDashboard(c.Request.Context(), conf.ID)
	if err != nil {
		a.serverError(c, err)
		return
	}
	p := a.newPage(c, a.T(c, "Dashboard: %s", conf.Title))
	byStatus := make([]models.Count, len(d.ByStatus))
	for i, s := range d.ByStatus {
		byStatus[i] = models.Count{Label: p.T("status:" + s.Label), N: s.N}
	}
	p.Data = gin.H{"Conf": a.view(c, conf, lang(c)), "D": d,
		"StatusChart": barChart(byStatus, p.T("Registrations by status")),
		"LocalChart":  barChart(d.ByLocal, p.T("Registrations by local"))}
	a.render(c, http.StatusOK, "dashboard_staff", p)
}

// barChart draws counts as a small horizontal bar chart in SVG, with the
// numbers written out so it reads without the picture too.
func barChart(counts []models.Count, title string) template.HTML {
	if len(counts) == 0 {
		return ""
	}
	maxN := 1
	for _, c := range counts {
		maxN = max(maxN, c.N)
	}
	const rowH, labelW, barW = 26, 190, 260
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" aria-label="%s" viewBox="0 0 %d %d" width="100%%" style="max-width:%dpx">`,
		template.HTMLEscapeString(title), labelW+barW+60, rowH*len(counts), labelW+barW+60)
	for i, c := range counts {
		y := i * rowH
		w := c.N * barW / maxN
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="14" fill="#1b1f24">%s</text>`, labelW-8, y+18, template.HTMLEscapeString(c.Label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="18" rx="3" fill="#0b4f8a"></rect>`, labelW, y+4, max(w, 2))
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14" fill="#1b1f24">%d</text>`, labelW+max(w, 2)+6, y+18, c.N)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
