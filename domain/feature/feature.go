// Package feature is what a city's plan (license tier) allows: the feature
// keys of PRODUCT.md, the lowest plan that has each, and the seats.
package feature

import (
	"agora/domain/errs"
	"agora/tenant"
)

// Key names a feature.
type Key string

// Feature keys, by the lowest plan that has them.
const (
	// essential and up
	Ideation        Key = "ideation"
	Information     Key = "information"
	Comments        Key = "comments"
	Reactions       Key = "reactions"
	Follows         Key = "follows"
	TopicsAreas     Key = "topics_areas"
	Events          Key = "events"
	Polls           Key = "polls"
	Volunteering    Key = "volunteering"
	UserDigest      Key = "user_digest"
	PasswordLogin   Key = "password_login"
	BasicModeration Key = "basic_moderation"
	// standard and up
	Voting              Key = "voting"
	NativeSurveys       Key = "native_surveys"
	Proposals           Key = "proposals"
	Exports             Key = "exports"
	AdminDigest         Key = "admin_digest"
	ModeratorDigest     Key = "moderator_digest"
	CustomIdeaStatuses  Key = "custom_idea_statuses"
	ProjectModerators   Key = "project_moderators"
	GranularPermissions Key = "granular_permissions"
	SmartGroups         Key = "smart_groups"
	MultiLanguage       Key = "multi_language"
	Dashboard           Key = "dashboard"
	// premium
	ManualEmailCampaigns Key = "manual_email_campaigns"
	ReportBuilder        Key = "report_builder"
	PublicAPI            Key = "public_api"
	CustomDomains        Key = "custom_domains"
	RemoveBranding       Key = "remove_branding"
	OpenData             Key = "open_data"
)

// rank orders the plans.
var rank = map[tenant.Plan]int{tenant.PlanEssential: 0, tenant.PlanStandard: 1, tenant.PlanPremium: 2}

// minPlan is the lowest plan that has each feature.
var minPlan = map[Key]tenant.Plan{}

func init() {
	for i, k := range allKeys {
		switch {
		case i < 12:
			minPlan[k] = tenant.PlanEssential
		case i < 24:
			minPlan[k] = tenant.PlanStandard
		default:
			minPlan[k] = tenant.PlanPremium
		}
	}
}

// Keys lists every feature, essential ones first.
func Keys() []Key { return append([]Key(nil), allKeys...) }

var allKeys = []Key{Ideation, Information, Comments, Reactions, Follows, TopicsAreas, Events, Polls, Volunteering,
	UserDigest, PasswordLogin, BasicModeration, Voting, NativeSurveys, Proposals, Exports, AdminDigest, ModeratorDigest,
	CustomIdeaStatuses, ProjectModerators, GranularPermissions, SmartGroups, MultiLanguage, Dashboard,
	ManualEmailCampaigns, ReportBuilder, PublicAPI, CustomDomains, RemoveBranding, OpenData}

// MinPlan is the lowest plan that has k.
func MinPlan(k Key) tenant.Plan { return minPlan[k] }

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
