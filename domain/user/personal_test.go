package user

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/tenant"
)

func TestExportDir(t *testing.T) {
	dir := filepath.Join("srv", "agora")
	require.Equal(t, filepath.Join(dir, "tenants", "7", "personal-data"), exportDir(dir, 7))
	require.NotEqual(t, exportDir(dir, 7), exportDir(dir, 8), "cities share an archive directory")
	require.Equal(t, filepath.Join(tenant.StoragePath(dir, 7), "personal-data"), exportDir(dir, 7),
		"archives live under the city's storage, which deleting the city removes")
}
