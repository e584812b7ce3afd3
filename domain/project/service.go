package project

import (
	"agora/domain/user"
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"agora/domain/activity"
	"agora/domain/errs"
	"agora/domain/feature"
	"agora/domain/group"
	"agora/domain/locale"
	"agora/domain/permission"
	"agora/tenant"
)

// Service manages projects through the scoped transaction.
type Service struct {
	db  *tenant.DB
	now func() time.Time
}

// NewService returns the project service.
func NewService(db *tenant.DB) *Service { return &Service{db: db, now: time.Now} }

const projectColumns = `id, slug, title, description, status, visibility, position, folder_id, header_image, created_at, published_at`

func pqErr(err error) *pq.Error {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// Create adds a project (a draft unless said otherwise). Without a slug it
// gets one from its title, made unique in the city ("fete-du-parc-2").
// Errors: errs.Invalid naming the field, also for a slug in use.
func (s *Service) Create(ctx context.Context, actor user.ID, p Project) (*Project, error) {
	const op = "project.Create"
	// Without a slug, the project is addressed by its title.
	p.Slug = strings.TrimSpace(p.Slug)
	derive := p.Slug == ""
	if derive {
		p.Slug = slugBase(p.Title, cityLocales(ctx))
	}
	if err := CheckProject(op, &p); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		if derive {
			var err error
			if p.Slug, err = freeSlug(ctx, tx, p.Slug, 0); err != nil {
				return err
			}
		}
		err := tx.GetContext(ctx, &p.ID, `INSERT INTO projects (slug, title, description, status, visibility, folder_id, published_at, position)
			VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $4 = 'published' THEN now() END,
				CASE WHEN $7 > 0 THEN $7 ELSE (SELECT coalesce(max(position), 0) + 1 FROM projects) END) RETURNING id`,
			p.Slug, p.Title, p.Description, p.Status, p.Visibility, p.FolderID, p.Position)
		if pe := pqErr(err); pe != nil && pe.Code == "23503" {
			return errs.InvalidField(op, "folder_id", "no folder %d", *p.FolderID).WithRule("unknown_id")
		}
		if pe := pqErr(err); pe != nil && pe.Code == "23505" {
			return errs.InvalidField(op, "slug", "%q is already used by another project", p.Slug).WithRule("slug_taken")
		}
		if err != nil {
			return err
		}
		if err := setLinks(ctx, tx, op, p.ID, p.Topics, p.Areas, p.Groups); err != nil {
			return err
		}
		return logActivity(ctx, tx, actor, "project.created", p.ID)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, strconv.FormatInt(int64(p.ID), 10))
}

// cityLocales are the languages of the city in ctx, its first one first.
func cityLocales(ctx context.Context) []string {
	if t, ok := tenant.FromContext(ctx); ok {
		return t.Locales
	}
	return nil
}

// Patch holds the fields to change; nil leaves a field as it is.
type Patch struct {
	Slug        *string      `json:"slug"`
	Title       *locale.Text `json:"title"`
	Description *locale.Text `json:"description"`
	Status      *Status      `json:"status"`
	Visibility  *string      `json:"visibility"`
	Position    *int         `json:"position"`
	// FolderID moves the project into a folder; 0 takes it out.
	FolderID *int64   `json:"folder_id"`
	Topics   *[]int64 `json:"topics"`
	Areas    *[]int64 `json:"areas"`
	Groups   *[]int64 `json:"groups"`
}

