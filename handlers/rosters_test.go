package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"convene/models"
)

// rosterFixture has locals 4121 and 7600, an officer of each, staff, an
// admin and a member; 7600 has a roster of two.
type rosterFixture struct {
	ta                                  *testApp
	local, other                        models.Local
	officer, otherOfficer, staff, admin *client
	member, anon                        *client
}

const roster7600 = "Card No.,First,Last\n2001,Grace,Liu\n2002,Marta,Ibáñez\n"

func newRosterFixture(t *testing.T) *rosterFixture {
	t.Helper()
	ta := newTestApp(t)
	ctx := context.Background()
	f := &rosterFixture{ta: ta, anon: ta.client()}
	var err error
	if f.local, err = ta.Store.CreateLocal(ctx, models.LocalInput{Number: "4121", Name: "Harbor City Academic Workers", Union: "UAW", Region: "Region 6"}); err != nil {
		t.Fatal(err)
	}
	if f.other, err = ta.Store.CreateLocal(ctx, models.LocalInput{Number: "7600", Name: "Inland Valley Health Care Workers"}); err != nil {
		t.Fatal(err)
	}
	f.officer = ta.signedIn("officer@example.org", false, false)
	f.otherOfficer = ta.signedIn("officer7600@example.org", false, false)
	f.staff = ta.signedIn("staff@example.org", true, false)
	f.admin = ta.signedIn("admin@example.org", true, true)
	f.member = ta.signedIn("member@example.org", false, false)
	for email, l := range map[string]models.Local{"officer@example.org": f.local, "officer7600@example.org": f.other} {
		u, _ := ta.Store.UserByEmail(ctx, email)
		if err := ta.Store.AddOfficer(ctx, u.ID, l.ID); err != nil {
			t.Fatal(err)
		}
	}
	staff, _ := ta.Store.UserByEmail(ctx, "staff@example.org")
	if _, _, err := ta.Store.ApplyRoster(ctx, f.other.ID, staff.ID, []byte(roster7600)); err != nil {
		t.Fatal(err)
	}
	return f
}

// roster is a local's roster as "number:First Last:standing" lines.
func (f *rosterFixture) roster(t *testing.T, l models.Local) string {
	t.Helper()
	es, err := f.ta.Store.Roster(context.Background(), l.ID)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "%s:%s %s:%s\n", e.MemberNumber, e.FirstName, e.LastName, e.Standing)
	}
	return b.String()
}

