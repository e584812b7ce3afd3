package feature

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

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
