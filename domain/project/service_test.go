package project_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/errs"
	"agora/domain/locale"
	"agora/domain/project"
	"agora/tenant/tenanttest"
)

// A project created or saved without a slug is addressed by its title,
// made unique in the city; one given explicitly is never changed.
func TestDerivedSlugs(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "slugs")
	ctx := tenanttest.Ctx(c)
	projects := project.NewService(env.DB)
	create := func(slug string, title locale.Text) (*project.Project, error) {
		return projects.Create(ctx, 0, project.Project{Slug: slug, Title: title})
	}

	first, err := create("", locale.Text{"en": "Fête du parc"})
	require.NoError(t, err)
	require.Equal(t, "fete-du-parc", first.Slug)
	second, err := create("  ", locale.Text{"fr": "Fête du Parc !"})
	require.NoError(t, err)
	require.Equal(t, "fete-du-parc-2", second.Slug)
	_, err = create("fete-du-parc-3", locale.Text{"en": "Taken by hand"})
	require.NoError(t, err)
	fourth, err := create("", locale.Text{"en": "Fete du parc"})
	require.NoError(t, err)
	require.Equal(t, "fete-du-parc-4", fourth.Slug, "a suffix someone chose is skipped")

	// An explicit slug in use is refused, not renamed.
	_, err = create("fete-du-parc", locale.Text{"en": "Again"})
	e, ok := errs.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, "slug", e.Field)
	require.Equal(t, "slug_taken", e.Rule)

	// Clearing the slug derives it again from the title, the project's own
	// slug aside.
	empty := ""
	title := locale.Text{"en": "Fête du parc"}
	got, err := projects.Update(ctx, 0, first.ID, project.Patch{Slug: &empty, Title: &title})
	require.NoError(t, err)
	require.Equal(t, "fete-du-parc", got.Slug)
	title = locale.Text{"nl": "Zomer in het Zuidpark"}
	got, err = projects.Update(ctx, 0, second.ID, project.Patch{Slug: &empty, Title: &title})
	require.NoError(t, err)
	require.Equal(t, "zomer-in-het-zuidpark", got.Slug)
}

// Projects made at the same moment with the same title each get a slug of
// their own.
func TestDerivedSlugsAtOnce(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "slugsrace")
	ctx := tenanttest.Ctx(c)
	projects := project.NewService(env.DB)
	const n = 6
	slugs := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := projects.Create(ctx, 0, project.Project{Title: locale.Text{"nl": "Zomerfeest"}})
			if err != nil {
				slugs <- "error: " + err.Error()
				return
			}
			slugs <- p.Slug
		}()
	}
	wg.Wait()
	close(slugs)
	got := map[string]bool{}
	for s := range slugs {
		got[s] = true
	}
	want := map[string]bool{"zomerfeest": true}
	for i := 2; i <= n; i++ {
		want[fmt.Sprintf("zomerfeest-%d", i)] = true
	}
	require.Equal(t, want, got)
}