func (f *rosterFixture) imports(t *testing.T, l models.Local) int {
	t.Helper()
	h, err := f.ta.Store.History(context.Background(), "local", l.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range h {
		if e.Action == "roster_imported" {
			n++
		}
	}
	return n
}

// upload posts a roster file through the page's form.
func (c *client) upload(path, filename string, content []byte) response {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, _ := w.CreateFormFile("roster", filename)
	part.Write(content)
	w.Close()
	return c.do("POST", path, w.FormDataContentType(), &body)
}

func (c *client) putCSV(path string, content []byte) response {
	return c.do("PUT", path, "text/csv; charset=utf-8", bytes.NewReader(content))
}

// follow gets the page a redirect points to.
func (c *client) follow(t *testing.T, r response) response {
	t.Helper()
	if r.Code != http.StatusSeeOther {
		t.Fatalf("want a redirect, got %d: %s", r.Code, r.body)
	}
	loc, _, _ := strings.Cut(r.Header().Get("Location"), "#") // browsers do not send the fragment
	return c.get(loc)
}

var uploadPath = regexp.MustCompile(`^/officer/locals/(\d+)/roster/uploads/(\d+)$`)

func TestAdminManagesLocalsAndOfficers(t *testing.T) {
	f := newRosterFixture(t)
	ta, admin := f.ta, f.admin

	r := admin.get("/admin")
	mustContain(t, r.body, "4121 · Harbor City Academic Workers", "7600 · Inland Valley", "Members: 2", "admin@example.org", "Make staff")

	local := url.Values{"number": {"5810"}, "name": {""}, "union": {"SEIU"}, "region": {"Region 9"}, "city": {"Fresno"}}
	r = admin.post("/admin/locals", local)
	if got := errorBeside(r.body, "name"); r.Code != http.StatusUnprocessableEntity || got != "Enter the local&#39;s name." {
		t.Errorf("no name: %d %q", r.Code, got)
	}
	mustContain(t, r.body, `value="5810"`, `value="Fresno"`)
	local.Set("number", "4121")
	local.Set("name", "Central Valley Home Care")
	r = admin.post("/admin/locals", local)
	if got := errorBeside(r.body, "number"); r.Code != http.StatusUnprocessableEntity || got != "A local with this number already exists." {
		t.Errorf("duplicate number: %d %q", r.Code, got)
	}
	local.Set("number", "5810")
	r = admin.follow(t, admin.post("/admin/locals", local))
	mustContain(t, r.body, "Local 5810 added. Now add its officers.", "Central Valley Home Care", "SEIU", "This local has no officers yet.")
	l, err := ta.Store.LocalByNumber(t.Context(), "5810")
	if err != nil || l.City != "Fresno" {
		t.Fatalf("local not saved: %+v %v", l, err)
	}

	// Adding an officer: a clear message when nobody has that email.
	r = admin.post("/admin/locals/5810/officers", url.Values{"email": {"rosa@example.org"}})
	if got := errorBeside(r.body, "email"); r.Code != http.StatusUnprocessableEntity ||
		got != "No account uses this email address. Ask the officer to create an account first, then add them here." {
		t.Errorf("unknown email: %d %q", r.Code, got)
	}
	mustContain(t, r.body, `value="rosa@example.org"`)
	r = admin.post("/admin/locals/5810/officers", url.Values{"email": {"rosa at example"}})
	if got := errorBeside(r.body, "email"); got != "Enter an email address like name@example.org." {
		t.Errorf("bad email: %q", got)
	}
	admin.header.Set("Accept-Language", "es")
	r = admin.post("/admin/locals/5810/officers", url.Values{"email": {"rosa@example.org"}})
	if got := errorBeside(r.body, "email"); !strings.HasPrefix(got, "Ninguna cuenta usa este correo") {
		t.Errorf("Spanish message: %q", got)
	}
	admin.header.Del("Accept-Language")
	ta.user("rosa@example.org", false, false)
	r = admin.follow(t, admin.post("/admin/locals/5810/officers", url.Values{"email": {" Rosa@Example.org "}}))
	mustContain(t, r.body, "Test rosa@example.org is now an officer of Local 5810.", "rosa@example.org")
	r = admin.follow(t, admin.post("/admin/locals/5810/officers", url.Values{"email": {"rosa@example.org"}}))
	mustContain(t, r.body, "is already an officer of Local 5810.")
	rosa, _ := ta.Store.UserByEmail(t.Context(), "rosa@example.org")
	if ls, _ := ta.Store.OfficerLocals(t.Context(), rosa.ID); len(ls) != 1 || ls[0].Number != "5810" {
		t.Fatalf("officer of %+v", ls)
	}
	// Rosa now sees her local.
	rc := ta.client()
	rc.post("/login", url.Values{"email": {"rosa@example.org"}, "password": {testPassword}})
	mustContain(t, rc.get("/officer").body, "Local 5810", "/officer/locals/5810/roster")

	r = admin.follow(t, admin.post(fmt.Sprintf("/admin/locals/5810/officers/%d/remove", rosa.ID), nil))
	mustContain(t, r.body, "is no longer an officer of Local 5810.", "This local has no officers yet.")
	if r := admin.post(fmt.Sprintf("/admin/locals/5810/officers/%d/remove", rosa.ID), nil); r.Code != http.StatusNotFound {
		t.Errorf("removing twice: %d", r.Code)
	}
	if r := rc.get("/officer"); r.Code != http.StatusForbidden {
		t.Errorf("a removed officer still gets the officer page: %d", r.Code)
	}

	h, _ := ta.Store.History(t.Context(), "local", l.ID)
	var actions []string
	for _, e := range h {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != "local_created,officer_added,officer_removed" {
		t.Errorf("audit: %v", actions)
	}

	// The staff flag.
	priya := ta.user("priya@example.org", false, false)
	r = admin.follow(t, admin.post(fmt.Sprintf("/admin/users/%d/staff", priya.ID), url.Values{"staff": {"1"}, "q": {"priya"}}))
	mustContain(t, r.body, "Test priya@example.org is now conference staff.", "Remove from staff")
	if u, _ := ta.Store.UserByID(t.Context(), priya.ID); !u.IsStaff {
		t.Error("not made staff")
	}
	admin.post(fmt.Sprintf("/admin/users/%d/staff", priya.ID), url.Values{"staff": {"0"}})
	if u, _ := ta.Store.UserByID(t.Context(), priya.ID); u.IsStaff {
		t.Error("still staff")
	}
	me, _ := ta.Store.UserByEmail(t.Context(), "admin@example.org")
	admin.post(fmt.Sprintf("/admin/users/%d/staff", me.ID), url.Values{"staff": {"0"}})
	if u, _ := ta.Store.UserByID(t.Context(), me.ID); !u.IsStaff || !u.IsAdmin {
		t.Error("an admin stopped being staff")
	}

	// Staff who are not admins are refused every admin page, and nothing changes.
	for _, req := range []struct{ method, path string }{
		{"GET", "/admin"}, {"GET", "/admin/locals/4121"}, {"POST", "/admin/locals"},
		{"POST", "/admin/locals/4121/officers"}, {"POST", fmt.Sprintf("/admin/users/%d/staff", priya.ID)},
	} {
		r := f.staff.do(req.method, req.path, "application/x-www-form-urlencoded",
			strings.NewReader("number=9999&name=Intruders&email=staff@example.org&staff=1"))
		if r.Code != http.StatusForbidden {
			t.Errorf("staff %s %s: %d", req.method, req.path, r.Code)
		}
	}
	if _, err := ta.Store.LocalByNumber(t.Context(), "9999"); err == nil {
		t.Error("staff created a local")
	}
	if os, _ := ta.Store.LocalOfficers(t.Context(), f.local.ID); len(os) != 1 {
		t.Errorf("staff changed officers: %+v", os)
	}
	if u, _ := ta.Store.UserByID(t.Context(), priya.ID); u.IsStaff {
		t.Error("staff changed the staff flag")
	}
}

func TestLocalsAPI(t *testing.T) {
	f := newRosterFixture(t)
	ta, admin := f.ta, f.admin

	r := admin.api("POST", "/api/v1/locals", map[string]any{"number": 5810, "name": "Central Valley Home Care", "union": "SEIU", "region": "Region 9"})
	if r.Code != http.StatusCreated || r.json(t)["number"] != "5810" || r.json(t)["union"] != "SEIU" {
		t.Fatalf("create: %d %s", r.Code, r.body)
	}
	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"duplicate number", map[string]any{"number": "5810", "name": "Again"}, http.StatusConflict, "duplicate"},
		{"no name", map[string]any{"number": "5811"}, http.StatusUnprocessableEntity, "invalid"},
		{"bad number", map[string]any{"number": "58/11", "name": "Slash"}, http.StatusUnprocessableEntity, "invalid"},
		{"unknown field", map[string]any{"number": "5812", "name": "Typo", "regoin": "Region 9"}, http.StatusBadRequest, "bad_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := admin.api("POST", "/api/v1/locals", tc.body)
			if r.Code != tc.status || r.errorCode(t) != tc.code {
				t.Errorf("%d %s", r.Code, r.body)
			}
		})
	}
	if r := admin.api("POST", "/api/v1/locals", map[string]any{"number": "5810", "name": "Again"}); !strings.Contains(r.body, `"number":"A local with this number already exists."`) {
		t.Errorf("duplicate does not name the field: %s", r.body)
	}
	for _, c := range []*client{f.staff, f.officer, f.member} {
		if r := c.api("POST", "/api/v1/locals", map[string]any{"number": "6000", "name": "Intruders"}); r.Code != http.StatusForbidden {
			t.Errorf("non-admin created a local: %d", r.Code)
		}
	}
	if r := f.anon.api("POST", "/api/v1/locals", map[string]any{"number": "6000", "name": "Intruders"}); r.Code != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", r.Code)
	}

	// Officers.
	r = admin.api("POST", "/api/v1/locals/9999/officers", map[string]any{"email": "member@example.org"})
	if r.Code != http.StatusNotFound || r.errorCode(t) != "not_found" || !strings.Contains(r.body, `No local has the number \"9999\".`) {
		t.Errorf("unknown local: %d %s", r.Code, r.body)
	}
	r = admin.api("POST", "/api/v1/locals/5810/officers", map[string]any{"email": "nobody@example.org"})
	if r.Code != http.StatusNotFound || !strings.Contains(r.body, "No account uses this email address.") {
		t.Errorf("unknown user: %d %s", r.Code, r.body)
	}
	r = admin.api("POST", "/api/v1/locals/5810/officers", map[string]any{"email": "Member@example.org"})
	if r.Code != http.StatusCreated || r.json(t)["email"] != "member@example.org" || r.json(t)["added"] != true {
		t.Errorf("add: %d %s", r.Code, r.body)
	}
	if r := admin.api("POST", "/api/v1/locals/5810/officers", map[string]any{"email": "member@example.org"}); r.Code != http.StatusOK || r.json(t)["added"] != false {
		t.Errorf("add again: %d %s", r.Code, r.body)
	}
	if r := f.staff.api("POST", "/api/v1/locals/4121/officers", map[string]any{"email": "staff@example.org"}); r.Code != http.StatusForbidden {
		t.Errorf("staff appointed an officer: %d", r.Code)
	}
	if r := admin.api("DELETE", "/api/v1/locals/5810/officers/member@example.org", nil); r.Code != http.StatusNoContent {
		t.Errorf("remove: %d %s", r.Code, r.body)
	}
	if r := admin.api("DELETE", "/api/v1/locals/5810/officers/member@example.org", nil); r.Code != http.StatusNotFound || r.errorCode(t) != "not_found" {
		t.Errorf("remove again: %d %s", r.Code, r.body)
	}
	l, _ := ta.Store.LocalByNumber(t.Context(), "5810")
	if h, _ := ta.Store.History(t.Context(), "local", l.ID); len(h) != 3 {
		t.Errorf("audit entries: %d, want created, added, removed", len(h))
	}

	// The local picker: anyone signed in.
	r = f.member.get("/api/v1/locals?q=harbor")
	locals, _ := r.json(t)["locals"].([]any)
	if r.Code != http.StatusOK || len(locals) != 1 || locals[0].(map[string]any)["number"] != "4121" || locals[0].(map[string]any)["name"] != "Harbor City Academic Workers" {
		t.Errorf("search by name: %d %s", r.Code, r.body)
	}
	r = f.member.get("/api/v1/locals?q=76")
	if locals, _ := r.json(t)["locals"].([]any); len(locals) != 1 {
		t.Errorf("search by number: %s", r.body)
	}
	r = f.member.get("/api/v1/locals?limit=2")
	if locals, _ := r.json(t)["locals"].([]any); len(locals) != 2 {
		t.Errorf("limit: %s", r.body)
	}
	if r := f.member.get("/api/v1/locals?limit=0"); r.Code != http.StatusBadRequest || r.errorCode(t) != "bad_request" {
		t.Errorf("limit 0: %d", r.Code)
	}
	if r := f.anon.get("/api/v1/locals"); r.Code != http.StatusUnauthorized {
		t.Errorf("anonymous picker: %d", r.Code)
	}
}

