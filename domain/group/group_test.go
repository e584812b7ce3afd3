package group_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/activity"
	"agora/domain/errs"
	"agora/domain/group"
	"agora/domain/locale"
	"agora/domain/user"
	"agora/fixture"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

func TestSmartAndManualGroups(t *testing.T) {
	env := tenanttest.New(t)
	city := env.City(t, "groups")
	other := env.City(t, "elsewhere")
	ctx := tenanttest.Ctx(city)
	mk := func(email string, role user.Role, fields string) int64 {
		u := fixture.User(t, env, city, fixture.UserOpts{Email: email, Role: role})
		fixture.Exec(t, env, city, `UPDATE users SET custom_fields = $2 WHERE id = $1`, []any{u.ID, fields})
		return int64(u.ID)
	}
	ann := mk("ann@gent.be", user.RoleAdmin, `{"district":"north","interests":["bikes","trees"]}`)
	bob := mk("bob@gent.be", user.RoleCitizen, `{"district":"south","interests":["trees"]}`)
	cas := mk("cas@example.org", user.RoleCitizen, `{"district":"north"}`)
	dee := mk("dee@GENT.be", user.RoleModerator, `{}`)

	groups := group.NewService(env.DB)
	staff, err := groups.Create(ctx, locale.Text{"en": "City staff"}, group.Smart, []group.Rule{{Field: "email_domain", Value: "Gent.be"}})
	require.NoError(t, err)
	northTrees, err := groups.Create(ctx, locale.Text{"en": "North, trees"}, group.Smart,
		[]group.Rule{{Field: "field", Key: "district", Value: "north"}, {Field: "field", Key: "interests", Value: "trees"}})
	require.NoError(t, err)
	admins, err := groups.Create(ctx, locale.Text{"en": "Admins"}, group.Smart, []group.Rule{{Field: "role", Value: "admin"}})
	require.NoError(t, err)
	panel, err := groups.Create(ctx, locale.Text{"en": "Citizen panel"}, group.Manual, nil)
	require.NoError(t, err)
	require.NoError(t, groups.AddMember(ctx, panel.ID, cas))
	require.NoError(t, groups.AddMember(ctx, panel.ID, cas)) // idempotent
	require.NoError(t, groups.AddMember(ctx, panel.ID, bob))

	members := func(id int64) []int64 {
		ids, err := groups.MemberIDs(ctx, id)
		require.NoError(t, err)
		return ids
	}
	require.Equal(t, []int64{ann, bob, dee}, members(staff.ID))
	require.Equal(t, []int64{ann}, members(northTrees.ID))
	require.Equal(t, []int64{ann}, members(admins.ID))
	require.Equal(t, []int64{bob, cas}, members(panel.ID))

	of := func(uid int64) []int64 {
		var ids []int64
		require.NoError(t, env.DB.InReadTx(ctx, func(tx *tenant.Tx) error {
			var err error
			ids, err = group.Of(context.Background(), tx, uid)
			return err
		}))
		return ids
	}
	require.Equal(t, []int64{staff.ID, northTrees.ID, admins.ID}, of(ann))
	require.Equal(t, []int64{staff.ID, panel.ID}, of(bob))
	require.Equal(t, []int64{panel.ID}, of(cas))
	require.Equal(t, []int64{staff.ID}, of(dee))

	list, err := groups.List(ctx)
	require.NoError(t, err)
	counts := map[int64]int{}
	for _, g := range list {
		counts[g.ID] = g.Members
	}
	require.Equal(t, map[int64]int{staff.ID: 3, northTrees.ID: 1, admins.ID: 1, panel.ID: 2}, counts)

	// Participation in a project, read from the activity log.
	require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		if _, err := activity.Record(ctx, tx, activity.Activity{Actor: bob, Action: "idea.created", ItemType: "idea", ItemID: 1, ProjectID: 12}); err != nil {
			return err
		}
		_, err := activity.Record(ctx, tx, activity.Activity{Actor: cas, Action: "comment.created", ItemType: "comment", ItemID: 5, ProjectID: 13})
		return err
	}))
	participants, err := groups.Create(ctx, locale.Text{"en": "Took part in project 12"}, group.Smart,
		[]group.Rule{{Field: "participated_in_project", Value: "12"}})
	require.NoError(t, err)
	require.Equal(t, []int64{bob}, members(participants.ID))
	require.Contains(t, of(bob), participants.ID)
	require.NotContains(t, of(cas), participants.ID)
	_, err = groups.Create(ctx, locale.Text{"en": "x"}, group.Smart, []group.Rule{{Field: "participated_in_project", Value: "twelve"}})
	require.Equal(t, errs.Invalid, errs.CodeOf(err))

	// Rules are validated, naming the rule.
	_, err = groups.Create(ctx, locale.Text{"en": "x"}, group.Smart, []group.Rule{{Field: "shoe_size", Value: "42"}})
	require.Equal(t, errs.Invalid, errs.CodeOf(err))
	require.Contains(t, err.Error(), "rules[0].field")
	_, err = groups.Create(ctx, locale.Text{"en": "x"}, group.Smart, nil)
	require.Equal(t, errs.Invalid, errs.CodeOf(err))
	require.Equal(t, errs.Invalid, errs.CodeOf(groups.AddMember(ctx, staff.ID, cas)), "smart groups have no manual members")
	require.Equal(t, errs.NotFound, errs.CodeOf(groups.AddMember(ctx, 99999, cas)))

	// Another city has none of these groups.
	otherList, err := groups.List(tenanttest.Ctx(other))
	require.NoError(t, err)
	require.Empty(t, otherList)
}
