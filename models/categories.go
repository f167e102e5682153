package models

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// Category is a registration type of a conference, with its price and rules.
type Category struct {
	ID                 int64      `db:"id"`
	ConferenceID       int64      `db:"conference_id"`
	Slug               string     `db:"slug"`
	Name               string     `db:"name"`
	NameES             string     `db:"name_es"`
	PriceCents         int64      `db:"price_cents"`
	EarlyPriceCents    *int64     `db:"early_price_cents"`
	EarlyUntil         *time.Time `db:"early_until"`
	Capacity           *int       `db:"capacity"`
	Taken              int        `db:"taken"`
	RequiresMembership bool       `db:"requires_membership"`
	RequiresApproval   bool       `db:"requires_approval"`
	Approver           string     `db:"approver"`
	Position           int        `db:"position"`
}

const categoryColumns = `id, conference_id, slug, name, name_es, price_cents, early_price_cents, early_until,
	capacity, taken, requires_membership, requires_approval, approver, position`

// PriceAt is what registering at instant t costs: the early-bird price until
// its date has passed.
func (c Category) PriceAt(t time.Time) int64 {
	if c.EarlyPriceCents != nil && c.EarlyUntil != nil && !t.After(*c.EarlyUntil) {
		return *c.EarlyPriceCents
	}
	return c.PriceCents
}

// SeatsLeft is the number of seats still free in the category, or -1 when unlimited.
func (c Category) SeatsLeft() int {
	if c.Capacity == nil {
		return -1
	}
	return max(*c.Capacity-c.Taken, 0)
}

// CategoryInput is a category as typed into a form or sent to the API.
// Prices are decimal amounts ("125.00"); the API's cents are converted by the caller.
type CategoryInput struct {
	Slug, Name, NameES, Price, EarlyPrice, EarlyUntil, Capacity, Approver string
	RequiresMembership, RequiresApproval                                  bool
}

// Input returns the category as form values.
func (c Category) Input(conf Conference) CategoryInput {
	in := CategoryInput{Slug: c.Slug, Name: c.Name, NameES: c.NameES, Price: FormatMoney(c.PriceCents),
		Approver: c.Approver, RequiresMembership: c.RequiresMembership, RequiresApproval: c.RequiresApproval}
	if c.EarlyPriceCents != nil {
		in.EarlyPrice = FormatMoney(*c.EarlyPriceCents)
	}
	if c.EarlyUntil != nil {
		in.EarlyUntil = formLocal(*c.EarlyUntil, conf.Location())
	}
	if c.Capacity != nil {
		in.Capacity = itoa(*c.Capacity)
	}
	return in
}

func parsePrice(p Problems, field, s string, required bool) *int64 {
	if strings.TrimSpace(s) == "" {
		if required {
			zero := int64(0)
			return &zero
		}
		return nil
	}
	c, err := ParseMoney(s)
	switch {
	case err != nil:
		p.Add(field, "Enter an amount like 125.00.")
		return nil
	case c < 0:
		p.Add(field, "A price cannot be negative.")
		return nil
	}
	return &c
}

