package feature

import (
	"context"
	"slices"

	"github.com/jmoiron/sqlx"

	"agora/domain/activity"
	"agora/domain/errs"
	"agora/tenant"
)

// Flag is one feature as a city's admins see it: whether the plan allows
// it, whether it is on, the plan that has it, and whether this release of
// Agora has it at all.
type Flag struct {
	Key     Key         `json:"key"`
	Allowed bool        `json:"allowed"`
	Enabled bool        `json:"enabled"`          // built, allowed and not turned off by the admins
	Plan    tenant.Plan `json:"plan"`             // the lowest plan that has it
	Coming  bool        `json:"coming,omitempty"` // not built yet (Built): never on, not offered
}

// Service reads and changes a city's feature toggles.
type Service struct{ db *tenant.DB }

// NewService returns the feature service.
func NewService(db *tenant.DB) *Service { return &Service{db: db} }

// Flags lists every feature of the context's city, in the order of Keys.
func (s *Service) Flags(ctx context.Context) ([]Flag, error) {
	t, _ := tenant.FromContext(ctx)
	off, err := s.off(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Flag, 0, len(allKeys))
	for _, k := range allKeys {
		allowed := t.Allows(string(k))
		out = append(out, Flag{Key: k, Allowed: allowed, Enabled: built[k] && allowed && !slices.Contains(off, string(k)),
			Plan: minPlan[k], Coming: !built[k]})
	}
	return out, nil
}

// off lists the features the city's admins turned off.
func (s *Service) off(ctx context.Context) ([]string, error) {
	var off []string
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var err error
		off, err = offIn(ctx, tx)
		return err
	})
	return off, err
}

// offIn lists the features the city's admins turned off, on q (a city
// transaction), memoised in ctx when it has a memo.
func offIn(ctx context.Context, q sqlx.QueryerContext) ([]string, error) {
	m, _ := ctx.Value(memoKey{}).(*memo)
	if m != nil && m.loaded {
		return m.off, nil
	}
	var off []string
	err := sqlx.SelectContext(ctx, q, &off, `SELECT feature FROM feature_settings WHERE NOT enabled ORDER BY feature`)
	if err == nil && m != nil {
		m.off, m.loaded = off, true
	}
	return off, err
}

// On reports, on q (a transaction of the context's city), whether the city
// may use k now: what Enabled decides, for code that already holds a
// transaction and must decide inside it (a role's powers, a digest's
// recipients).
func On(ctx context.Context, q sqlx.QueryerContext, k Key) (bool, error) {
	err := EnabledIn(ctx, q, k)
	if errs.CodeOf(err) == errs.FeatureUnavailable {
		return false, nil
	}
	return err == nil, err
}

// EnabledIn is Enabled on q, a transaction of the context's city: for a
// write that needs the feature, decided inside the write.
func EnabledIn(ctx context.Context, q sqlx.QueryerContext, k Key) error {
	t, _ := tenant.FromContext(ctx)
	if err := Require(t, k); err != nil {
		return err
	}
	off, err := offIn(ctx, q)
	if err != nil {
		return err
	}
	return turnedOff(k, off)
}

// turnedOff is the error of a feature the city's admins turned off, or nil.
func turnedOff(k Key, off []string) error {
	if slices.Contains(off, string(k)) {
		return errs.E("feature.Enabled", errs.FeatureUnavailable, "%s is turned off by this city's admins", k).WithRule("feature_off", string(k))
	}
	return nil
}

// memoKey holds, in a request's context, the features its city turned off,
// read once for the whole request.
type memoKey struct{}

type memo struct {
	off    []string
	loaded bool
}

// WithMemo returns a context in which Enabled reads the admins' choices at
// most once (a request's context: the choices do not change within it).
func WithMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, memoKey{}, &memo{})
}

// offOnce is off, memoised in the context when it has a memo.
func (s *Service) offOnce(ctx context.Context) ([]string, error) {
	if m, _ := ctx.Value(memoKey{}).(*memo); m != nil && m.loaded {
		return m.off, nil
	}
	return s.off(ctx) // offIn memoises
}

// Enabled returns nil when the city may use k now: the plan allows it and
// its admins did not turn it off. Otherwise errs.FeatureUnavailable.
func (s *Service) Enabled(ctx context.Context, k Key) error {
	t, _ := tenant.FromContext(ctx)
	if err := Require(t, k); err != nil {
		return err
	}
	off, err := s.offOnce(ctx)
	if err != nil {
		return err
	}
	return turnedOff(k, off)
}

// Check reports whether the city may set feature k to enabled: the key must
// exist, and only what this release has built and the plan allows can be
// turned on (turning off is always possible).
func Check(t *tenant.Tenant, k Key, enabled bool) error {
	if _, ok := minPlan[k]; !ok {
		return errs.InvalidField("feature.Set", "key", "%q is not a feature", k).WithRule("unknown_feature")
	}
	if !enabled {
		return nil
	}
	if !built[k] {
		return errs.InvalidField("feature.Set", string(k), "%s is not available in Agora yet", k).WithRule("feature_not_built", string(k))
	}
	return Require(t, k)
}

// Set turns a feature on or off for the city. Admins may only turn on what
// is built and the plan allows. Errors: errs.Invalid for an unknown key or
// a feature not built yet, errs.FeatureUnavailable for a feature outside
// the plan.
func (s *Service) Set(ctx context.Context, actor int64, k Key, enabled bool) error {
	return s.SetMany(ctx, actor, map[Key]bool{k: enabled})
}

// SetMany applies several changes in one transaction: every key is checked
// first, and either all change or none does.
func (s *Service) SetMany(ctx context.Context, actor int64, changes map[Key]bool) error {
	t, _ := tenant.FromContext(ctx)
	keys := make([]Key, 0, len(changes))
	for k := range changes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := Check(t, k, changes[k]); err != nil {
			return err
		}
	}
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		for _, k := range keys {
			enabled := changes[k]
			if _, err := tx.ExecContext(ctx, `INSERT INTO feature_settings (feature, enabled, updated_by) VALUES ($1, $2, nullif($3, 0))
			ON CONFLICT (feature) DO UPDATE SET enabled = excluded.enabled, updated_by = excluded.updated_by, updated_at = now()`,
				string(k), enabled, actor); err != nil {
				return err
			}
			action := "feature.disabled"
			if enabled {
				action = "feature.enabled"
			}
			if _, err := activity.Record(ctx, tx, activity.Activity{Actor: actor, Action: action, ItemType: "feature",
				Payload: map[string]any{"feature": string(k)}}); err != nil {
				return err
			}
		}
		return nil
	})
}
