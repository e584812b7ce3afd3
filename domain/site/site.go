// Package site is a city's portal identity: its settings and branding, its
// static pages and its topics.
package site

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"agora/domain/errs"
	"agora/domain/locale"
	"agora/tenant"
)

// Settings is the city's one row of portal settings.
type Settings struct {
	Name              string      `db:"name" json:"name"`
	Welcome           locale.Text `db:"welcome" json:"welcome"`
	PrimaryColor      string      `db:"primary_color" json:"primary_color"`
	AccentColor       string      `db:"accent_color" json:"accent_color"`
	LogoPath          string      `db:"logo_path" json:"-"`
	RegistrationMode  string      `db:"registration_mode" json:"registration_mode"`
	ForceLogin        bool        `db:"force_login" json:"force_login"`
	PasswordMinLength int         `db:"password_min_length" json:"password_min_length"`
	UpdatedAt         time.Time   `db:"updated_at" json:"updated_at"`
}

// Page is one static page of the city.
type Page struct {
	ID       int64       `db:"id" json:"id"`
	Slug     string      `db:"slug" json:"slug"`
	Title    locale.Text `db:"title" json:"title"`
	Body     locale.Text `db:"body" json:"body"`
	Position int         `db:"position" json:"position"`
}

// Topic is one of the city's themes that projects and ideas are tagged with.
type Topic struct {
	ID       int64       `db:"id" json:"id"`
	Code     string      `db:"code" json:"code"`
	Title    locale.Text `db:"title" json:"title"`
	Position int         `db:"position" json:"position"`
}

// Home is what the portal's front page shows.
type Home struct {
	Settings Settings
	Pages    []Page
	Topics   []Topic
	Areas    []Area
}

// Area is a part of the city that projects concern.
type Area struct {
	ID    int64       `db:"id" json:"id"`
	Title locale.Text `db:"title" json:"title"`
}

const (
	selectSettings = `SELECT name, welcome, primary_color, accent_color, logo_path, registration_mode,
	       force_login, password_min_length, updated_at FROM settings`
	selectPages  = `SELECT id, slug, title, body, position FROM pages ORDER BY position, id`
	selectPage   = `SELECT id, slug, title, body, position FROM pages WHERE slug = $1`
	selectTopics = `SELECT id, code, title, position FROM topics ORDER BY position, id`
	selectAreas  = `SELECT id, title FROM areas ORDER BY position, id`
)

// GetSettings reads the settings row on q (a city-scoped transaction).
func GetSettings(ctx context.Context, q sqlx.QueryerContext) (Settings, error) {
	var s Settings
	err := sqlx.GetContext(ctx, q, &s, selectSettings)
	return s, err
}

// Service reads and changes a city's site through the scoped transaction.
type Service struct {
	db *tenant.DB
}

// NewService returns a site Service.
func NewService(db *tenant.DB) *Service { return &Service{db: db} }

// Settings returns the city's settings (one query).
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	var out Settings
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var err error
		out, err = GetSettings(ctx, tx)
		return err
	})
	return out, err
}

// Home returns settings, pages, topics and areas in one query (the lists
// as JSON arrays).
func (s *Service) Home(ctx context.Context) (Home, error) {
	var row struct {
		Settings
		Pages  json.RawMessage `db:"pages"`
		Topics json.RawMessage `db:"topics"`
		Areas  json.RawMessage `db:"areas"`
	}
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &row, `SELECT name, welcome, primary_color, accent_color, logo_path, registration_mode,
			force_login, password_min_length, updated_at,
			coalesce((SELECT json_agg(json_build_object('id', id, 'slug', slug, 'title', title, 'body', body, 'position', position)
				ORDER BY position, id) FROM pages), '[]') AS pages,
			coalesce((SELECT json_agg(json_build_object('id', id, 'code', code, 'title', title, 'position', position)
				ORDER BY position, id) FROM topics), '[]') AS topics,
			coalesce((SELECT json_agg(json_build_object('id', id, 'title', title)
				ORDER BY position, id) FROM areas), '[]') AS areas
			FROM settings`)
	})
	if err != nil {
		return Home{}, err
	}
	h := Home{Settings: row.Settings}
	for _, l := range []struct {
		raw json.RawMessage
		dst any
	}{{row.Pages, &h.Pages}, {row.Topics, &h.Topics}, {row.Areas, &h.Areas}} {
		if err := json.Unmarshal(l.raw, l.dst); err != nil {
			return Home{}, fmt.Errorf("site.Home: %w", err)
		}
	}
	return h, nil
}

// Areas lists the city's areas.
func (s *Service) Areas(ctx context.Context) ([]Area, error) {
	var out []Area
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error { return tx.SelectContext(ctx, &out, selectAreas) })
	return out, err
}

// AddArea creates an area after the others. Errors: errs.Invalid naming the field.
func (s *Service) AddArea(ctx context.Context, title locale.Text) (*Area, error) {
	if err := locale.CheckTitle("site.AddArea", "title", title); err != nil {
		return nil, err
	}
	a := Area{Title: title}
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &a.ID, `INSERT INTO areas (title, position) VALUES ($1, (SELECT coalesce(max(position), 0) + 1 FROM areas)) RETURNING id`, title)
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// Pages lists the city's static pages.
func (s *Service) Pages(ctx context.Context) ([]Page, error) {
	var out []Page
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error { return tx.SelectContext(ctx, &out, selectPages) })
	return out, err
}

// Topics lists the city's topics.
func (s *Service) Topics(ctx context.Context) ([]Topic, error) {
	var out []Topic
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error { return tx.SelectContext(ctx, &out, selectTopics) })
	return out, err
}

// Page returns the page with slug, with the settings for the layout.
// Errors: errs.NotFound.
func (s *Service) Page(ctx context.Context, slug string) (Page, error) {
	var p Page
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error { return tx.GetContext(ctx, &p, selectPage, slug) })
	if errors.Is(err, sql.ErrNoRows) {
		return p, errs.E("site.Page", errs.NotFound, "no page %q", slug)
	}
	return p, err
}
