package portal_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/fixture"
	"agora/web/webtest"
)

func TestHeaderImagesAndIdeaPictures(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "pictures", nil)
	h, c, admin, csrf, project, env := s.H, s.City, s.Cookie, s.CSRF, s.Project, s.Env
	auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}

	t.Run("project header image", func(t *testing.T) {
		hp := fixture.Project(t, env, c, fixture.ProjectOpts{Slug: "headed", Title: "Headed", Phase: &fixture.PhaseOpts{}}).ID
		put := func(field, filename string, data []byte, who ...string) webtest.Response {
			body, ctype := webtest.Multipart(t, nil, field, filename, data)
			return h.CallRaw(t, "PUT", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/header", hp), ctype, body, who...)
		}
		img := webtest.PNG(t, 40, 20)
		r := put("header_image", "header.png", img, auth...)
		doc := webtest.Decode[struct {
			Slug        string `json:"slug"`
			HeaderImage string `json:"header_image"`
		}](t, r, 200)
		require.NotEmpty(t, doc.HeaderImage)
		url := "/projects/headed/header/" + doc.HeaderImage
		got := h.Get(t, c.DefaultHost, url)
		require.Equal(t, 200, got.Status, got.Body)
		require.Equal(t, "image/png", got.Header.Get("Content-Type"))
		require.Equal(t, string(img), got.Body)
		require.Equal(t, "public, max-age=31536000, immutable", got.Header.Get("Cache-Control"), "anyone may see it: shared caches may keep it")
		require.Contains(t, h.Get(t, c.DefaultHost, "/projects/headed").Body, `src="`+url+`"`)
		require.Contains(t, h.Get(t, c.DefaultHost, "/").Body, `src="`+url+`"`)

		require.Equal(t, "header_image", webtest.RequireProblem(t, put("header_image", "notes.txt", []byte("just some text, not an image"), auth...), 422, "invalid").Field)
		require.Equal(t, "header_image", webtest.RequireProblem(t, put("other_field", "header.png", img, auth...), 422, "invalid").Field)
		cit := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "cit@example.org", FirstName: "Cas", LastName: "Citizen"}))
		webtest.RequireProblem(t, put("header_image", "header.png", img, "Authorization", cit), 403, "forbidden")

		// Only those who see the project see its header.
		require.Equal(t, 200, h.Call(t, "PATCH", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d", hp), `{"visibility":"admins"}`, auth...).Status)
		webtest.RequireHTML(t, h.Get(t, c.DefaultHost, url), 404)
		require.Equal(t, 404, h.Get(t, c.DefaultHost, url, "Authorization", cit).Status)
		staffOnly := h.Get(t, c.DefaultHost, url, "Cookie", admin)
		require.Equal(t, 200, staffOnly.Status)
		require.Equal(t, "private, max-age=86400", staffOnly.Header.Get("Cache-Control"), "a restricted project's picture stays out of shared caches")
		// A new header replaces the old one.
		r = put("header_image", "header.png", webtest.PNG(t, 30, 30), auth...)
		require.Equal(t, 200, r.Status, r.Body)
		require.Equal(t, 404, h.Get(t, c.DefaultHost, url, "Cookie", admin).Status)
	})

	t.Run("idea pictures", func(t *testing.T) {
		author := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "author@example.org", FirstName: "Ada", LastName: "Author"}))
		other := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "other@example.org", FirstName: "Otto", LastName: "Other"}))
		it := webtest.NewIdea(t, h, c.DefaultHost, project, "A playground", "Authorization", author)
		add := func(data []byte, who ...string) webtest.Response {
			body, ctype := webtest.Multipart(t, nil, "image", "picture.png", data)
			return h.CallRaw(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/images", it), ctype, body, who...)
		}
		type image struct {
			ID  int64  `json:"id"`
			URL string `json:"url"`
		}
		var imgs []image
		var data [][]byte
		for i := range 5 {
			b := webtest.PNG(t, 10+i, 10)
			img := webtest.Decode[image](t, add(b, "Authorization", author), 201)
			require.NotEmpty(t, img.URL)
			imgs, data = append(imgs, img), append(data, b)
		}
		got := h.Get(t, c.DefaultHost, imgs[0].URL)
		require.Equal(t, 200, got.Status, got.Body)
		require.Equal(t, string(data[0]), got.Body)
		require.Equal(t, "image/png", got.Header.Get("Content-Type"))
		require.Equal(t, "image", webtest.RequireProblem(t, add(webtest.PNG(t, 9, 9), "Authorization", author), 422, "invalid").Field, "a sixth picture is refused")
		webtest.RequireProblem(t, add(webtest.PNG(t, 9, 9), "Authorization", other), 403, "forbidden")
		webtest.RequireProblem(t, add(webtest.PNG(t, 9, 9)), 401, "unauthenticated")
		require.Equal(t, "image", webtest.RequireProblem(t, add([]byte("plain text"), "Authorization", author), 422, "invalid").Field)
		ideaDoc := h.Get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", it))
		require.Contains(t, ideaDoc.Body, imgs[4].URL)

		del := func(id int64, who ...string) webtest.Response {
			return h.Call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/images/%d", it, id), "", who...)
		}
		webtest.RequireProblem(t, del(imgs[0].ID, "Authorization", other), 403, "forbidden")
		r := del(imgs[0].ID, "Authorization", author)
		require.Equal(t, http.StatusNoContent, r.Status, r.Body)
		require.Equal(t, 404, h.Get(t, c.DefaultHost, imgs[0].URL).Status)
		webtest.RequireProblem(t, del(imgs[0].ID, "Authorization", author), 404, "not_found")
		require.Equal(t, 201, add(webtest.PNG(t, 9, 9), "Authorization", author).Status, "a freed place takes a picture")
		// Another idea's URL with this picture's name is unknown.
		otherIdea := webtest.NewIdea(t, h, c.DefaultHost, project, "Another idea", "Authorization", other)
		name := imgs[1].URL[strings.LastIndexByte(imgs[1].URL, '/')+1:]
		require.Equal(t, 404, h.Get(t, c.DefaultHost, fmt.Sprintf("/ideas/%d/images/%s", otherIdea, name)).Status)

		// A hidden idea's pictures are not served.
		require.Equal(t, 204, h.Call(t, "PUT", c.DefaultHost, fmt.Sprintf("/api/v1/moderation/hidden/idea/%d", it), "", auth...).Status)
		require.Equal(t, 404, h.Get(t, c.DefaultHost, imgs[1].URL).Status)
		require.Equal(t, 204, h.Call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/moderation/hidden/idea/%d", it), "", auth...).Status)
		require.Equal(t, 200, h.Get(t, c.DefaultHost, imgs[1].URL).Status)
	})
}
