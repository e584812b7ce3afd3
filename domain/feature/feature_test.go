package feature

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"agora/domain/errs"
	"agora/tenant"
)

func TestPlansFollowTheTable(t *testing.T) {
	cases := []struct {
		key                          Key
		essential, standard, premium bool
	}{
		{Ideation, true, true, true},
		{BasicModeration, true, true, true},
		{Voting, false, true, true},
		{CustomIdeaStatuses, false, true, true},
		{Dashboard, false, true, true},
		{ManualEmailCampaigns, false, false, true},
		{OpenData, false, false, true},
		{"no_such_feature", false, false, false},
	}
	for _, c := range cases {
		for p, want := range map[tenant.Plan]bool{tenant.PlanEssential: c.essential, tenant.PlanStandard: c.standard, tenant.PlanPremium: c.premium} {
			if got := Allowed(p, c.key); got != want {
				t.Errorf("Allowed(%s, %s) = %v, want %v", p, c.key, got, want)
			}
		}
	}
	if len(Keys()) != 30 {
		t.Errorf("%d keys, PRODUCT.md lists 30", len(Keys()))
	}
	if a, m := Seats(tenant.PlanEssential); a != 2 || m != 5 {
		t.Errorf("essential seats %d %d", a, m)
	}
}

// TestEveryKeyHasItsPlan: every Key constant of this package has exactly
// one line in the plan table, so a key added without its plan fails here
// rather than being quietly allowed on no plan.
func TestEveryKeyHasItsPlan(t *testing.T) {
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var consts []Key
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Key" {
					continue
				}
				for _, v := range vs.Values {
					lit := v.(*ast.BasicLit)
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					consts = append(consts, Key(s))
				}
			}
		}
	}
	if len(consts) == 0 {
		t.Fatal("found no Key constants")
	}
	seen := map[Key]int{}
	for _, k := range Keys() {
		seen[k]++
	}
	for _, k := range consts {
		if seen[k] != 1 {
			t.Errorf("feature %s has %d lines in the plan table, want 1", k, seen[k])
		}
		if !MinPlan(k).Valid() {
			t.Errorf("feature %s: lowest plan %q", k, MinPlan(k))
		}
	}
	if len(Keys()) != len(consts) {
		t.Errorf("the plan table has %d lines for %d keys", len(Keys()), len(consts))
	}
}

// TestOnlyBuiltFeaturesCanBeTurnedOn: what this release has not built
// cannot be turned on whatever the plan (an invalid request naming the
// feature, with its rule, before the plan is asked), while turning it off
// stays possible and a built feature goes on to the plan's check.
func TestOnlyBuiltFeaturesCanBeTurnedOn(t *testing.T) {
	city := &tenant.Tenant{Plan: tenant.PlanPremium} // its plan allows nothing
	for _, k := range []Key{Voting, Polls, NativeSurveys, Proposals, Events, Volunteering, Dashboard, SmartGroups, ReportBuilder, OpenData, RemoveBranding} {
		if Built(k) {
			t.Errorf("%s is marked built, but Agora has nothing behind it", k)
		}
		err := Check(city, k, true)
		e, ok := errs.As(err)
		if !ok || e.Code != errs.Invalid || e.Rule != "feature_not_built" || e.Field != string(k) {
			t.Errorf("turning on %s: %v, want invalid feature_not_built naming it", k, err)
		}
		if err := Check(city, k, false); err != nil {
			t.Errorf("turning off %s: %v", k, err)
		}
	}
	for _, k := range []Key{Ideation, Information, Comments, Exports, ManualEmailCampaigns} {
		if !Built(k) {
			t.Errorf("%s is built", k)
		}
		if err := Check(city, k, true); errs.CodeOf(err) != errs.FeatureUnavailable {
			t.Errorf("turning on %s outside the plan: %v, want the plan's refusal", k, err)
		}
	}
}
