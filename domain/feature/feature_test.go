package feature

import (
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
