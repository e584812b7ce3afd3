package idea

import (
	"testing"

	"github.com/lib/pq"
	"github.com/stretchr/testify/require"
)

func TestWithURLs(t *testing.T) {
	imgs := withURLs(12, []Image{{ID: 1, Name: "a1b2.png"}, {ID: 2, Name: "c3d4.jpg"}})
	require.Equal(t, []Image{
		{ID: 1, Name: "a1b2.png", URL: "/ideas/12/images/a1b2.png"},
		{ID: 2, Name: "c3d4.jpg", URL: "/ideas/12/images/c3d4.jpg"},
	}, imgs)

	// No pictures is an empty list, never nil (JSON says [], not null).
	none := withURLs(12, nil)
	require.NotNil(t, none)
	require.Empty(t, none)
}

func TestReady(t *testing.T) {
	it := Idea{ID: 5, Images: Images{{ID: 9, Name: "x.png"}}}
	it.ready()
	require.Equal(t, pq.Int64Array{}, it.Topics, "no topics is an empty list")
	require.Equal(t, Images{{ID: 9, Name: "x.png", URL: "/ideas/5/images/x.png"}}, it.Images)

	bare := Idea{ID: 6}
	bare.ready()
	require.NotNil(t, bare.Topics)
	require.NotNil(t, bare.Images)
}

func TestImagesScan(t *testing.T) {
	var m Images
	require.NoError(t, m.Scan([]byte(`[{"id": 3, "name": "p.png"}]`)))
	require.Equal(t, Images{{ID: 3, Name: "p.png"}}, m)

	require.NoError(t, m.Scan(nil))
	require.Equal(t, Images{}, m, "NULL reads as no pictures")
}
