package portal

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/idea"
	"agora/domain/project"
	"agora/web/kit"
)

func (s *Portal) AddIdeaImage(c *gin.Context) {
	a, it, err := s.ideaEditable(c)
	var img *idea.Image
	if err == nil {
		var data []byte
		if data, err = kit.ReadImage(c, "image"); err == nil {
			img, err = s.ideas.AddImage(c.Request.Context(), a.UserID, it.ID, data, s.Config.StorageDir)
		}
	}
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusCreated, img)
}

func (s *Portal) RemoveIdeaImage(c *gin.Context) {
	a, it, err := s.ideaEditable(c)
	if err == nil {
		imageID, _ := strconv.ParseInt(c.Param("image"), 10, 64)
		err = s.ideas.RemoveImage(c.Request.Context(), a.UserID, it.ID, imageID, s.Config.StorageDir)
	}
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// IdeaImageSubmit adds a picture from the idea page's form.
func (s *Portal) IdeaImageSubmit(c *gin.Context) {
	a, it, err := s.ideaEditable(c)
	if err == nil {
		var data []byte
		if data, err = kit.ReadImage(c, "image"); err == nil {
			_, err = s.ideas.AddImage(c.Request.Context(), a.UserID, it.ID, data, s.Config.StorageDir)
		}
	}
	s.backToIdea(c, "image_error", err)
}

// IdeaImageDeleteSubmit removes a picture from the idea page.
func (s *Portal) IdeaImageDeleteSubmit(c *gin.Context) {
	a, it, err := s.ideaEditable(c)
	if err == nil {
		imageID, _ := strconv.ParseInt(c.Param("name"), 10, 64)
		err = s.ideas.RemoveImage(c.Request.Context(), a.UserID, it.ID, imageID, s.Config.StorageDir)
	}
	s.backToIdea(c, "image_error", err)
}

// backToIdea returns to the idea page after a form, with the error (in the
// visitor's language) under key when there is one. Pages of ideas the
// visitor cannot see, and internal errors, answer as such.
func (s *Portal) backToIdea(c *gin.Context, key string, err error) {
	target := "/ideas/" + c.Param("id")
	if err != nil {
		f := kit.EmptyForm()
		status, internal := s.Explain(c, f, err)
		switch {
		case internal != nil:
			s.PageError(c, internal)
			return
		case status == http.StatusNotFound:
			s.PageError(c, err)
			return
		case status == http.StatusUnauthorized:
			c.Redirect(http.StatusSeeOther, "/login?next="+target)
			return
		}
		msg := f.Error
		for _, e := range f.Errors {
			msg = e
		}
		c.Redirect(http.StatusSeeOther, target+"?"+key+"="+url.QueryEscape(msg))
		return
	}
	c.Redirect(http.StatusSeeOther, target)
}

// IdeaImage serves a picture of an idea the visitor can see.
func (s *Portal) IdeaImage(c *gin.Context) {
	a, err := s.Actor(c)
	if err != nil {
		s.PageError(c, err)
		return
	}
	it, err := s.visibleIdea(c, a)
	var path string
	if err == nil {
		path, err = s.ideas.ImageFile(c.Request.Context(), it.ID, c.Param("name"), s.Config.StorageDir)
	}
	var p *project.Project
	if err == nil {
		p, err = s.project(c, it.ProjectID)
	}
	if err != nil {
		s.PageError(c, err)
		return
	}
	serveImage(c, path, p.Public())
}

// ProjectHeader serves a visible project's header image.
func (s *Portal) ProjectHeader(c *gin.Context) {
	a, err := s.Actor(c)
	if err != nil {
		s.PageError(c, err)
		return
	}
	p, err := s.projects.Get(c.Request.Context(), c.Param("slug"))
	if err == nil && !project.CanView(*p, a, time.Now()) {
		err = errs.E("projects", errs.NotFound, "no project")
	}
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
