package portal

import (
	"agora/domain/project"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/idea"
	"agora/domain/permission"
	"agora/web/kit"
)

// The ideas API. Each handler binds, calls the idea service with the
// caller and answers: who may do what is the service's to decide, inside
// its write (domain/idea/rules.go).

// PostIdea posts an idea in a project's current phase.
func (s *Portal) PostIdea(c *gin.Context) {
	a := kit.Caller(c)
	var n idea.New
	if !s.BindJSON(c, &n) {
		return
	}
	out, err := s.ideas.Post(c.Request.Context(), a, n)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusCreated, out)
}

// Ideas lists the ideas the caller may see, filtered, sorted and paged.
func (s *Portal) Ideas(c *gin.Context) {
	a := kit.Caller(c)
	q := kit.QueryInts(c, "project", "phase", "topic", "area", "page")
	if q.Err != nil {
		s.APIError(c, q.Err)
		return
	}
	f := idea.Filter{Project: project.ID(q.V["project"]), Phase: project.PhaseID(q.V["phase"]), Topic: q.V["topic"], Area: q.V["area"],
		Status: c.Query("status"), Query: c.Query("q"), Sort: c.Query("sort"), Seed: randomSeed(a), Page: int(q.V["page"])}
	ideas, total, err := s.ideas.List(c.Request.Context(), a, f)
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

// visibleIdea is the :id idea, if the caller may see it.
func (s *Portal) visibleIdea(c *gin.Context, a permission.Actor) (*idea.Idea, error) {
	return s.ideas.Get(c.Request.Context(), a, idea.ID(kit.ID(c, "id")))
}

// Idea returns one idea.
func (s *Portal) Idea(c *gin.Context) {
	it, err := s.visibleIdea(c, kit.Caller(c))
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, it)
}

// React sets the caller's reaction ({"mode": "like"|"dislike"}).
func (s *Portal) React(c *gin.Context) {
	var r struct {
		Mode string `json:"mode"`
	}
	if !s.BindJSON(c, &r) {
		return
	}
	s.react(c, func(a permission.Actor, id int64) error {
		return s.ideas.React(c.Request.Context(), a, idea.ID(id), r.Mode)
	})
}

// Unreact removes the caller's reaction.
func (s *Portal) Unreact(c *gin.Context) {
	s.react(c, func(a permission.Actor, id int64) error { return s.ideas.Unreact(c.Request.Context(), a, idea.ID(id)) })
}

// react changes the caller's reaction with do and answers the idea.
func (s *Portal) react(c *gin.Context, do func(a permission.Actor, id int64) error) {
	a := kit.Caller(c)
	err := do(a, kit.ID(c, "id"))
	var out *idea.Idea
	if err == nil {
		out, err = s.visibleIdea(c, a)
	}
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// randomSeed keeps the random order of a viewer stable for the day.
func randomSeed(a permission.Actor) string {
	return strconv.FormatInt(a.UserID, 10) + "-" + time.Now().UTC().Format("2006-01-02")
}

// UpdateIdea edits an idea ({"title", "body", "topics", the place}).
func (s *Portal) UpdateIdea(c *gin.Context) {
	var n idea.New
	if !s.BindJSON(c, &n) {
		return
	}
	it, err := s.ideas.Update(c.Request.Context(), kit.Caller(c), idea.ID(kit.ID(c, "id")), n)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, it)
}

// DeleteIdea deletes an idea (its author or staff).
func (s *Portal) DeleteIdea(c *gin.Context) {
	if err := s.ideas.Delete(c.Request.Context(), kit.Caller(c), idea.ID(kit.ID(c, "id"))); err != nil {
		s.APIError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