// Update changes a project; an empty slug is derived again from the title,
// as Create does. Errors as Create, errs.NotFound.
func (s *Service) Update(ctx context.Context, actor user.ID, id ID, patch Patch) (*Project, error) {
	const op = "project.Update"
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var p Project
		err := tx.GetContext(ctx, &p, `SELECT `+projectColumns+` FROM projects WHERE id = $1 FOR UPDATE`, id)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(op, errs.NotFound, "no project %d", id)
		}
		if err != nil {
			return err
		}
		was := p.Status
		apply(&p, patch)
		// A slug cleared is one derived again from the (new) title.
		if patch.Slug != nil && strings.TrimSpace(*patch.Slug) == "" {
			if p.Slug, err = freeSlug(ctx, tx, slugBase(p.Title, cityLocales(ctx)), id); err != nil {
				return err
			}
		}
		if err := CheckProject(op, &p); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE projects SET slug = $2, title = $3, description = $4, status = $5, visibility = $6,
			position = $7, folder_id = $8, updated_at = now(),
			published_at = CASE WHEN $5 = 'published' AND published_at IS NULL THEN now() ELSE published_at END
			WHERE id = $1`, id, p.Slug, p.Title, p.Description, p.Status, p.Visibility, p.Position, p.FolderID)
		if pe := pqErr(err); pe != nil && pe.Code == "23505" {
			return errs.InvalidField(op, "slug", "%q is already used by another project", p.Slug).WithRule("slug_taken")
		}
		if pe := pqErr(err); pe != nil && pe.Code == "23503" {
			return errs.InvalidField(op, "folder_id", "no folder %d", *p.FolderID).WithRule("unknown_id")
		}
		if err != nil {
			return err
		}
		if patch.Topics != nil || patch.Areas != nil || patch.Groups != nil {
			if err := setLinks(ctx, tx, op, id, deref(patch.Topics), deref(patch.Areas), deref(patch.Groups), which(patch)...); err != nil {
				return err
			}
		}
		action := "project.updated"
		if was != p.Status {
			action = "project." + string(p.Status)
		}
		return logActivity(ctx, tx, actor, action, id)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, strconv.FormatInt(int64(id), 10))
}

func apply(p *Project, patch Patch) {
	if patch.Slug != nil {
		p.Slug = *patch.Slug
	}
	if patch.Title != nil {
		p.Title = *patch.Title
	}
	if patch.Description != nil {
		p.Description = *patch.Description
	}
	if patch.Status != nil {
		p.Status = *patch.Status
	}
	if patch.Visibility != nil {
		p.Visibility = *patch.Visibility
	}
	if patch.Position != nil {
		p.Position = *patch.Position
	}
	if patch.FolderID != nil {
		p.FolderID = patch.FolderID
		if *patch.FolderID == 0 {
			p.FolderID = nil
		}
	}
}

func deref(p *[]int64) []int64 {
	if p == nil {
		return nil
	}
	return *p
}

// which names the link tables a patch replaces.
func which(p Patch) []string {
	var out []string
	if p.Topics != nil {
		out = append(out, "topics")
	}
	if p.Areas != nil {
		out = append(out, "areas")
	}
	if p.Groups != nil {
		out = append(out, "groups")
	}
	return out
}

var links = []struct{ name, table, column string }{
	{"topics", "project_topics", "topic_id"},
	{"areas", "project_areas", "area_id"},
	{"groups", "project_groups", "group_id"},
}

// setLinks replaces the project's topics, areas and visibility groups (only
// those named in only, or all when only is empty). Unknown ids are a 422
// naming the field (the foreign keys say so).
func setLinks(ctx context.Context, tx *tenant.Tx, op string, id ID, topics, areas, groups []int64, only ...string) error {
	values := map[string][]int64{"topics": topics, "areas": areas, "groups": groups}
	for _, l := range links {
		if len(only) > 0 && !contains(only, l.name) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+l.table+` WHERE project_id = $1`, id); err != nil {
			return err
		}
		if len(values[l.name]) == 0 {
			continue
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO `+l.table+` (project_id, `+l.column+`)
			SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`, id, pq.Int64Array(values[l.name]))
		if pe := pqErr(err); pe != nil && pe.Code == "23503" {
			return errs.InvalidField(op, l.name, "names an id that does not exist").WithRule("unknown_id")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// logActivity records action on project projectID in the activity log.
func logActivity(ctx context.Context, tx *tenant.Tx, actor user.ID, action string, projectID ID) error {
	_, err := activity.Record(ctx, tx, activity.Activity{Actor: int64(actor), Action: action, ItemType: "project", ItemID: int64(projectID),
		ProjectID: int64(projectID)})
	return err
}

// AddPhase appends a phase to a project's timeline. The timeline rules are
// checked here (naming the phases in conflict) and by the database.
// Errors: errs.Invalid, errs.NotFound.
func (s *Service) AddPhase(ctx context.Context, actor user.ID, projectID ID, ph Phase) (*Phase, error) {
	const op = "project.AddPhase"
	if ph.Permissions == nil {
		ph.Permissions = Permissions{}
	}
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		// Rules per action other than the defaults are a plan feature.
		if err := requireRules(ctx, tx, nil, ph.Permissions); err != nil {
			return err
		}
		if err := CheckPhase(op, ph); err != nil {
			return err
		}
		if err := checkMethod(op, ph, ""); err != nil {
			return err
		}
		var exists bool
		if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM projects WHERE id = $1 FOR UPDATE)`, projectID); err != nil {
			return err
		}
		if !exists {
			return errs.E(op, errs.NotFound, "no project %d", projectID)
		}
		var others []Phase
		if err := tx.SelectContext(ctx, &others, selectPhases+` WHERE project_id = $1`, projectID); err != nil {
			return err
		}
		if err := CheckTimeline(op, others, ph); err != nil {
			return err
		}
		err := tx.GetContext(ctx, &ph.ID, `INSERT INTO phases (project_id, title, description, method, starts_at, ends_at,
			posting_enabled, commenting_enabled, reacting_enabled, dislikes_enabled, reaction_limit, permissions)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			projectID, ph.Title, ph.Description, ph.Method, ph.StartsAt, ph.EndsAt, ph.PostingEnabled, ph.CommentingEnabled,
			ph.ReactingEnabled, ph.DislikesEnabled, ph.ReactionLimit, ph.Permissions)
		if pe := pqErr(err); pe != nil && pe.Code == "23P01" {
			return errs.InvalidField(op, "starts_at", "phase %s overlaps another phase of the project", ph.name()).WithRule("overlap_any", ph.Title)
		}
		if err != nil {
			return err
		}
		ph.ProjectID = projectID
		return logActivity(ctx, tx, actor, "phase.created", projectID)
	})
	if err != nil {
		return nil, err
	}
	return &ph, nil
}

