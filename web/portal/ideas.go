package portal

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/feature"
	"agora/domain/idea"
	"agora/domain/permission"
	"agora/domain/project"
	"agora/web/kit"
)

// actionFeatures are the features participation actions belong to.
var actionFeatures = map[permission.Action]feature.Key{
	permission.Post: feature.Ideation, permission.Comment: feature.Comments, permission.React: feature.Reactions,
}

// ideaScope loads the project an action happens in and decides, with the
// one Can, whether actor may do action in its current phase. It returns the
// phase (nil when none runs) or the error that tells the user what to do.
func (s *Portal) ideaScope(c *gin.Context, a permission.Actor, projectID int64, action permission.Action) (*project.Project, *project.Phase, error) {
	const op = "ideas"
	// The feature itself first: the plan has it and the admins left it on.
	if k, ok := actionFeatures[action]; ok {
		if err := s.features.Enabled(c.Request.Context(), k); err != nil {
			return nil, nil, err
		}
	}
	p, err := s.project(c, projectID)
	if err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return nil, nil, errs.InvalidField(op, "project_id", "no project %d", projectID)
		}
		return nil, nil, err
	}
	now := time.Now()
	if !project.CanView(*p, a, now) {
		return nil, nil, errs.InvalidField(op, "project_id", "no project %d", projectID)
	}
	ph, ok := project.CurrentPhase(p.Phases, now)
	if !ok || (action == permission.Post && !slices.Contains([]string{"ideation", "proposals"}, ph.Method)) {
		if !a.Anonymous() && a.Staff(p.ID) && ok {
			return p, &ph, nil
		}
		return nil, nil, idea.Denied(op, action, permission.Decision{Reason: permission.Disabled})
	}
	if d := permission.Can(a, action, ph.Scope(*p), now); !d.OK() {
		return nil, nil, idea.Denied(op, action, d)
	}
	return p, &ph, nil
}

func (s *Portal) PostIdea(c *gin.Context) {
	a, err := s.Actor(c)
	if err != nil {
		s.APIError(c, err)
		return
	}
	var n idea.New
	if !s.BindJSON(c, &n) {
		return
	}
	if err := n.Check("ideas"); err != nil {
		s.APIError(c, err)
		return
	}
	if err := s.checkLanguage(c, "body", n.Title, n.Body); err != nil {
		s.APIError(c, err)
		return
	}
	_, ph, err := s.ideaScope(c, a, n.ProjectID, permission.Post)
	if err != nil {
		s.APIError(c, err)
		return
	}
	if a.Anonymous() { // a phase open to everyone still needs an author to post
		s.APIError(c, idea.Denied("ideas", permission.Post, permission.Decision{Reason: permission.LogIn}))
		return
	}
	out, err := s.ideas.Post(c.Request.Context(), a.UserID, &ph.ID, n)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusCreated, out)
}

func (s *Portal) Ideas(c *gin.Context) {
	a, err := s.Actor(c)
	if err != nil {
		s.APIError(c, err)
		return
	}
	ps, err := s.projects.List(c.Request.Context(), project.Filter{})
	if err != nil {
		s.APIError(c, err)
		return
	}
	visible := []int64{}
	for _, p := range project.Visible(ps, a, time.Now()) {
		visible = append(visible, p.ID)
	}
	q := kit.QueryInts(c, "project", "phase", "topic", "area", "page")
	if q.Err != nil {
		s.APIError(c, q.Err)
		return
	}
	f := idea.Filter{Projects: visible, Project: q.V["project"], Phase: q.V["phase"], Topic: q.V["topic"], Area: q.V["area"],
		Status: c.Query("status"), Query: c.Query("q"), Sort: c.Query("sort"), Seed: randomSeed(a), Page: int(q.V["page"])}
	ideas, total, err := s.ideas.List(c.Request.Context(), f)
	if err != nil {
		s.APIError(c, err)
		return
	}
	page := int(q.V["page"])
	out := kit.PagedList[idea.Idea]{Data: kit.NonNil(ideas), Total: total, Page: max(page, 1)}
	if out.Page*idea.PageSize < total {
		q := c.Request.URL.Query()
		q.Set("page", strconv.Itoa(out.Page+1))
		out.Next = "/api/v1/ideas?" + q.Encode()
	}
	c.JSON(http.StatusOK, out)
}

