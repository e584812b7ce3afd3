package user

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"agora/domain/errs"
	"agora/domain/feature"
	"agora/tenant"
)

// Seats as the README states them: admins 2 / 5 / unlimited and moderators
// 5 / 20 / unlimited (essential / standard / premium); citizens are never
// counted.
func TestSeatsFor(t *testing.T) {
	for _, tc := range []struct {
		plan                       tenant.Plan
		admins, moderators, others int
	}{
		{tenant.PlanEssential, 2, 5, feature.Unlimited},
		{tenant.PlanStandard, 5, 20, feature.Unlimited},
		{tenant.PlanPremium, feature.Unlimited, feature.Unlimited, feature.Unlimited},
	} {
		t.Run(string(tc.plan), func(t *testing.T) {
			require.Equal(t, tc.admins, SeatsFor(tc.plan, RoleAdmin), "admins")
			require.Equal(t, tc.moderators, SeatsFor(tc.plan, RoleModerator), "moderators")
			require.Equal(t, tc.others, SeatsFor(tc.plan, RoleCitizen), "citizens")
			require.Equal(t, tc.others, SeatsFor(tc.plan, "operator"), "a role that is not a city's")
		})
	}
}

func TestInviteAddrs(t *testing.T) {
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("p%d@gent.be", i)
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		in      []string
		want    []string
		wantErr *wantErr
	}{
		{name: "one address", in: []string{"ann@gent.be"}, want: []string{"ann@gent.be"}},
		{
			name: "normalised and each once, in the order first given",
			in:   []string{"Bob@Gent.be", "  ann@gent.be", "BOB@gent.BE ", "ann@GENT.be"},
			want: []string{"bob@gent.be", "ann@gent.be"},
		},
		{name: "a thousand addresses", in: many(1000), want: many(1000)},
		{name: "a thousand and one", in: many(1001), wantErr: invalid("emails", "count", 1, 1000)},
		{name: "none", in: nil, wantErr: invalid("emails", "count", 1, 1000)},
		{name: "a thousand and one with duplicates", in: append(many(1000), "p0@gent.be"), wantErr: invalid("emails", "count", 1, 1000)},
		{name: "a faulty address is named by position", in: []string{"ann@gent.be", "bob@gent.be", "carl at gent.be"}, wantErr: invalid("emails[2]", "format")},
		{name: "an empty line is faulty", in: []string{"ann@gent.be", ""}, wantErr: invalid("emails[1]", "format")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := inviteAddrs(tc.in)
			requireErr(t, err, tc.wantErr)
			require.Equal(t, tc.want, got)
		})
	}
}

// The staff rules below refuse before any write: a Service without a
// database shows that these answers come from the rules alone.

func TestInviteChecksBeforeWriting(t *testing.T) {
	s := &Service{}
	for _, tc := range []struct {
		name    string
		addrs   []string
		role    Role
		wantErr *wantErr
	}{
		{"unknown role", []string{"ann@gent.be"}, "owner", invalid("role", "choice")},
		{"role checked first", nil, "", invalid("role", "choice")},
		{"no addresses", []string{}, RoleModerator, invalid("emails", "count", 1, 1000)},
		{"faulty address", []string{"ann@gent.be", "bob"}, RoleCitizen, invalid("emails[1]", "format")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			invited, skipped, err := s.Invite(context.Background(), tc.addrs, tc.role)
			requireErr(t, err, tc.wantErr)
			require.Nil(t, invited)
			require.Nil(t, skipped)
		})
	}
}

func TestSetRoleChecksBeforeWriting(t *testing.T) {
	s := &Service{}
	forbidden := &wantErr{code: errs.Forbidden, rule: "own_admin_role"}
	for _, tc := range []struct {
		name      string
		actor, id ID
		role      Role
		wantErr   *wantErr
	}{
		{"unknown role", 1, 2, "owner", invalid("role", "choice")},
		{"empty role", 1, 2, "", invalid("role", "choice")},
		{"role checked before the actor", 1, 1, "Admin", invalid("role", "choice")},
		{"an admin cannot make themselves moderator", 1, 1, RoleModerator, forbidden},
		{"an admin cannot make themselves citizen", 1, 1, RoleCitizen, forbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := s.SetRole(context.Background(), tc.actor, tc.id, tc.role)
			requireErr(t, err, tc.wantErr)
			require.Nil(t, u)
		})
	}
}

func TestBlockChecksBeforeWriting(t *testing.T) {
	s := &Service{}
	forbidden := &wantErr{code: errs.Forbidden, rule: "block_self"}
	for _, tc := range []struct {
		name      string
		actor, id ID
		days      int
		wantErr   *wantErr
	}{
		{"negative days", 1, 2, -1, invalid("days", "range", 0, 3650)},
		{"over ten years", 1, 2, 3651, invalid("days", "range", 0, 3650)},
		// Within the range, blocking oneself is what is refused: that proves
		// 0 and 3650 pass the range check.
		{"unblocking oneself", 1, 1, 0, forbidden},
		{"blocking oneself for a day", 1, 1, 1, forbidden},
		{"blocking oneself for ten years", 1, 1, 3650, forbidden},
		{"range checked before the actor", 1, 1, 3651, invalid("days", "range", 0, 3650)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := s.Block(context.Background(), tc.actor, tc.id, tc.days)
			requireErr(t, err, tc.wantErr)
			require.Nil(t, u)
		})
	}
}

func TestPrefixed(t *testing.T) {
	require.Equal(t, "u.id, u.email", prefixed("u.", "id,email"))
	require.Equal(t, "u.id, u.email", prefixed("u.", " id ,\n\t email "))
	// Every user column is qualified, so a join never makes one ambiguous.
	cols := strings.Split(prefixed("u.", userColumns), ", ")
	require.Len(t, cols, strings.Count(userColumns, ",")+1)
	for _, c := range cols {
		require.Regexp(t, `^u\.[a-z_]+$`, c)
	}
}

func TestInvitationLifetime(t *testing.T) {
	// Two weeks, as the first admin's invitation made by provisioning.
	require.Equal(t, 14*24*time.Hour, InvitationTTL)
}

func TestListPaging(t *testing.T) {
	// Search clamps pages to MaxPage so the offset it writes into SQL stays
	// far inside PostgreSQL's bigint and Go's int on every platform.
	require.Equal(t, 50, PageSize)
	require.LessOrEqual(t, int64(MaxPage-1)*PageSize, int64(1<<31-1))
}
