package backoffice

import (
	"agora/domain/user"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/permission"
	"agora/domain/project"
	"agora/web/kit"
)

// projectStaff is the caller of a project route and the project's id (the
// route let only the project's staff through: RequireProjectStaff).
func (s *Backoffice) projectStaff(c *gin.Context) (permission.Actor, int64, bool) {
	a, err := s.Actor(c)
	if err != nil {
		s.APIError(c, err)
		return a, 0, false
	}
	return a, kit.ID(c, "id"), true
}

func (s *Backoffice) CreateProject(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	var p project.Project
	if !s.BindJSON(c, &p) {
		return
	}
	out, err := s.projects.Create(c.Request.Context(), me.ID, p)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusCreated, out)
}

func (s *Backoffice) UpdateProject(c *gin.Context) {
	a, id, ok := s.projectStaff(c)
	if !ok {
		return
	}
	var patch project.Patch
	if !s.BindJSON(c, &patch) {
		return
	}
	out, err := s.projects.Update(c.Request.Context(), user.ID(a.UserID), project.ID(id), patch)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// UpdatePhase changes a phase: the fields sent replace the phase's, the
// others stay; the timeline rules apply as when adding.
func (s *Backoffice) UpdatePhase(c *gin.Context) {
	a, id, ok := s.projectStaff(c)
	if !ok {
		return
	}
	p, err := s.projects.Get(c.Request.Context(), strconv.FormatInt(id, 10))
	if err != nil {
		s.APIError(c, err)
		return
	}
	phaseID, _ := strconv.ParseInt(c.Param("phase"), 10, 64)
	var ph *project.Phase
	for i := range p.Phases {
		if p.Phases[i].ID == project.PhaseID(phaseID) {
			ph = &p.Phases[i]
		}
	}
	if ph == nil {
		s.APIError(c, errs.E("projects", errs.NotFound, "no phase %d in project %d", phaseID, id))
		return
	}
	if !s.BindJSON(c, ph) {
		return
	}
	out, err := s.projects.UpdatePhase(c.Request.Context(), user.ID(a.UserID), project.ID(id), project.PhaseID(phaseID), *ph)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// DeletePhase removes a phase; its ideas stay in the project.
func (s *Backoffice) DeletePhase(c *gin.Context) {
	a, id, ok := s.projectStaff(c)
	if !ok {
		return
	}
	phaseID, _ := strconv.ParseInt(c.Param("phase"), 10, 64)
	if err := s.projects.DeletePhase(c.Request.Context(), user.ID(a.UserID), project.ID(id), project.PhaseID(phaseID)); err != nil {
		s.APIError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Backoffice) AddPhase(c *gin.Context) {
	a, id, ok := s.projectStaff(c)
	if !ok {
		return
	}
	ph := project.Phase{PostingEnabled: true, CommentingEnabled: true, ReactingEnabled: true, DislikesEnabled: true}
	if !s.BindJSON(c, &ph) {
		return
	}
	out, err := s.projects.AddPhase(c.Request.Context(), user.ID(a.UserID), project.ID(id), ph)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusCreated, out)
}
