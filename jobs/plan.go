package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"agora/domain/activity"
	"agora/domain/email"
	"agora/domain/feature"
	"agora/domain/locale"
	"agora/domain/site"
	"agora/i18n"
	"agora/tenant"
)

// TypeTrialTick (daily) moves cities whose trial ended to essential.
const TypeTrialTick = "tenant:trial_tick"

func init() { platformTypes[TypeTrialTick] = true }

// ApplyPlanPayload is the payload of tenant.TaskApplyPlan.
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
		if !feature.Built(k) {
			continue // never offered, so neither lost nor gained
		}
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
		// Once per change: a retried task does not log it again.
		if _, err := activity.Record(ctx, tx, activity.Activity{Action: "plan.applied", ItemType: "city", Once: "task",
			Payload: map[string]any{"from": string(ch.From), "to": string(ch.To), "lost": ch.Lost, "gained": ch.Gained, "task": event}}); err != nil {
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
// active city; the plan change queues tenant.TaskApplyPlan like any other.
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
