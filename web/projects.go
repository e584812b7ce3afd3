package web

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/feature"
	"agora/domain/permission"
	"agora/domain/project"
	"agora/tenant"
)

// actor is the permission view of the caller: anonymous, or a user with
// their role, confirmation, block, moderated projects and groups (two
// queries, in the request's read transaction).
func (s *Server) actor(c *gin.Context) (permission.Actor, error) {
	u, ok := currentUser(c)
	if !ok || u == nil {
		return permission.Actor{}, nil
	}
	a := permission.Actor{UserID: int64(u.ID), Role: string(u.Role), Confirmed: u.Confirmed(), BlockedUntil: u.BlockedUntil}
	ctx := c.Request.Context()
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var err error
		a, err = project.WithMemberships(ctx, tx, a)
		return err
	})
	return a, err
}

// requireProjectStaff lets admins, and moderators of the project named by the
// :id parameter, through (for project writes).
func (s *Server) requireProjectStaff(c *gin.Context) (permission.Actor, int64, bool) {
	a, err := s.actor(c)
	if err != nil {
		s.apiError(c, err)
		return a, 0, false
	}
	if a.Anonymous() {
		s.apiError(c, errs.E("projects", errs.Unauthenticated, "log in as city staff"))
		return a, 0, false
	}
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	if !a.Staff(id) || a.BlockedUntil != nil && a.BlockedUntil.After(time.Now()) {
		s.apiError(c, errs.E("projects", errs.Forbidden, "only admins and the project's moderators can change it"))
		return a, 0, false
	}
	return a, id, true
}

func (s *Server) apiProjects(c *gin.Context) {
	a, err := s.actor(c)
	if err != nil {
		s.apiError(c, err)
		return
	}
	topic, _ := strconv.ParseInt(c.Query("topic"), 10, 64)
	area, _ := strconv.ParseInt(c.Query("area"), 10, 64)
	ps, err := s.projects.List(c.Request.Context(), project.Filter{Status: project.Status(c.Query("status")), Topic: topic, Area: area})
	if err != nil {
		s.apiError(c, err)
		return
	}
	ps = project.Visible(ps, a, time.Now())
	c.JSON(http.StatusOK, list[project.Project]{Data: nonNil(ps), Total: len(ps)})
}

func (s *Server) apiProject(c *gin.Context) {
	a, err := s.actor(c)
	if err != nil {
		s.apiError(c, err)
		return
	}
	p, err := s.projects.Get(c.Request.Context(), c.Param("id"))
	if err == nil && !project.CanView(*p, a, time.Now()) {
		err = errs.E("projects", errs.NotFound, "no project %q", c.Param("id"))
	}
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

func (s *Server) apiCreateProject(c *gin.Context) {
	a, err := s.actor(c)
	if err != nil {
		s.apiError(c, err)
		return
	}
	if a.Anonymous() {
		s.apiError(c, errs.E("projects", errs.Unauthenticated, "log in as a city admin"))
		return
	}
	if a.Role != "admin" {
		s.apiError(c, errs.E("projects", errs.Forbidden, "only city admins create projects"))
		return
	}
	var p project.Project
	if !s.bindJSON(c, &p) {
		return
	}
	out, err := s.projects.Create(c.Request.Context(), a.UserID, p)
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusCreated, out)
}

func (s *Server) apiUpdateProject(c *gin.Context) {
	a, id, ok := s.requireProjectStaff(c)
	if !ok {
		return
	}
	var patch project.Patch
	if !s.bindJSON(c, &patch) {
		return
	}
	out, err := s.projects.Update(c.Request.Context(), a.UserID, id, patch)
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// apiUpdatePhase changes a phase: the fields sent replace the phase's, the
// others stay; the timeline rules apply as when adding.
func (s *Server) apiUpdatePhase(c *gin.Context) {
	a, id, ok := s.requireProjectStaff(c)
	if !ok {
		return
	}
	p, err := s.project(c, id)
	if err != nil {
		s.apiError(c, err)
		return
	}
	phaseID, _ := strconv.ParseInt(c.Param("phase"), 10, 64)
	var ph *project.Phase
	for i := range p.Phases {
		if p.Phases[i].ID == phaseID {
			ph = &p.Phases[i]
		}
	}
	if ph == nil {
		s.apiError(c, errs.E("projects", errs.NotFound, "no phase %d in project %d", phaseID, id))
		return
	}
	before := maps.Clone(ph.Permissions)
	if !s.bindJSON(c, ph) {
		return
	}
	// Setting rules per action is the plan feature; keeping a phase's rules
	// through another edit is not.
	changed := !maps.EqualFunc(before, ph.Permissions, func(a, b project.Rule) bool { return slices.Equal(a.Groups, b.Groups) && a.Level == b.Level })
	if changed && len(ph.Permissions) > 0 && !s.gate(c, feature.GranularPermissions) {
		return
	}
	out, err := s.projects.UpdatePhase(c.Request.Context(), a.UserID, id, phaseID, *ph)
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// apiDeletePhase removes a phase; its ideas stay in the project.
func (s *Server) apiDeletePhase(c *gin.Context) {
	a, id, ok := s.requireProjectStaff(c)
	if !ok {
		return
	}
	phaseID, _ := strconv.ParseInt(c.Param("phase"), 10, 64)
	if err := s.projects.DeletePhase(c.Request.Context(), a.UserID, id, phaseID); err != nil {
		s.apiError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) apiAddPhase(c *gin.Context) {
	a, id, ok := s.requireProjectStaff(c)
	if !ok {
		return
	}
	ph := project.Phase{PostingEnabled: true, CommentingEnabled: true, ReactingEnabled: true, DislikesEnabled: true}
	if !s.bindJSON(c, &ph) {
		return
	}
	// Rules per action other than the defaults are a plan feature.
	if len(ph.Permissions) > 0 && !s.gate(c, feature.GranularPermissions) {
		return
	}
	out, err := s.projects.AddPhase(c.Request.Context(), a.UserID, id, ph)
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusCreated, out)
}
