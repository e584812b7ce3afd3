package portal

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/permission"
	"agora/web/kit"
)

// Report records the caller's report on an idea or a comment.
func (s *Portal) Report(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	var r struct {
		ItemType string `json:"item_type"`
		ItemID   int64  `json:"item_id"`
		Reason   string `json:"reason"`
		Note     string `json:"note"`
	}
	if !s.BindJSON(c, &r) {
		return
	}
	if err := s.report(c, int64(u.ID), r.ItemType, r.ItemID, r.Reason, r.Note); err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"status": "reported; moderators will look at it"})
}

// report records a report on an idea or comment the caller may see.
func (s *Portal) report(c *gin.Context, reporter int64, itemType string, itemID int64, reason, note string) error {
	if itemType == "idea" || itemType == "comment" {
		if err := s.visibleItem(c, kit.Caller(c), itemType, itemID); err != nil {
			return err
		}
	}
	return s.moderation.Report(c.Request.Context(), reporter, itemType, itemID, reason, note)
}

// ReportSubmit records a report from the idea page's form and goes back to
// the idea with a thank-you note.
func (s *Portal) ReportSubmit(c *gin.Context) {
	u, ok := s.PageUser(c)
	if !ok {
		return
	}
	itemID, _ := strconv.ParseInt(c.PostForm("item_id"), 10, 64)
	ideaID, _ := strconv.ParseInt(c.PostForm("idea_id"), 10, 64)
	if err := s.report(c, int64(u.ID), c.PostForm("item_type"), itemID, c.PostForm("reason"), c.PostForm("note")); err != nil {
		s.PageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/ideas/%d?reported=1", ideaID))
}

// visibleItem answers errs.NotFound unless the actor may see the project,
// idea or comment (topics and areas are public).
func (s *Portal) visibleItem(c *gin.Context, a permission.Actor, itemType string, id int64) error {
	return s.ideas.Sees(c.Request.Context(), a, itemType, id)
}
