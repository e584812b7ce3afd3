package main

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/user"
	"agora/tenant"
)

// TestDemoAgreesWithReadme: every account the README tells a developer to
// create belongs to a demo city of agora dev, and the demo holds no
// pending invitation for it (an invitation for an existing account would
// hold a seat and fail when opened); every demo city gets its admin; the
// admin so made is greeted by a name that reads as one.
func TestDemoAgreesWithReadme(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	found := regexp.MustCompile(`go run ./cmd/agora user create --city (\S+) --email (\S+)`).FindAllStringSubmatch(string(b), -1)
	require.NotEmpty(t, found, "the README creates the demo's admins")
	var created []string
	for _, m := range found {
		city, addr := m[1], m[2]
		i := slices.IndexFunc(demoCities, func(s tenant.Spec) bool { return s.Slug == city })
		require.GreaterOrEqual(t, i, 0, "the README creates %s in %s, which agora dev does not make", addr, city)
		require.NotEqual(t, addr, demoCities[i].AdminEmail, "agora dev invites %s, whom the README then creates", addr)
		created = append(created, city)
		first, _ := user.NamesFromEmail(addr)
		require.NotEqual(t, "City", first)
		require.Equal(t, "Admin", first, "%s is greeted as Admin", addr)
	}
	for _, s := range demoCities {
		require.Contains(t, created, s.Slug, "the README gives demo city %s an admin", s.Slug)
	}
}