// Parse checks a category against its conference.
func (in CategoryInput) Parse(conf Conference) (Category, error) {
	p := Problems{}
	c := Category{ConferenceID: conf.ID, Slug: strings.ToLower(strings.TrimSpace(in.Slug)), Name: strings.TrimSpace(in.Name),
		NameES: strings.TrimSpace(in.NameES), RequiresMembership: in.RequiresMembership,
		RequiresApproval: in.RequiresApproval, Approver: strings.TrimSpace(in.Approver)}
	if c.Name == "" {
		p.Add("name", "Enter a name, like Member delegate.")
	}
	if c.Slug == "" {
		c.Slug = slugify(c.Name)
	}
	if !slugRE.MatchString(c.Slug) || len(c.Slug) > 60 {
		p.Add("slug", "Use only lower-case letters, digits and single dashes.")
	}
	if price := parsePrice(p, "price", in.Price, true); price != nil {
		c.PriceCents = *price
	}
	c.EarlyPriceCents = parsePrice(p, "early_price", in.EarlyPrice, false)
	if strings.TrimSpace(in.EarlyUntil) != "" {
		t, err := ParseInstant(in.EarlyUntil, conf.Location(), true)
		if err != nil {
			p.Add("early_until", "Enter a date and time like 2026-11-15T23:59.")
		} else {
			c.EarlyUntil = &t
			if t.After(conf.RegistrationClosesAt) {
				p.Add("early_until", "The early-bird price must end before registration closes.")
			}
		}
	}
	if (c.EarlyPriceCents == nil) != (c.EarlyUntil == nil) && p["early_price"] == "" && p["early_until"] == "" {
		p.Add("early_until", "Give both an early-bird price and the date it ends, or neither.")
	}
	if c.EarlyPriceCents != nil && *c.EarlyPriceCents > c.PriceCents {
		p.Add("early_price", "The early-bird price should not be more than the regular price.")
	}
	c.Capacity = optionalInt(p, "capacity", in.Capacity)
	if c.Approver == "" {
		c.Approver = "officer"
	}
	if c.Approver != "officer" && c.Approver != "staff" {
		p.Add("approver", "Choose officer or staff.")
	}
	return c, p.Err()
}

var errDuplicateCategory = &ValidationError{Fields: map[string]string{"slug": "This conference already has a category with this short name."}}

// CreateCategory adds a category to a conference.
func (s *Store) CreateCategory(ctx context.Context, conf Conference, in CategoryInput) (Category, error) {
	c, err := in.Parse(conf)
	if err != nil {
		return c, err
	}
	err = s.db.GetContext(ctx, &c, `INSERT INTO categories (conference_id, slug, name, name_es, price_cents,
		early_price_cents, early_until, capacity, requires_membership, requires_approval, approver, position)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,
			(SELECT coalesce(max(position), 0) + 1 FROM categories WHERE conference_id = $1))
		RETURNING `+categoryColumns,
		conf.ID, c.Slug, c.Name, c.NameES, c.PriceCents, c.EarlyPriceCents, c.EarlyUntil, c.Capacity,
		c.RequiresMembership, c.RequiresApproval, c.Approver)
	if isUniqueViolation(err, "") {
		return c, errDuplicateCategory
	}
	return c, err
}

// UpdateCategory replaces a category's fields.
func (s *Store) UpdateCategory(ctx context.Context, conf Conference, id int64, in CategoryInput) (Category, error) {
	c, err := in.Parse(conf)
	if err != nil {
		return c, err
	}
	err = s.db.GetContext(ctx, &c, `UPDATE categories SET slug=$3, name=$4, name_es=$5, price_cents=$6,
		early_price_cents=$7, early_until=$8, capacity=$9, requires_membership=$10, requires_approval=$11, approver=$12
		WHERE id = $1 AND conference_id = $2 RETURNING `+categoryColumns,
		id, conf.ID, c.Slug, c.Name, c.NameES, c.PriceCents, c.EarlyPriceCents, c.EarlyUntil, c.Capacity,
		c.RequiresMembership, c.RequiresApproval, c.Approver)
	if isUniqueViolation(err, "") {
		return c, errDuplicateCategory
	}
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, err
	}
	if s.seatsRaised(ctx, conf.ID) {
		// The line moved on: the counts the update returned are old.
		if now, err := s.Category(ctx, conf.ID, id); err == nil {
			c = now
		}
	}
	return c, nil
}

// Categories lists a conference's categories in their display order.
func (s *Store) Categories(ctx context.Context, conferenceID int64) ([]Category, error) {
	var cs []Category
	err := s.sel(ctx, nil, &cs, `SELECT `+categoryColumns+` FROM categories WHERE conference_id = $1 ORDER BY position, id`, conferenceID)
	return cs, err
}

// Category loads one category of a conference.
func (s *Store) Category(ctx context.Context, conferenceID, id int64) (Category, error) {
	var c Category
	err := s.db.GetContext(ctx, &c, `SELECT `+categoryColumns+` FROM categories WHERE conference_id = $1 AND id = $2`, conferenceID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}
