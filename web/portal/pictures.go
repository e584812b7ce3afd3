package portal

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/idea"
	"agora/web/kit"
)

// The pictures of ideas: whoever may edit the idea (the idea service
// decides) adds and removes them, from the idea page or the API.

// addImage adds the uploaded picture to the :id idea.
func (s *Portal) addImage(c *gin.Context) (*idea.Image, error) {
	a := kit.Caller(c)
	return s.ideas.AddImage(c.Request.Context(), a, idea.ID(kit.ID(c, "id")), func() ([]byte, error) { return kit.ReadImage(c, "image") },
		s.Config.StorageDir)
}

// removeImage removes picture image (an id) from the :id idea.
func (s *Portal) removeImage(c *gin.Context, image string) error {
	a := kit.Caller(c)
	imageID, _ := strconv.ParseInt(image, 10, 64)
	return s.ideas.RemoveImage(c.Request.Context(), a, idea.ID(kit.ID(c, "id")), imageID, s.Config.StorageDir)
}

// AddIdeaImage adds a picture (multipart field "image").
func (s *Portal) AddIdeaImage(c *gin.Context) {
	img, err := s.addImage(c)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusCreated, img)
}

// RemoveIdeaImage removes a picture.
func (s *Portal) RemoveIdeaImage(c *gin.Context) {
	if err := s.removeImage(c, c.Param("image")); err != nil {
		s.APIError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// IdeaImageSubmit adds a picture from the idea page's form.
func (s *Portal) IdeaImageSubmit(c *gin.Context) {
	_, err := s.addImage(c)
	s.BackToIdea(c, "image_error", err)
}

// IdeaImageDeleteSubmit removes a picture from the idea page.
func (s *Portal) IdeaImageDeleteSubmit(c *gin.Context) {
	s.BackToIdea(c, "image_error", s.removeImage(c, c.Param("name")))
}

// IdeaImage serves a picture of an idea the visitor can see.
func (s *Portal) IdeaImage(c *gin.Context) {
	a := kit.Caller(c)
	path, public, err := s.ideas.ImageFile(c.Request.Context(), a, idea.ID(kit.ID(c, "id")), c.Param("name"), s.Config.StorageDir)
	if err != nil {
		s.PageError(c, err)
		return
	}
	serveImage(c, path, public)
}

// ProjectHeader serves a visible project's header image.
func (s *Portal) ProjectHeader(c *gin.Context) {
	a := kit.Caller(c)
	p, err := s.projects.View(c.Request.Context(), a, c.Param("slug"))
	var path string
	if err == nil {
		path, err = s.projects.HeaderFile(c.Request.Context(), p, c.Param("name"), s.Config.StorageDir)
	}
	if err != nil {
		s.PageError(c, err)
		return
	}
	serveImage(c, path, p.Public())
}

// serveImage sends a stored image. Names are never reused, so it may be
// cached for good; but only the pictures of a project anyone may see may be
// kept by shared caches (public), the others by the viewer's browser only.
func serveImage(c *gin.Context, path string, public bool) {
	if public {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Header("Cache-Control", "private, max-age=86400")
	}
	c.Header("X-Content-Type-Options", "nosniff")
	c.File(path)
}

// --- moderators ---
