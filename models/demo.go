package models

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// DemoPassword is the password of every demo account.
const DemoPassword = "convene-demo"

type demoSession struct {
	day                 int // 0 = first day
	start, end          string
	title, titleES      string
	kind, room, speaker string
	capacity            string
}

type demoConference struct {
	in       ConferenceInput
	startIn  int // days from now to the first day
	days     int
	opensIn  int // days from now registration opens (negative: already open)
	closesBy int // days before the first day registration closes
	cats     []CategoryInput
	sessions []demoSession
	status   string
}

// SeedDemo loads demo conferences, locals and people, dated from now. It is
// idempotent: what exists already is left as it is.
func SeedDemo(ctx context.Context, s *Store, now time.Time, log *slog.Logger) error {
	people := []struct {
		email, name    string
		staff, admin   bool
		officerOfLocal string
	}{
		{"admin@convene.example", "Dana Whitfield", true, true, ""},
		{"staff@convene.example", "Priya Natarajan", true, false, ""},
		{"rosa.delgado@convene.example", "Rosa Delgado", false, false, "4121"},
		{"marcus.bell@convene.example", "Marcus Bell", false, false, "7600"},
		{"ana.cortes@convene.example", "Ana Cortés", false, false, ""},
		{"luis.chavez@convene.example", "Luis Chávez-Nava", false, false, ""},
	}
	locals := []LocalInput{
		{"4121", "Harbor City Academic Workers", "UAW", "Region 6", "Seattle"},
		{"7600", "Inland Valley Health Care Workers", "UAW", "Region 6", "Riverside"},
		{"509", "Foothill Public Employees", "UAW", "Region 6", "Fontana"},
		{"2110", "Metro Technical and Office Workers", "UAW", "Region 9A", "New York"},
	}
	for _, l := range locals {
		if _, err := s.CreateLocal(ctx, l); err != nil && !isValidation(err) {
			return err
		}
	}
	for _, p := range people {
		u, err := s.CreateUser(ctx, p.email, p.name, DemoPassword)
		if isValidation(err) {
			continue // already there
		}
		if err != nil {
			return err
		}
		if p.staff || p.admin {
			if err := s.SetRoles(ctx, u.ID, p.staff, p.admin); err != nil {
				return err
			}
		}
		if p.officerOfLocal != "" {
			l, err := s.LocalByNumber(ctx, p.officerOfLocal)
			if err != nil {
				return err
			}
			if err := s.AddOfficer(ctx, u.ID, l.ID); err != nil {
				return err
			}
		}
	}
	for _, d := range demoConferences() {
		if _, err := s.ConferenceBySlug(ctx, d.in.Slug, true); err == nil {
			continue
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := seedConference(ctx, s, now, d); err != nil {
			return fmt.Errorf("demo conference %s: %w", d.in.Slug, err)
		}
		if log != nil {
			log.Info("demo conference added", "slug", d.in.Slug)
		}
	}
	return nil
}

func isValidation(err error) bool {
	var ve *ValidationError
	return errors.As(err, &ve)
}

func seedConference(ctx context.Context, s *Store, now time.Time, d demoConference) error {
	loc, err := LoadZone(d.in.TimeZone)
	if err != nil {
		return err
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	first := today.AddDate(0, 0, d.startIn)
	// Conferences start on a Friday (or the day given when it is a one-day event).
	if d.days > 1 {
		for first.Weekday() != time.Friday {
			first = first.AddDate(0, 0, 1)
		}
	}
	last := first.AddDate(0, 0, d.days-1)
	in := d.in
	in.StartsOn, in.EndsOn = first.Format(DateLayout), last.Format(DateLayout)
	opens := today.AddDate(0, 0, d.opensIn).Add(9 * time.Hour)
	in.RegistrationOpensAt = opens.Format(time.RFC3339)
	in.RegistrationClosesAt = first.AddDate(0, 0, -d.closesBy).Format(DateLayout) // end of that day
	if in.CancellationDeadline == "" {
		in.CancellationDeadline = first.AddDate(0, 0, -d.closesBy-7).Format(DateLayout)
	}
	in.ApprovalDeadline = first.AddDate(0, 0, -d.closesBy+7).Format(DateLayout)
	conf, err := s.CreateConference(ctx, in)
	if err != nil {
		return err
	}
	for _, ci := range d.cats {
		if ci.EarlyUntil == "early" {
			ci.EarlyUntil = opens.AddDate(0, 0, 14).Format(DateLayout)
		}
		if _, err := s.CreateCategory(ctx, conf, ci); err != nil {
			return err
		}
	}
	for _, ds := range d.sessions {
		day := first.AddDate(0, 0, ds.day).Format(DateLayout)
		_, err := s.CreateAgendaSession(ctx, conf, SessionInput{Title: ds.title, TitleES: ds.titleES, Kind: ds.kind,
			StartsAt: day + "T" + ds.start, EndsAt: day + "T" + ds.end, Room: ds.room, Speakers: ds.speaker, Capacity: ds.capacity})
		if err != nil {
			return err
		}
	}
	status := d.status
	if status == "" {
		status = StatusPublished
	}
	_, err = s.SetConferenceStatus(ctx, conf.ID, status)
	return err
}

func demoConferences() []demoConference {
	member := CategoryInput{Slug: "member-delegate", Name: "Member delegate", NameES: "Delegado/a miembro", Price: "150.00",
		EarlyPrice: "125.00", EarlyUntil: "early", RequiresMembership: true, Approver: "officer"}
	retiree := CategoryInput{Slug: "retiree", Name: "Retiree", NameES: "Jubilado/a", Price: "75.00", RequiresMembership: true, Approver: "officer"}
	guest := CategoryInput{Slug: "guest", Name: "Guest", NameES: "Invitado/a", Price: "175.00", Approver: "staff", RequiresApproval: true}
	organizing := CategoryInput{Slug: "organizing-drive-worker", Name: "Organizing-drive worker", NameES: "Trabajador/a en campaña de organización",
		Price: "0", RequiresApproval: true, Approver: "staff"}
	free := CategoryInput{Slug: "member", Name: "Member", NameES: "Miembro", Price: "0", RequiresMembership: true, Approver: "officer"}

	confs := []demoConference{
		{
			in: ConferenceInput{Slug: "region-6-pal-conference", Title: "Region 6 Political Action & Leadership Conference",
				TitleES:       "Conferencia de Acción Política y Liderazgo de la Región 6",
				Description:   "Three days of training for local leaders and activists: member-to-member political organizing, running effective stewards' councils, and planning for the next legislative session. Open to members in good standing and to workers on the region's organizing drives.",
				DescriptionES: "Tres días de capacitación para líderes y activistas locales: organización política de miembro a miembro, consejos de delegados eficaces y planificación para la próxima sesión legislativa. Abierta a miembros al corriente y a trabajadores de las campañas de organización de la región.",
				Venue:         "Pico Rivera Sports Arena Conference Hall", City: "Pico Rivera, CA", TimeZone: "America/Los_Angeles",
				Mode: "in_person", Languages: "en,es", Capacity: "450", Currency: "usd", PaymentDueDays: "14"},
			startIn: 63, days: 3, opensIn: -7, closesBy: 28,
			cats: []CategoryInput{member, retiree, guest, organizing},
			sessions: []demoSession{
				{0, "12:00", "13:30", "Registration and lunch", "Registro y almuerzo", "meal", "Lobby", "", ""},
				{0, "13:30", "15:00", "Opening plenary: Power at the ballot box and the bargaining table", "Plenaria de apertura", "plenary", "Main Hall", "Regional Director Teresa Okafor", ""},
				{0, "15:30", "17:00", "Member-to-member political organizing", "Organización política de miembro a miembro", "workshop", "Room A", "Jordan Reyes", "60"},
				{0, "15:30", "17:00", "Building a stewards' council", "Cómo formar un consejo de delegados", "workshop", "Room B", "Mei-Lin Harper", "60"},
				{1, "08:00", "09:00", "Breakfast", "Desayuno", "meal", "Dining Room", "", ""},
				{1, "09:00", "10:30", "Panel: Winning first contracts", "Panel: Cómo ganar primeros contratos", "panel", "Main Hall", "Ana Ruiz, Kwame Mensah, Lena Svensson", ""},
				{1, "11:00", "12:30", "Caucus meetings by sector", "Reuniones de caucus por sector", "caucus", "Rooms A–D", "", ""},
				{1, "14:00", "16:00", "Legislative priorities for the session", "Prioridades legislativas", "workshop", "Room A", "Samuel Ortega", "80"},
				{2, "09:00", "11:00", "Action planning by local", "Planificación por local", "workshop", "Main Hall", "", ""},
				{2, "11:15", "12:30", "Closing plenary", "Plenaria de clausura", "plenary", "Main Hall", "", ""},
			},
		},
		{
			in: ConferenceInput{Slug: "civil-human-rights-2027", Title: "Civil and Human Rights Conference",
				Description: "Four days of workshops and panels on fighting discrimination on the job, immigrant workers' rights, disability justice and building inclusive locals.",
				Venue:       "Baltimore Convention Center", City: "Baltimore, MD", TimeZone: "America/New_York",
				Mode: "hybrid", Languages: "en", Capacity: "600", Currency: "usd", PaymentDueDays: "21"},
			startIn: 110, days: 4, opensIn: -3, closesBy: 21,
			cats: []CategoryInput{member, retiree, guest},
			sessions: []demoSession{
				{0, "17:00", "19:00", "Welcome reception", "", "meal", "Ballroom II", "", ""},
				{1, "09:00", "10:30", "Opening plenary: Civil rights are workers' rights", "", "plenary", "Ballroom I", "Vice President Harold Mbeki", ""},
				{1, "11:00", "12:30", "Immigrant workers' rights on the job", "", "workshop", "Room 307", "Lucía Fernández", "40"},
				{1, "11:00", "12:30", "Disability justice and reasonable accommodation", "", "workshop", "Room 308", "Sam Whitaker", "40"},
				{1, "14:00", "15:30", "Panel: Bargaining for equity", "", "panel", "Ballroom I", "Grace Liu, Omar Haddad, Tanya Brooks", ""},
				{2, "09:00", "10:30", "Responding to harassment as a steward", "", "workshop", "Room 307", "Keisha Monroe", "40"},
				{2, "11:00", "12:30", "Women's caucus", "", "caucus", "Room 310", "", ""},
				{2, "11:00", "12:30", "LGBTQ+ caucus", "", "caucus", "Room 311", "", ""},
				{3, "09:00", "12:00", "Closing plenary and resolutions", "", "plenary", "Ballroom I", "", ""},
			},
		},
		{
			in: ConferenceInput{Slug: "binational-convening-2027", Title: "Binational Workers' Convening",
				TitleES:       "Encuentro Binacional de Trabajadores",
				Description:   "Workers and organizers from Mexico and the United States meet to share strategies across the border. Held in English and Spanish with simultaneous interpretation.",
				DescriptionES: "Trabajadores y organizadores de México y Estados Unidos se reúnen para compartir estrategias a través de la frontera. En inglés y español con interpretación simultánea.",
				Venue:         "Centro de Convenciones Tlatelolco", City: "Ciudad de México", TimeZone: "America/Mexico_City",
				Mode: "in_person", Languages: "en,es", Capacity: "250", Currency: "mxn"},
			startIn: 140, days: 2, opensIn: 9, closesBy: 30,
			cats: []CategoryInput{
				{Slug: "delegate", Name: "Delegate", NameES: "Delegado/a", Price: "1500.00", RequiresMembership: true, Approver: "officer"},
				{Slug: "observer", Name: "Observer", NameES: "Observador/a", Price: "800.00", Approver: "staff", RequiresApproval: true},
			},
			sessions: []demoSession{
				{0, "09:00", "10:30", "Opening: Solidarity without borders", "Apertura: Solidaridad sin fronteras", "plenary", "Auditorio", "Guadalupe Herrera, Michael Novak", ""},
				{0, "11:00", "13:00", "Supply chains and cross-border organizing", "Cadenas de suministro y organización transfronteriza", "panel", "Sala 1", "Rafael Domínguez, Jenna Park", ""},
				{1, "09:00", "12:00", "Working groups by industry", "Grupos de trabajo por industria", "workshop", "Salas 2–5", "", "120"},
			},
		},
		{
			in: ConferenceInput{Slug: "union-town-hall-call", Title: "Members' Virtual Town Hall", TitleES: "Asamblea virtual de miembros",
				Description:   "A one-hour call with the bargaining committee: where talks stand and what comes next. Join from a phone or computer.",
				DescriptionES: "Una llamada de una hora con el comité de negociación: dónde están las pláticas y qué sigue.",
				TimeZone:      "America/Los_Angeles", Mode: "virtual", JoinURL: "https://meet.example.org/convene-town-hall",
				Languages: "en,es", Currency: "usd"},
			startIn: 12, days: 1, opensIn: -10, closesBy: 1,
			cats: []CategoryInput{free},
			sessions: []demoSession{
				{0, "18:00", "19:00", "Town hall with the bargaining committee", "Asamblea con el comité de negociación", "plenary", "Online", "Bargaining committee", ""},
			},
		},
		{
			in: ConferenceInput{Slug: "contract-campaign-kickoff-2025", Title: "Contract Campaign Kickoff",
				Description: "A day of planning for the contract campaign.", Venue: "Local 7600 Hall", City: "Riverside, CA",
				TimeZone: "America/Los_Angeles", Mode: "in_person", Languages: "en", Currency: "usd"},
			startIn: -300, days: 1, opensIn: -340, closesBy: 3,
			cats: []CategoryInput{free},
			sessions: []demoSession{
				{0, "10:00", "15:00", "Kickoff and planning", "", "plenary", "Main hall", "", ""},
			},
			status: StatusClosed,
		},
	}
	for i, city := range []string{"Riverside", "Ontario", "Corona", "Fontana"} {
		confs = append(confs, demoConference{
			in: ConferenceInput{Slug: "contract-info-" + slugify(city), Title: "Contract negotiations: informational meeting, " + city,
				TitleES:     "Negociación del contrato: reunión informativa, " + city,
				Description: "One hour with your bargaining team: what we are asking for in the upcoming contract negotiations, the timeline, and how you can help. Refreshments provided.",
				Venue:       city + " Community Center", City: city + ", CA", TimeZone: "America/Los_Angeles",
				Mode: "in_person", Languages: "en,es", Capacity: "80", Currency: "usd"},
			startIn: 20 + 3*i, days: 1, opensIn: -2, closesBy: 1,
			cats: []CategoryInput{free},
			sessions: []demoSession{
				{0, "17:30", "18:30", "Informational meeting on contract negotiations", "Reunión informativa sobre la negociación", "plenary", "Hall A", "Bargaining team", ""},
			},
		})
	}
	return confs
}
