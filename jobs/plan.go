package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/lib/pq"

	"agora/domain/email"
	"agora/domain/feature"
	"agora/domain/locale"
	"agora/domain/site"
	"agora/tenant"
	"agora/web/i18n"
)

// Task types of license tiers.
const (
	// TypeApplyPlan applies a city's new plan or overrides: every node
	// reloads the city, the change is logged and the admins are told.
	TypeApplyPlan = tenant.TaskApplyPlan
	// TypeTrialTick (daily) moves cities whose trial ended to essential.
	TypeTrialTick = "tenant:trial_tick"
)

func init() { platformTypes[TypeTrialTick] = true }

// ApplyPlanPayload is the payload of TypeApplyPlan.
type ApplyPlanPayload struct {
	Payload
	From  tenant.Plan `json:"from"`
	To    tenant.Plan `json:"to"`
	Event string      `json:"event"` // names this change, for the email ledger
}

// Plans runs the license-tier tasks.
type Plans struct {
	db        *tenant.DB
	reg       *tenant.Registry
	ops       *tenant.Operations
	sender    email.Sender
	composer  *email.Composer
	portalURL func(host string) string
	names     *locale.Catalog // feature names, from the portal's strings
	now       func() time.Time
}

// NewPlans returns the license-tier handlers.
func NewPlans(db *tenant.DB, reg *tenant.Registry, ops *tenant.Operations, sender email.Sender, portalURL func(string) string) (*Plans, error) {
	c, err := email.NewComposer()
	if err != nil {
		return nil, err
	}
	names, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	return &Plans{db: db, reg: reg, ops: ops, sender: sender, composer: c, portalURL: portalURL, names: names, now: time.Now}, nil
}

// planChange is what the admins' email says.
type planChange struct {
	From, To     tenant.Plan
	Lost, Gained []string // feature keys
	// LostNames and GainedNames are the features' names in the admin's language.
	LostNames, GainedNames []string
}

// in returns the change with feature names in locale.
func (ch planChange) in(names *locale.Catalog, loc string) planChange {
	ch.LostNames, ch.GainedNames = nil, nil
	for _, k := range ch.Lost {
		ch.LostNames = append(ch.LostNames, names.T(loc, "feature."+k))
	}
	for _, k := range ch.Gained {
		ch.GainedNames = append(ch.GainedNames, names.T(loc, "feature."+k))
	}
	return ch
}

// Apply refreshes every node's view of the city, records what changed in
// the city's activity log and emails its admins, each exactly once per
// change (the ledger's event is the task's id). Features the city no longer
// has are only locked: their data and the admins' toggles stay, so an
// upgrade brings everything back.
func (p *Plans) Apply(ctx context.Context, task *asynq.Task) error {
	var pl ApplyPlanPayload
	if err := json.Unmarshal(task.Payload(), &pl); err != nil || pl.Event == "" {
		return fmt.Errorf("apply plan payload %s: %w", task.Payload(), asynq.SkipRetry)
	}
	event := pl.Event
	t, _ := tenant.FromContext(ctx)
	if err := p.ops.Announce(ctx, t.ID); err != nil {
		return err
	}
	t, err := p.reg.Get(ctx, t.ID) // as it is now, after the change
	if err != nil {
		return err
	}
	ctx = tenant.WithTenant(ctx, t)
	ch := planChange{From: pl.From, To: t.Plan}
	for _, k := range feature.Keys() {
		had, has := feature.Allowed(pl.From, k), t.Allows(string(k))
		switch {
		case had && !has:
			ch.Lost = append(ch.Lost, string(k))
		case !had && has:
			ch.Gained = append(ch.Gained, string(k))
		}
	}
	type admin struct {
		ID        int64  `db:"id"`
		Email     string `db:"email"`
		FirstName string `db:"first_name"`
		Locale    string `db:"locale"`
	}
	var admins []admin
	var settings site.Settings
	err = p.db.InTx(ctx, func(tx *tenant.Tx) error {
		var err error
		if settings, err = site.GetSettings(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO activities (action, item_type, item_id, payload)
			SELECT 'plan.applied', 'city', 0, jsonb_build_object('from', $1::text, 'to', $2::text, 'lost', $3::text[], 'gained', $4::text[], 'task', $5::text)
			WHERE NOT EXISTS (SELECT 1 FROM activities WHERE action = 'plan.applied' AND payload->>'task' = $5)`,
			string(ch.From), string(ch.To), pq.StringArray(ch.Lost), pq.StringArray(ch.Gained), event); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &admins, `SELECT id, email, first_name, locale FROM users
			WHERE role = 'admin' AND deleted_at IS NULL AND email IS NOT NULL ORDER BY id`)
	})
	if err != nil {
		return err
	}
	// Each admin once per change (the ledger's event is the change), in
	// their language; a failed send does not stop the others.
	post := cityPost{t: t, settings: settings, base: p.portalURL(t.PrimaryHost)}
	parcels := make([]parcel, len(admins))
	for i, a := range admins {
		locale := a.Locale
		if locale == "" {
			locale = t.DefaultLocale()
		}
		parcels[i] = parcel{campaign: "plan_changed", event: event, to: a.Email, userID: a.ID,
			compose: func(ledger int64) (email.Message, error) {
				subject, text, html, err := p.composer.Compose(post.branding(), email.Content{Kind: "plan_changed", Locale: locale,
					FirstName: a.FirstName, Link: post.base + "/admin/features", Data: ch.in(p.names, locale)})
				return post.message("plan_changed", ledger, a.Email, subject, text, html, ""), err
			}}
	}
	out, err := postman{db: p.db, sender: p.sender, stopAfter: len(parcels) + 1}.deliver(ctx, parcels, nil)
	return failures(out, err)
}

// TrialTick moves every city whose trial ended to the essential plan, as an
// active city; the plan change queues TypeApplyPlan like any other.
func (p *Plans) TrialTick(ctx context.Context, _ *asynq.Task) error {
	ts, err := p.ops.ExpiredTrials(ctx, p.now())
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range ts {
		plan, active := tenant.PlanEssential, tenant.Active
		if _, err := p.ops.Update(ctx, t.Slug, tenant.Update{Plan: &plan, Lifecycle: &active, ClearTrialEnd: true}); err != nil {
			errs = append(errs, fmt.Errorf("end the trial of %s: %w", t.Slug, err))
		}
	}
	return errors.Join(errs...)
}

// NewTrialTickTask builds the daily trial check.
func NewTrialTickTask() *asynq.Task {
	return asynq.NewTask(TypeTrialTick, nil, asynq.Queue("low"), asynq.MaxRetry(3))
}
