package portal

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"agora/domain/notify"
	"agora/web/kit"
)

type notificationList struct {
	Data   []notify.Notification `json:"data"`
	Unread int                   `json:"unread"`
}

// Notifications lists the caller's latest notifications with the unread count.
func (s *Portal) Notifications(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	ns, unread, err := s.notifications.List(c.Request.Context(), int64(u.ID))
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, notificationList{Data: kit.NonNil(ns), Unread: unread})
}

// MarkRead marks notifications read ({"ids": [...]}, or all without ids).
func (s *Portal) MarkRead(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	var r struct {
		IDs []int64 `json:"ids"`
	}
	if c.Request.ContentLength != 0 && !s.BindJSON(c, &r) {
		return
	}
	if err := s.notifications.MarkRead(c.Request.Context(), int64(u.ID), r.IDs); err != nil {
		s.APIError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// NotificationsPage lists the user's notifications; opening it marks them read.
func (s *Portal) NotificationsPage(c *gin.Context) {
	u, ok := s.PageUser(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	ns, _, err := s.notifications.List(ctx, int64(u.ID))
	if err != nil {
		s.PageError(c, err)
		return
	}
	if err := s.notifications.MarkRead(ctx, int64(u.ID), nil); err != nil {
		s.PageError(c, err)
		return
	}
	v := &page{Chrome: kit.Chrome{Title: s.I18n.T(kit.Locale(c), "notifications.title")}, Notifications: ns}
	s.pages.Render(c, http.StatusOK, "notifications", v)
}
