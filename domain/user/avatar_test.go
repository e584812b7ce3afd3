package user

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/errs"
	"agora/tenant"
)

func TestAvatarFileRefusesForeignNames(t *testing.T) {
	// A name Save could not have made is refused before any lookup, so no
	// path leaves the city's avatar directory.
	s := &Service{}
	ctx := tenant.WithTenant(context.Background(), &tenant.Tenant{ID: 7})
	for _, name := range []string{
		"",
		"../../etc/passwd",
		"../8/avatars/12-abcdefghijklmnop.png",
		"12-abcdefghijklmnop.gif",
		"12-short.png",
		"12-abcdefghijklmnop.png/..",
	} {
		path, err := s.AvatarFile(ctx, name, "/srv/agora")
		require.Empty(t, path, "name %q", name)
		require.Equal(t, errs.NotFound, errs.CodeOf(err), "name %q: %v", name, err)
	}
}