// binaryFile is a small file with NUL bytes, like an export of a database.
var binaryFile = append([]byte("\x00\x01\x02SQLite format 3\x00"), bytes.Repeat([]byte{0, 0xff, 0x10, 0x80}, 200)...)

// tooManyRows is a roster of one member more than a file may hold.
func tooManyRows() []byte {
	var b bytes.Buffer
	b.WriteString("Member #,First,Last\n")
	for i := range 50001 {
		fmt.Fprintf(&b, "%d,A,B\n", i)
	}
	return b.Bytes()
}

// bigRoster is a valid roster of at least n bytes.
func bigRoster(n int) []byte {
	var b bytes.Buffer
	b.WriteString("Member #,First Name,Last Name,Email\n")
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%d,Firstname%d,Lastname%d,member%d@example.org\n", 100000+i, i, i, i)
	}
	return b.Bytes()
}

// TestRosterFiles sends each kind of file through the API (dry run and
// apply) and through the page, and checks both the result and the message.
func TestRosterFiles(t *testing.T) {
	f := newRosterFixture(t)
	type rowError struct {
		line   int
		reason string
	}
	tests := []struct {
		name    string
		file    []byte
		added   int
		errors  []rowError
		status  int    // for a file refused whole
		code    string // API error code
		message string // what the officer reads, on the page and in the API
		shows   []string
	}{
		{name: "UTF-8 with a byte-order mark", file: []byte("\uFEFFMember #,First Name,Last Name\n1001,Luis,Chávez-Nava\n1002,Ana,Cortés\n"),
			added: 2, shows: []string{"Chávez-Nava, Luis", "Cortés, Ana"}},
		{name: "semicolons", file: []byte("Member #;First Name;Last Name;Email\r\n1001;Luis;Chávez-Nava;luis@example.org\r\n1002;Ana;Cortés;\r\n"),
			added: 2, shows: []string{"luis@example.org"}},
		{name: "quoted commas", file: []byte("Member #,First Name,Last Name\n1001,\"Luis, Jr.\",Chávez-Nava\n1002,Ana,\"Cortés, Pérez\"\n"),
			added: 2, shows: []string{"Chávez-Nava, Luis, Jr.", "Cortés, Pérez, Ana"}},
		{name: "blank lines", file: []byte("\nMember #,First Name,Last Name\n\n1001,Luis,Chávez-Nava\n\n\n1002,Ana,Cortés\n\n"),
			added: 2},
		{name: "a repeated member number", file: []byte("Member #,First Name,Last Name\n1001,Luis,Chávez-Nava\n1002,Ana,Cortés\n1001,Luis,Chavez\n"),
			added: 2, errors: []rowError{{4, "member number 1001 appears again (first on line 2); this line is skipped"}}},
		{name: "a cell starting with =", file: []byte("Member #,First Name,Last Name\n1001,Luis,Chávez-Nava\n1002,\"=SUM(A1:A9)\",Cortés\n"),
			added: 1, errors: []rowError{{3, `first name "=SUM(A1:A9)" looks like a spreadsheet formula, not a name`}}},
		{name: "a 2 MB roster, over the 1 MiB cap of other requests", file: bigRoster(2 << 20), added: 35508},
		{name: "a binary file", file: binaryFile, status: http.StatusUnprocessableEntity, code: "not_csv",
			message: "This file is not a CSV file; save your spreadsheet as CSV (comma-separated) and upload it again."},
		{name: "an Excel workbook", file: []byte("PK\x03\x04\x14\x00\x06\x00xl/workbook.xml"), status: http.StatusUnprocessableEntity, code: "not_csv",
			message: `This is an Excel workbook or another zipped file, not a CSV file; in your spreadsheet choose File &gt; Save As`},
		{name: "a 6 MB file", file: bigRoster(6 << 20), status: http.StatusRequestEntityTooLarge, code: "too_large",
			message: "The file is larger than 5 MB; split the roster into smaller CSV files and upload each one."},
		{name: "just over 5 MB", file: bigRoster(5<<20 + 1), status: http.StatusRequestEntityTooLarge, code: "too_large",
			message: "The file is larger than 5 MB; split the roster into smaller CSV files and upload each one."},
		{name: "50,001 members", file: tooManyRows(), status: http.StatusUnprocessableEntity, code: "too_many_rows",
			message: "The file has more than 50,000 lines of members; split the roster into smaller CSV files and upload each one."},
		{name: "missing columns", file: []byte("Name,Email\nLuis Chávez-Nava,luis@example.org\n"), status: http.StatusUnprocessableEntity, code: "missing_columns",
			message: `Could not find the member number, first name and last name columns on line 1; the first line must name the columns: member number, first name and last name (found: &#34;Name&#34;, &#34;Email&#34;); split the &#34;Name&#34; column into first name and last name.`},
		{name: "an empty file", file: nil, status: http.StatusUnprocessableEntity, code: "missing_columns",
			message: "The file is empty; the first line must name the columns: member number, first name and last name."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := f.roster(t, f.local)
			for _, dry := range []bool{true, false} {
				path := "/api/v1/locals/4121/roster"
				if dry {
					path += "?dry_run=true"
				}
				r := f.officer.putCSV(path, tc.file)
				if tc.status != 0 {
					if r.Code != tc.status || r.errorCode(t) != tc.code {
						t.Fatalf("API dry_run=%v: %d %s", dry, r.Code, r.body)
					}
					msg := r.json(t)["error"].(map[string]any)["message"].(string)
					if want := strings.NewReplacer("&gt;", ">", "&#34;", `"`).Replace(tc.message); !strings.HasPrefix(msg, want) {
						t.Errorf("API message %q, want %q", msg, want)
					}
					continue
				}
				if r.Code != http.StatusOK {
					t.Fatalf("API dry_run=%v: %d %s", dry, r.Code, r.body)
				}
				m := r.json(t)
				if m["added"] != float64(tc.added) || m["dry_run"] != dry {
					t.Errorf("API dry_run=%v: %s", dry, r.body)
				}
				errs, _ := m["errors"].([]any)
				if len(errs) != len(tc.errors) {
					t.Fatalf("API row errors: %s", r.body)
				}
				for i, e := range tc.errors {
					got := errs[i].(map[string]any)
					if got["line"] != float64(e.line) || got["reason"] != e.reason {
						t.Errorf("API row error %v, want %+v", got, e)
					}
				}
				if after := f.roster(t, f.local); dry && after != before {
					t.Errorf("a dry run changed the roster:\n%s", after)
				} else if !dry && strings.Count(after, "\n") != tc.added {
					t.Errorf("applied roster:\n%s", after)
				}
			}
			// Back to an empty roster for the page: the same file again.
			f.ta.DB.MustExec(`DELETE FROM roster_entries WHERE local_id = $1`, f.local.ID)

			r := f.officer.upload("/officer/locals/4121/roster/uploads", "roster.csv", tc.file)
			if tc.status != 0 {
				if r.Code != tc.status {
					t.Fatalf("page: %d", r.Code)
				}
				mustContain(t, r.body, "This file was not read, and the roster is unchanged.", tc.message)
				if f.roster(t, f.local) != "" {
					t.Error("a refused file changed the roster")
				}
				return
			}
			r = f.officer.follow(t, r)
			mustContain(t, r.body, fmt.Sprintf("add new members: %d", tc.added), fmt.Sprintf("skip lines that could not be read: %d", len(tc.errors)))
			mustContain(t, r.body, tc.shows...)
			for _, e := range tc.errors {
				reason := strings.ReplaceAll(e.reason, `"`, "&#34;")
				mustContain(t, r.body, fmt.Sprintf(`<tr><td>%d</td><td>%s</td></tr>`, e.line, reason))
			}
			if f.roster(t, f.local) != "" {
				t.Error("the preview changed the roster")
			}
		})
	}

	// Spanish officers read the file's problems in Spanish.
	f.officer.header.Set("Accept-Language", "es")
	defer f.officer.header.Del("Accept-Language")
	for file, want := range map[string]string{
		string(binaryFile):                       "Este archivo no es un archivo CSV",
		"PK\x03\x04rest":                         "Este es un libro de Excel u otro archivo comprimido",
		string(bigRoster(6 << 20)):               "El archivo pesa más de 5 MB",
		"Nombre,Correo\nLuis,luis@example.org\n": "La línea 1 del archivo debe nombrar las columnas número de miembro, nombre y apellido; faltan: número de miembro, apellido.",
		"":                                       "El archivo está vacío.",
		"%PDF-1.7\n":                             "Este es un archivo PDF, no un archivo CSV",
		"\x89PNG\r\n":                            "Esta es una imagen, no un archivo CSV",
		"<!DOCTYPE html><table>":                 "Esta es una página web o un archivo XML",
		"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1":       "Este es un libro de Excel antiguo (.xls)",
		string(tooManyRows()):                    "El archivo tiene más de 50 000 líneas de miembros",
	} {
		r := f.officer.upload("/officer/locals/4121/roster/uploads", "padron.csv", []byte(file))
		mustContain(t, r.body, "No se leyó este archivo y el padrón no cambió.", want)
	}
	// ...and why each skipped line is skipped, every part of it.
	r := f.officer.upload("/officer/locals/4121/roster/uploads", "padron.csv",
		[]byte("Member Number,First Name,Last Name,Email\n1001,Ana,Ruiz,\n1001,Ana,Ruiz,\n1002,,Li,no-es-correo\n1003;Bo;Li\n1004,\"Ol\ngo\",Li,\n"))
	r = f.officer.follow(t, r)
	mustContain(t, r.body,
		"<tr><td>3</td><td>el número de miembro 1001 aparece otra vez (primero en la línea 2); se omite esta línea</td></tr>",
		"<tr><td>4</td><td>falta el nombre; el correo electrónico &#34;no-es-correo&#34; no es una dirección válida</td></tr>",
		"<tr><td>6</td><td>el nombre ocupa más de una línea (líneas 6 a 7); puede que falten unas comillas</td></tr>")
	if strings.Contains(r.body, "is missing") || strings.Contains(r.body, "appears again") {
		t.Error("a skipped line's reason is still in English on the Spanish page")
	}
}