const selectPhases = `SELECT id, project_id, title, description, method, starts_at, ends_at, posting_enabled, commenting_enabled,
	reacting_enabled, dislikes_enabled, reaction_limit, permissions FROM phases`

// clampedStart and clampedEnd clamp a phase's stored times into the years a page can show (see
// SensibleDate). The database refuses new phases outside them; a row stored
// before that rule shows at the bound instead of breaking every page that
// lists its project.
const (
	clampedStart = `least(greatest(ph.starts_at, '1900-01-01 00:00:00+00'), '2200-12-31 23:59:59+00')`
	clampedEnd   = `CASE WHEN ph.ends_at IS NOT NULL THEN least(greatest(ph.ends_at, '1900-01-01 00:00:00+00'), '2200-12-31 23:59:59+00') END`
)

// selectProject reads projects with their phases and links in one query:
// the phases as one JSON array (columns named as the Phase's JSON fields),
// the links as arrays.
const selectProject = `SELECT ` + projectColumns + `,
	coalesce((SELECT json_agg(json_build_object('id', ph.id, 'project_id', ph.project_id, 'title', ph.title,
			'description', ph.description, 'method', ph.method, 'starts_at', ` + clampedStart + `, 'ends_at', ` + clampedEnd + `,
			'posting_enabled', ph.posting_enabled, 'commenting_enabled', ph.commenting_enabled,
			'reacting_enabled', ph.reacting_enabled, 'dislikes_enabled', ph.dislikes_enabled,
			'reaction_limit', ph.reaction_limit, 'permissions', ph.permissions) ORDER BY ph.starts_at)
		FROM phases ph WHERE ph.project_id = projects.id), '[]') AS phases,
	ARRAY(SELECT topic_id FROM project_topics WHERE project_id = projects.id ORDER BY 1) AS topics,
	ARRAY(SELECT area_id FROM project_areas WHERE project_id = projects.id ORDER BY 1) AS areas,
	ARRAY(SELECT group_id FROM project_groups WHERE project_id = projects.id ORDER BY 1) AS groups,
	ARRAY(SELECT user_id FROM project_moderators WHERE project_id = projects.id ORDER BY 1) AS moderators
	FROM projects`

