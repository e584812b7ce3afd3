package backoffice

import (
	"agora/domain/idea"
	"net/http"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/web/kit"
)

// The city's answers on an idea: its status (with a note) and official
// feedback, by the staff of the idea's project (the idea service decides,
// inside its write), from the idea page or the API.

// SetStatus changes an idea's status ({"status", "note"}).
func (s *Backoffice) SetStatus(c *gin.Context) {
	var r struct {
		Status string `json:"status"`
		Note   string `json:"note"`
	}
	if !s.BindJSON(c, &r) {
		return
	}
	out, err := s.ideas.SetStatus(c.Request.Context(), kit.Caller(c), idea.ID(kit.ID(c, "id")), r.Status, r.Note)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// AddFeedback posts official feedback ({"body"}).
func (s *Backoffice) AddFeedback(c *gin.Context) {
	var r struct {
		Body string `json:"body"`
	}
	if !s.BindJSON(c, &r) {
		return
	}
	out, err := s.ideas.AddFeedback(c.Request.Context(), kit.Caller(c), idea.ID(kit.ID(c, "id")), r.Body)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusCreated, out)
}

// StatusSubmit changes the status from the idea page's staff form.
func (s *Backoffice) StatusSubmit(c *gin.Context) {
	s.answerSubmit(c, func() error {
		_, err := s.ideas.SetStatus(c.Request.Context(), kit.Caller(c), idea.ID(kit.ID(c, "id")), c.PostForm("status"), c.PostForm("note"))
		return err
	})
}

// FeedbackSubmit posts official feedback from the idea page's staff form.
func (s *Backoffice) FeedbackSubmit(c *gin.Context) {
	s.answerSubmit(c, func() error {
		_, err := s.ideas.AddFeedback(c.Request.Context(), kit.Caller(c), idea.ID(kit.ID(c, "id")), c.PostForm("body"))
		return err
	})
}

// answerSubmit runs a staff form of the idea page: non-staff get 403, a
// refused form comes back to the idea page with its reason.
func (s *Backoffice) answerSubmit(c *gin.Context, do func() error) {
	err := do()
	switch errs.CodeOf(err) {
	case errs.Unauthenticated, errs.Forbidden:
		// Not staff of the project (or not logged in): these forms are not
		// theirs. Other refusals are the phase's, shown on the idea page.
		if e, ok := errs.As(err); ok && (e.Rule == "" || e.Rule == "staff_only" || e.Rule == "log_in") {
			s.Fail(c, http.StatusForbidden, "forbidden", "error.forbidden")
			return
		}
	}
	s.BackToIdea(c, "staff_error", err)
}