func TestRosterPageFlow(t *testing.T) {
	f := newRosterFixture(t)
	staff, _ := f.ta.Store.UserByEmail(t.Context(), "staff@example.org")
	f.ta.Store.ApplyRoster(t.Context(), f.local.ID, staff.ID, []byte("Member #,First,Last,Email\n"+
		"1001,Luis,Chávez-Nava,luis@example.org\n1002,Ana,Cortés,\n1003,Sam,Okafor,\n1004,Jordan,Reyes,\n"))

	r := f.officer.get("/officer")
	mustContain(t, r.body, "Local 4121", "/officer/locals/4121/roster")
	mustNotContain(t, r.body, "7600")
	r = f.officer.get("/officer/locals/4121/roster")
	mustContain(t, r.body, "Members on the roster: 4", "in good standing: 4 · lapsed: 0", "Last updated", "Chávez-Nava, Luis", `name="roster"`)

	file := "Member #,First,Last,Email,Standing\n" +
		"1001,Luis,Chávez-Nava,,good\n" + // unchanged
		"1002,Ana María,Cortés,ana@example.org,good\n" + // changed
		"1003,Sam,Okafor,,lapsed\n" + // changed: lapsed
		"1005,Eve,Stone,eve@example.org,good\n" + // new
		"1006,Bad,Email,not an email,good\n" // skipped; 1004 is missing: lapsed
	r = f.officer.upload("/officer/locals/4121/roster/uploads", "march.csv", []byte(file))
	loc := r.Header().Get("Location")
	m := uploadPath.FindStringSubmatch(loc)
	if r.Code != http.StatusSeeOther || m == nil || m[1] != "4121" {
		t.Fatalf("upload: %d %q %s", r.Code, loc, r.body)
	}
	r = f.officer.get(loc)
	mustContain(t, r.body, "File: march.csv", "Nothing has changed yet.",
		"add new members: 1", "update members: 2", "mark lapsed the members not in the file: 1", "leave members as they are: 1", "skip lines that could not be read: 1",
		"Stone, Eve", "Cortés, Ana · In good standing", "Cortés, Ana María · ana@example.org", "Reyes, Jordan",
		`<tr><td>6</td><td>email &#34;not an email&#34; is not a valid email address</td></tr>`, "Apply these changes")
	if got := f.roster(t, f.local); strings.Contains(got, "lapsed") || strings.Contains(got, "Eve") {
		t.Fatalf("the preview changed the roster:\n%s", got)
	}

	// Apply, then the double click: applied once, and the second click is
	// told what the first did.
	r = f.officer.follow(t, f.officer.post(loc+"/apply", nil))
	mustContain(t, r.body, "Roster updated. Added: 1, updated: 2, marked lapsed: 1, unchanged: 1, lines skipped: 1.", "Members on the roster: 5", "in good standing: 3 · lapsed: 2")
	mustContain(t, r.body, `<span class="badge lapsed">Lapsed</span>`)
	want := "1001:Luis Chávez-Nava:good\n1002:Ana María Cortés:good\n1003:Sam Okafor:lapsed\n1004:Jordan Reyes:lapsed\n1005:Eve Stone:good\n"
	if got := f.roster(t, f.local); got != want {
		t.Errorf("roster:\n%s\nwant:\n%s", got, want)
	}
	r = f.officer.follow(t, f.officer.post(loc+"/apply", nil))
	mustContain(t, r.body, "This roster file has been applied already (added: 1, updated: 2, marked lapsed: 1, unchanged: 1, lines skipped: 1); nothing more was changed.")
	if n := f.imports(t, f.local); n != 2 {
		t.Errorf("%d imports recorded, want the set-up one and this one", n)
	}
	// The preview of an applied file sends the officer back to the roster.
	mustContain(t, f.officer.follow(t, f.officer.get(loc)).body, "has been applied already")

	// A preview left for more than a day is not applied.
	r = f.officer.upload("/officer/locals/4121/roster/uploads", "april.csv", []byte(file))
	late := r.Header().Get("Location")
	f.ta.DB.MustExec(`UPDATE roster_imports SET created_at = now() - interval '2 days'`)
	mustContain(t, f.officer.follow(t, f.officer.post(late+"/apply", nil)).body, "This upload is more than a day old.")
	if n := f.imports(t, f.local); n != 2 {
		t.Errorf("a stale upload was applied")
	}

	// Search and the lapsed filter.
	r = f.officer.get("/officer/locals/4121/roster?q=cort")
	mustContain(t, r.body, "Cortés, Ana María")
	mustNotContain(t, r.body, "Stone, Eve")
	r = f.officer.get("/officer/locals/4121/roster?standing=lapsed")
	mustContain(t, r.body, "Okafor, Sam", "Reyes, Jordan")
	mustNotContain(t, r.body, "Stone, Eve")

	// No file chosen.
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("other", "x")
	w.Close()
	r = f.officer.do("POST", "/officer/locals/4121/roster/uploads", w.FormDataContentType(), &body)
	if r.Code != http.StatusUnprocessableEntity {
		t.Errorf("no file: %d", r.Code)
	}
	mustContain(t, r.body, "Choose the roster file to upload.")
}

