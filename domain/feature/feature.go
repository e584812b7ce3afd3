// Package feature is what a city's plan (license tier) allows: the feature
// keys of PRODUCT.md, the lowest plan that has each, and the seats.
package feature

import (
	"agora/domain/errs"
	"agora/tenant"
)

// Key names a feature.
type Key string

// Feature keys. Each has one line in plans, which says which plans have it.
const (
	Ideation             Key = "ideation"
	Information          Key = "information"
	Comments             Key = "comments"
	Reactions            Key = "reactions"
	Follows              Key = "follows"
	TopicsAreas          Key = "topics_areas"
	Events               Key = "events"
	Polls                Key = "polls"
	Volunteering         Key = "volunteering"
	UserDigest           Key = "user_digest"
	PasswordLogin        Key = "password_login"
	BasicModeration      Key = "basic_moderation"
	Voting               Key = "voting"
	NativeSurveys        Key = "native_surveys"
	Proposals            Key = "proposals"
	Exports              Key = "exports"
	AdminDigest          Key = "admin_digest"
	ModeratorDigest      Key = "moderator_digest"
	CustomIdeaStatuses   Key = "custom_idea_statuses"
	ProjectModerators    Key = "project_moderators"
	GranularPermissions  Key = "granular_permissions"
	SmartGroups          Key = "smart_groups"
	MultiLanguage        Key = "multi_language"
	Dashboard            Key = "dashboard"
	ManualEmailCampaigns Key = "manual_email_campaigns"
	ReportBuilder        Key = "report_builder"
	PublicAPI            Key = "public_api"
	CustomDomains        Key = "custom_domains"
	RemoveBranding       Key = "remove_branding"
	OpenData             Key = "open_data"
)

// plans is the license tiers, written once: the lowest plan that has each
// feature (every higher plan has it too), one line per key in PRODUCT.md's
// order, essential ones first. Keys, MinPlan, Allowed and Require read it,
// and SyncPlans writes it into platform.plan_features, from which the
// registry computes what each city's plan allows.
//
// built says whether this release of Agora has the feature at all: a
// feature that is not built is never offered (no toggle, no phase method)
// whatever the plan says, and it turns itself on when its line flips to
// true in the release that brings it.
var plans = []struct {
	key   Key
	plan  tenant.Plan
	built bool
}{
	{Ideation, tenant.PlanEssential, true},
	{Information, tenant.PlanEssential, true},
	{Comments, tenant.PlanEssential, true},
	{Reactions, tenant.PlanEssential, true},
	{Follows, tenant.PlanEssential, true},
	{TopicsAreas, tenant.PlanEssential, true},
	{Events, tenant.PlanEssential, false},
	{Polls, tenant.PlanEssential, false},
	{Volunteering, tenant.PlanEssential, false},
	{UserDigest, tenant.PlanEssential, true},
	{PasswordLogin, tenant.PlanEssential, true},
	{BasicModeration, tenant.PlanEssential, true},
	{Voting, tenant.PlanStandard, false},
	{NativeSurveys, tenant.PlanStandard, false},
	{Proposals, tenant.PlanStandard, false},
	{Exports, tenant.PlanStandard, true},
	{AdminDigest, tenant.PlanStandard, true},
	{ModeratorDigest, tenant.PlanStandard, true},
	{CustomIdeaStatuses, tenant.PlanStandard, true},
	{ProjectModerators, tenant.PlanStandard, true},
	{GranularPermissions, tenant.PlanStandard, true},
	{SmartGroups, tenant.PlanStandard, false},
	{MultiLanguage, tenant.PlanStandard, true},
	{Dashboard, tenant.PlanStandard, false},
	{ManualEmailCampaigns, tenant.PlanPremium, true},
	{ReportBuilder, tenant.PlanPremium, false},
	{PublicAPI, tenant.PlanPremium, true},
	{CustomDomains, tenant.PlanPremium, true},
	{RemoveBranding, tenant.PlanPremium, false},
	{OpenData, tenant.PlanPremium, false},
}

// tiers lists the plans, lowest first.
var tiers = []tenant.Plan{tenant.PlanEssential, tenant.PlanStandard, tenant.PlanPremium}

// allKeys, minPlan, built and rank are plans and tiers as a list and maps.
var (
	allKeys []Key
	minPlan = map[Key]tenant.Plan{}
	built   = map[Key]bool{}
	rank    = map[tenant.Plan]int{}
)

func init() {
	for i, p := range tiers {
		rank[p] = i
	}
	for _, p := range plans {
		allKeys = append(allKeys, p.key)
		minPlan[p.key] = p.plan
		built[p.key] = p.built
	}
}

// Keys lists every feature, essential ones first.
func Keys() []Key { return append([]Key(nil), allKeys...) }

// MinPlan is the lowest plan that has k.
func MinPlan(k Key) tenant.Plan { return minPlan[k] }

// Built reports whether this release of Agora has feature k: only a built
// feature can be turned on or chosen as a phase's method.
func Built(k Key) bool { return built[k] }

// Allowed reports whether plan p includes feature k.
func Allowed(p tenant.Plan, k Key) bool {
	min, ok := minPlan[k]
	return ok && rank[p] >= rank[min]
}

// Require returns nil when the city's plan (with the operator's overrides)
// includes k, and otherwise an errs.FeatureUnavailable naming the plan that
// has it.
func Require(t *tenant.Tenant, k Key) error {
	if t.Allows(string(k)) {
		return nil
	}
	return errs.E("feature.Require", errs.FeatureUnavailable, "%s is available on the %s plan", k, minPlan[k]).
		WithRule("feature_unavailable", string(k), string(minPlan[k]))
}

// Unlimited is a seat count without limit.
const Unlimited = -1

// Seats is how many admins and project moderators a plan includes
// (operator staff do not count).
func Seats(p tenant.Plan) (admins, moderators int) {
	switch p {
	case tenant.PlanEssential:
		return 2, 5
	case tenant.PlanStandard:
		return 5, 20
	}
	return Unlimited, Unlimited
}

// SeatsError is the error for a full seat count.
func SeatsError(op, what string, limit int, p tenant.Plan) error {
	return errs.E(op, errs.Conflict, "the %s plan includes %d %s; all are taken", p, limit, what).
		WithRule("seats_full", what, limit, string(p))
}
