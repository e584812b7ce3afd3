package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/idea"
	"agora/domain/project"
)

// Pictures on ideas: their author (while they may edit it) and staff add
// and remove them, from the idea page or the API.

func (s *Server) apiAddIdeaImage(c *gin.Context) {
	a, it, err := s.ideaEditable(c)
	var img *idea.Image
	if err == nil {
		var data []byte
		if data, err = readImage(c, "image"); err == nil {
			img, err = s.ideas.AddImage(c.Request.Context(), a.UserID, it.ID, data, s.cfg.StorageDir)
		}
	}
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusCreated, img)
}

func (s *Server) apiRemoveIdeaImage(c *gin.Context) {
	a, it, err := s.ideaEditable(c)
	if err == nil {
		imageID, _ := strconv.ParseInt(c.Param("image"), 10, 64)
		err = s.ideas.RemoveImage(c.Request.Context(), a.UserID, it.ID, imageID, s.cfg.StorageDir)
	}
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// ideaImageSubmit adds a picture from the idea page's form.
func (s *Server) ideaImageSubmit(c *gin.Context) {
	a, it, err := s.ideaEditable(c)
	if err == nil {
		var data []byte
		if data, err = readImage(c, "image"); err == nil {
			_, err = s.ideas.AddImage(c.Request.Context(), a.UserID, it.ID, data, s.cfg.StorageDir)
		}
	}
	s.backToIdea(c, "image_error", err)
}

// ideaImageDeleteSubmit removes a picture from the idea page.
func (s *Server) ideaImageDeleteSubmit(c *gin.Context) {
	a, it, err := s.ideaEditable(c)
	if err == nil {
		imageID, _ := strconv.ParseInt(c.Param("name"), 10, 64)
		err = s.ideas.RemoveImage(c.Request.Context(), a.UserID, it.ID, imageID, s.cfg.StorageDir)
	}
	s.backToIdea(c, "image_error", err)
}

// backToIdea returns to the idea page after a form, with the error (in the
// visitor's language) under key when there is one. Pages of ideas the
// visitor cannot see, and internal errors, answer as such.
func (s *Server) backToIdea(c *gin.Context, key string, err error) {
	target := "/ideas/" + c.Param("id")
	if err != nil {
		f := &form{Values: map[string]string{}, Errors: map[string]string{}}
		status, internal := s.explain(c, f, err)
		switch {
		case internal != nil:
			s.pageError(c, internal)
			return
		case status == http.StatusNotFound:
			s.pageError(c, err)
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

// ideaImage serves a picture of an idea the visitor can see.
func (s *Server) ideaImage(c *gin.Context) {
	a, err := s.actor(c)
	if err != nil {
		s.pageError(c, err)
		return
	}
	it, err := s.visibleIdea(c, a)
	var path string
	if err == nil {
		path, err = s.ideas.ImageFile(c.Request.Context(), it.ID, c.Param("name"), s.cfg.StorageDir)
	}
	var p *project.Project
	if err == nil {
		p, err = s.project(c, it.ProjectID)
	}
	if err != nil {
		s.pageError(c, err)
		return
	}
	serveImage(c, path, p.Public())
}