// TestRosterBelongsToItsLocal: an officer of 4121 can neither see nor change
// 7600's roster, by page or API; a member cannot touch any; staff can.
func TestRosterBelongsToItsLocal(t *testing.T) {
	f := newRosterFixture(t)
	ctx := context.Background()
	staffUser, _ := f.ta.Store.UserByEmail(ctx, "staff@example.org")
	replacement := []byte("Card No.,First,Last\n9999,Intruder,Nobody\n")
	// An upload of 7600's, waiting for its preview to be applied.
	id, err := f.ta.Store.SaveRosterUpload(ctx, f.other.ID, staffUser.ID, "7600.csv", replacement)
	if err != nil {
		t.Fatal(err)
	}
	before := f.roster(t, f.other)
	upload := fmt.Sprintf("/officer/locals/7600/roster/uploads/%d", id)

	type attempt struct {
		name string
		do   func(c *client) response
	}
	attempts := []attempt{
		{"view the roster page", func(c *client) response { return c.get("/officer/locals/7600/roster") }},
		{"search the roster", func(c *client) response { return c.get("/officer/locals/7600/roster?q=liu") }},
		{"upload a file", func(c *client) response {
			return c.upload("/officer/locals/7600/roster/uploads", "x.csv", replacement)
		}},
		{"view a preview", func(c *client) response { return c.get(upload) }},
		{"apply a preview", func(c *client) response { return c.post(upload+"/apply", nil) }},
		{"replace by API", func(c *client) response { return c.putCSV("/api/v1/locals/7600/roster", replacement) }},
		{"dry run by API", func(c *client) response { return c.putCSV("/api/v1/locals/7600/roster?dry_run=true", replacement) }},
	}
	for _, who := range []struct {
		name string
		c    *client
	}{{"officer of 4121", f.officer}, {"member", f.member}} {
		for _, a := range attempts {
			r := a.do(who.c)
			if r.Code != http.StatusForbidden {
				t.Errorf("%s could %s: %d", who.name, a.name, r.Code)
			}
			mustNotContain(t, r.body, "Grace", "Liu", "Ibáñez")
		}
	}
	for _, a := range attempts {
		if r := a.do(f.anon); r.Code != http.StatusUnauthorized && r.Code != http.StatusSeeOther {
			t.Errorf("anonymous could %s: %d", a.name, r.Code)
		}
	}
	// Through their own local's address, another local's upload is not found.
	if r := f.officer.post(fmt.Sprintf("/officer/locals/4121/roster/uploads/%d/apply", id), nil); r.Code != http.StatusNotFound {
		t.Errorf("applying 7600's upload as 4121's: %d", r.Code)
	}
	if r := f.member.get("/officer"); r.Code != http.StatusForbidden {
		t.Errorf("member on the officer page: %d", r.Code)
	}
	if after := f.roster(t, f.other); after != before {
		t.Fatalf("7600's roster changed:\n%s", after)
	}
	if u, _ := f.ta.Store.RosterUploadByID(ctx, f.other.ID, id); u.AppliedAt != nil {
		t.Fatal("7600's upload was applied")
	}
	if n := f.imports(t, f.other); n != 1 {
		t.Fatalf("%d imports of 7600", n)
	}

	// 7600's own officer and staff can; the officer sees only their local.
	mustContain(t, f.otherOfficer.get("/officer/locals/7600/roster").body, "Liu, Grace", "Ibáñez, Marta")
	mustNotContain(t, f.otherOfficer.get("/officer").body, "4121")
	r := f.staff.get("/officer")
	mustContain(t, r.body, "All locals", "/officer/locals/4121/roster", "/officer/locals/7600/roster")
	mustContain(t, f.staff.get(upload).body, "Intruder", "mark lapsed the members not in the file: 2")
	r = f.staff.putCSV("/api/v1/locals/7600/roster?dry_run=1", []byte(roster7600))
	if r.Code != http.StatusOK || r.json(t)["unchanged"] != 2.0 {
		t.Errorf("staff dry run: %d %s", r.Code, r.body)
	}
	r = f.otherOfficer.putCSV("/api/v1/locals/7600/roster", []byte(roster7600+"2003,Nia,Okoro\n"))
	if r.Code != http.StatusOK || r.json(t)["added"] != 1.0 || r.json(t)["unchanged"] != 2.0 {
		t.Errorf("own officer: %d %s", r.Code, r.body)
	}
	if r := f.staff.putCSV("/api/v1/locals/9999/roster", []byte(roster7600)); r.Code != http.StatusNotFound {
		t.Errorf("unknown local: %d", r.Code)
	}
	// The API wants the file itself.
	r = f.staff.do("PUT", "/api/v1/locals/7600/roster", "application/json", strings.NewReader(`{"roster":"x"}`))
	if r.Code != http.StatusUnsupportedMediaType || r.errorCode(t) != "unsupported_media_type" {
		t.Errorf("JSON body: %d %s", r.Code, r.body)
	}
	if r := f.staff.putCSV("/api/v1/locals/7600/roster?dry_run=maybe", []byte(roster7600)); r.Code != http.StatusBadRequest {
		t.Errorf("dry_run=maybe: %d", r.Code)
	}
	r = f.staff.putCSV("/api/v1/locals/7600/roster", []byte("Name,Email\nx,y@example.org\n"))
	if missing, _ := r.json(t)["error"].(map[string]any)["missing"].([]any); len(missing) != 3 || missing[0] != "member number" {
		t.Errorf("missing columns not named: %s", r.body)
	}
}