// project loads a project with its phases once per request: an idea's
// visibility and its phase rules both need it.
func (s *Portal) project(c *gin.Context, id int64) (*project.Project, error) {
	key := projectKey(id)
	if v, ok := c.Get(key); ok {
		return v.(*project.Project), nil
	}
	p, err := s.projects.Get(c.Request.Context(), strconv.FormatInt(id, 10))
	if err != nil {
		return nil, err
	}
	c.Set(key, p)
	return p, nil
}

func projectKey(id int64) string { return "agora.project." + strconv.FormatInt(id, 10) }

// visibleProject loads a project the actor may see. Errors: errs.NotFound.
func (s *Portal) visibleProject(c *gin.Context, a permission.Actor, id int64) (*project.Project, error) {
	p, err := s.project(c, id)
	if err != nil {
		return nil, err
	}
	if !project.CanView(*p, a, time.Now()) {
		return nil, errs.E("projects", errs.NotFound, "no project %d", id)
	}
	return p, nil
}

// visibleIdea loads an idea the actor may see.
func (s *Portal) visibleIdea(c *gin.Context, a permission.Actor) (*idea.Idea, error) {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	it, err := s.ideas.Get(c.Request.Context(), id, a.UserID)
	if err != nil {
		return nil, err
	}
	if _, err := s.visibleProject(c, a, it.ProjectID); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return nil, errs.E("ideas", errs.NotFound, "no idea %d", id)
		}
		return nil, err
	}
	return it, nil
}

func (s *Portal) Idea(c *gin.Context) {
	a, err := s.Actor(c)
	if err == nil {
		var it *idea.Idea
		if it, err = s.visibleIdea(c, a); err == nil {
			c.JSON(http.StatusOK, it)
			return
		}
	}
	s.APIError(c, err)
}

// React sets the caller's reaction ({"mode": "like"|"dislike"}).
func (s *Portal) React(c *gin.Context) {
	s.react(c, true)
}

// Unreact removes the caller's reaction.
func (s *Portal) Unreact(c *gin.Context) {
	s.react(c, false)
}