// Get returns a project by id or slug, with its phases and links (one
// query). Errors: errs.NotFound.
func (s *Service) Get(ctx context.Context, idOrSlug string) (*Project, error) {
	var p *Project
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var err error
		p, err = load(ctx, tx, idOrSlug)
		return err
	})
	return p, err
}

// View returns a project by id or slug when actor may see it (CanView),
// the one way pages and the API show a project. Errors: errs.NotFound, also
// for a project the actor may not see.
func (s *Service) View(ctx context.Context, a permission.Actor, idOrSlug string) (*Project, error) {
	var p *Project
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var err error
		if p, err = load(ctx, tx, idOrSlug); err != nil {
			return err
		}
		if a, err = Known(ctx, tx, a); err != nil {
			return err
		}
		if !CanView(*p, a, time.Now()) {
			return errs.E("project.View", errs.NotFound, "no project %q", idOrSlug)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Load reads project id with its phases and links on q, a transaction of
// the project's city: for a write that decides on the project inside its
// own transaction. Errors: errs.NotFound.
func Load(ctx context.Context, q sqlx.QueryerContext, id ID) (*Project, error) {
	return load(ctx, q, strconv.FormatInt(int64(id), 10))
}

func load(ctx context.Context, q sqlx.QueryerContext, idOrSlug string) (*Project, error) {
	var p Project
	id, _ := strconv.ParseInt(idOrSlug, 10, 64)
	err := sqlx.GetContext(ctx, q, &p, selectProject+` WHERE id = $1 OR slug = $2 ORDER BY id = $1 DESC LIMIT 1`, id, idOrSlug)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E("project.Get", errs.NotFound, "no project %q", idOrSlug)
	}
	if err != nil {
		return nil, err
	}
	p.ready()
	return &p, nil
}

// VisibleTo lists, on q, the ids of the projects actor may see (CanView):
// what every list of the portal is limited to. The actor's memberships are
// read only if some project is not open to them without.
func VisibleTo(ctx context.Context, q sqlx.QueryerContext, a permission.Actor) ([]int64, error) {
	var ps []Project
	if err := sqlx.SelectContext(ctx, q, &ps, `SELECT id, status, visibility,
		ARRAY(SELECT group_id FROM project_groups WHERE project_id = projects.id ORDER BY 1) AS groups FROM projects`); err != nil {
		return nil, err
	}
	ids := []int64{}
	now := time.Now()
	for _, p := range ps {
		ok, err := canView(ctx, q, &a, p, now)
		if err != nil {
			return nil, err
		}
		if ok {
			ids = append(ids, int64(p.ID))
		}
	}
	return ids, nil
}

// Sees reports, on q, whether actor may see project id (CanView) and
// whether anyone at all may (Public). It reads the project's visibility,
// not its phases, and the actor's memberships only when the project is not
// open to them without. Errors: errs.NotFound for no such project.
func Sees(ctx context.Context, q sqlx.QueryerContext, a permission.Actor, id ID) (visible, public bool, err error) {
	var p Project
	err = sqlx.GetContext(ctx, q, &p, `SELECT id, status, visibility,
		ARRAY(SELECT group_id FROM project_groups WHERE project_id = projects.id ORDER BY 1) AS groups
		FROM projects WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, errs.E("project.Sees", errs.NotFound, "no project %d", id)
	}
	if err != nil {
		return false, false, err
	}
	visible, err = canView(ctx, q, &a, p, time.Now())
	return visible, p.Public(), err
}

// canView is CanView, completing *a with its memberships on q the first
// time they could matter. Memberships only ever add sight, so a project
// the actor sees without them needs no read.
func canView(ctx context.Context, q sqlx.QueryerContext, a *permission.Actor, p Project, now time.Time) (bool, error) {
	if ok := CanView(p, *a, now); ok || a.Anonymous() || a.Known {
		return ok, nil
	}
	known, err := WithMemberships(ctx, q, *a)
	if err != nil {
		return false, err
	}
	*a = known
	return CanView(p, known, now), nil
}

// ready makes a project read from the database whole: lists never nil.
func (p *Project) ready() {
	for _, l := range []*pq.Int64Array{&p.Topics, &p.Areas, &p.Groups, &p.Moderators} {
		if *l == nil {
			*l = pq.Int64Array{}
		}
	}
	if p.Phases == nil {
		p.Phases = Phases{}
	}
}

// Filter narrows a project list.
type Filter struct {
	Status Status // "" for any
	Topic  int64
	Area   int64
	Folder int64
}

// List returns projects in manual order with their phases and links, in
// one query whatever their number.
func (s *Service) List(ctx context.Context, f Filter) ([]Project, error) {
	var out []Project
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.SelectContext(ctx, &out, selectProject+`
			WHERE ($1 = '' OR status = $1)
			  AND ($2::bigint = 0 OR id IN (SELECT project_id FROM project_topics WHERE topic_id = $2))
			  AND ($3::bigint = 0 OR id IN (SELECT project_id FROM project_areas WHERE area_id = $3))
			  AND ($4::bigint = 0 OR folder_id = $4)
			ORDER BY position, id`, string(f.Status), f.Topic, f.Area, f.Folder)
	})
	for i := range out {
		out[i].ready()
	}
	return out, err
}

// ListVisible is List kept to the projects actor may see (CanView).
func (s *Service) ListVisible(ctx context.Context, a permission.Actor, f Filter) ([]Project, error) {
	ps, err := s.List(ctx, f)
	if err == nil {
		err = s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
			var err error
			a, err = Known(ctx, tx, a)
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	return Visible(ps, a, time.Now()), nil
}

// Visible keeps the projects actor may see: published ones by visibility,
// and everything for staff of the project.
func Visible(ps []Project, a permission.Actor, now time.Time) []Project {
	out := make([]Project, 0, len(ps))
	for _, p := range ps {
		if CanView(p, a, now) {
			out = append(out, p)
		}
	}
	return out
}

// CanView reports whether actor may see project p: drafts and archived
// projects only to its staff, published ones by their visibility.
func CanView(p Project, a permission.Actor, now time.Time) bool {
	if p.Status != Published && !(a.UserID != 0 && a.Staff(int64(p.ID))) {
		return p.Status == Archived && permission.Can(a, permission.View, scopeOf(p), now).OK()
	}
	return permission.Can(a, permission.View, scopeOf(p), now).OK()
}

func scopeOf(p Project) permission.Scope {
	return permission.Scope{ProjectID: int64(p.ID), Visibility: permission.Visibility(p.Visibility), VisibilityGroups: p.Groups}
}

// Known is a with their memberships: as they are when already read (in the
// same read transaction), read on q otherwise.
func Known(ctx context.Context, q sqlx.QueryerContext, a permission.Actor) (permission.Actor, error) {
	if a.Anonymous() || a.Known {
		return a, nil
	}
	return WithMemberships(ctx, q, a)
}

// WithMemberships completes an actor with the projects they moderate and
// the groups they belong to (manual and smart), read on q.
func WithMemberships(ctx context.Context, q sqlx.QueryerContext, a permission.Actor) (permission.Actor, error) {
	var err error
	if a.ModeratorOf, err = ModeratedBy(ctx, q, a.UserID); err != nil {
		return a, err
	}
	a.Groups, err = group.Of(ctx, q, a.UserID)
	a.Known = err == nil
	return a, err
}

// ModeratedBy returns the ids of the projects user moderates, on q. While
// the city may not use project moderators (its plan lacks the feature, or
// its admins turned it off) the role has no powers: none, though the
// assignments stay for when the feature comes back.
func ModeratedBy(ctx context.Context, q sqlx.QueryerContext, userID int64) ([]int64, error) {
	if on, err := feature.On(ctx, q, feature.ProjectModerators); !on || err != nil {
		return nil, err
	}
	var ids []int64
	err := sqlx.SelectContext(ctx, q, &ids, `SELECT project_id FROM project_moderators WHERE user_id = $1 ORDER BY project_id`, userID)
	return ids, err
}