func (s *Portal) react(c *gin.Context, set bool) {
	a, err := s.Actor(c)
	if err != nil {
		s.APIError(c, err)
		return
	}
	var r struct {
		Mode string `json:"mode"`
	}
	if set && !s.BindJSON(c, &r) {
		return
	}
	it, err := s.visibleIdea(c, a)
	if err != nil {
		s.APIError(c, err)
		return
	}
	_, ph, err := s.ideaScope(c, a, it.ProjectID, permission.React)
	if err == nil && a.Anonymous() {
		err = idea.Denied("ideas", permission.React, permission.Decision{Reason: permission.LogIn})
	}
	if err == nil && set && r.Mode == "dislike" && !ph.DislikesEnabled {
		err = errs.InvalidField("ideas", "mode", "dislikes are off in this phase").WithRule("dislikes_off")
	}
	if err != nil {
		s.APIError(c, err)
		return
	}
	var out *idea.Idea
	if set {
		out, err = s.ideas.React(c.Request.Context(), a.UserID, it.ID, r.Mode)
	} else {
		out, err = s.ideas.Unreact(c.Request.Context(), a.UserID, it.ID)
	}
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// staffOfIdea loads a visible idea and requires the caller to be staff of
// its project.
func (s *Portal) staffOfIdea(c *gin.Context) (permission.Actor, *idea.Idea, bool) {
	a, err := s.Actor(c)
	if err != nil {
		s.APIError(c, err)
		return a, nil, false
	}
	it, err := s.visibleIdea(c, a)
	if err != nil {
		s.APIError(c, err)
		return a, nil, false
	}
	if a.Anonymous() {
		s.APIError(c, errs.E("ideas", errs.Unauthenticated, "log in as city staff"))
		return a, nil, false
	}
	if !a.Staff(it.ProjectID) {
		s.APIError(c, errs.E("ideas", errs.Forbidden, "only admins and the project's moderators can answer ideas"))
		return a, nil, false
	}
	return a, it, true
}

// SetStatus changes an idea's status ({"status", "note"}).
func (s *Portal) SetStatus(c *gin.Context) {
	a, it, ok := s.staffOfIdea(c)
	if !ok {
		return
	}
	var r struct {
		Status string `json:"status"`
		Note   string `json:"note"`
	}
	if !s.BindJSON(c, &r) {
		return
	}
	out, err := s.ideas.SetStatus(c.Request.Context(), a.UserID, it.ID, r.Status, r.Note)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// AddFeedback posts official feedback ({"body"}).
func (s *Portal) AddFeedback(c *gin.Context) {
	a, it, ok := s.staffOfIdea(c)
	if !ok {
		return
	}
	var r struct {
		Body string `json:"body"`
	}
	if !s.BindJSON(c, &r) {
		return
	}
	f, err := s.ideas.AddFeedback(c.Request.Context(), a.UserID, it.ID, r.Body)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusCreated, f)
}

// randomSeed keeps the random order of a viewer stable for the day.
func randomSeed(a permission.Actor) string {
	return strconv.FormatInt(a.UserID, 10) + "-" + time.Now().UTC().Format("2006-01-02")
}

// ideaOwned loads the :id idea for its author or staff (errs.Forbidden
// for anyone else). It checks nothing of the phase: enough to delete one's
// own idea; ideaEditable adds the rules of editing.
func (s *Portal) ideaOwned(c *gin.Context) (permission.Actor, *idea.Idea, error) {
	a, err := s.Actor(c)
	if err != nil {
		return a, nil, err
	}
	if a.Anonymous() {
		return a, nil, errs.E("ideas", errs.Unauthenticated, "log in first")
	}
	it, err := s.visibleIdea(c, a)
	if err != nil {
		return a, nil, err
	}
	if !a.Staff(it.ProjectID) && (it.AuthorID == nil || *it.AuthorID != a.UserID) {
		return a, nil, errs.E("ideas", errs.Forbidden, "only its author or staff can change an idea")
	}
	return a, it, nil
}

// ideaEditable is ideaOwned for changes: see editRule.
func (s *Portal) ideaEditable(c *gin.Context) (permission.Actor, *idea.Idea, error) {
	a, it, err := s.ideaOwned(c)
	if err == nil {
		err = s.editRule(c, a, it)
	}
	if err != nil {
		return a, nil, err
	}
	return a, it, nil
}

// editRule says whether a may change idea it: staff always; its author
// while the city has not answered it and the phase takes ideas.
func (s *Portal) editRule(c *gin.Context, a permission.Actor, it *idea.Idea) error {
	switch {
	case a.Anonymous():
		return errs.E("ideas", errs.Unauthenticated, "log in first")
	case a.Staff(it.ProjectID):
		return nil
	case it.AuthorID == nil || *it.AuthorID != a.UserID:
		return errs.E("ideas", errs.Forbidden, "only its author or staff can change an idea")
	case it.Status != "proposed":
		return errs.E("ideas", errs.Forbidden, "the city has answered this idea: it can no longer be edited")
	}
	_, _, err := s.ideaScope(c, a, it.ProjectID, permission.Post)
	return err
}

// UpdateIdea edits an idea ({"title", "body", "topics"}).
func (s *Portal) UpdateIdea(c *gin.Context) {
	var n idea.New
	if !s.BindJSON(c, &n) {
		return
	}
	a, it, err := s.ideaEditable(c)
	if err == nil {
		err = s.checkLanguage(c, "body", n.Title, n.Body)
	}
	if err == nil {
		n.ProjectID = it.ProjectID
		it, err = s.ideas.Update(c.Request.Context(), a.UserID, it.ID, n)
	}
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, it)
}

// DeleteIdea deletes an idea (its author or staff).
func (s *Portal) DeleteIdea(c *gin.Context) {
	a, it, err := s.ideaOwned(c)
	if err == nil {
		err = s.ideas.Delete(c.Request.Context(), a.UserID, it.ID)
	}
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
