package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"agora/domain/notify"
)

type notificationList struct {
	Data   []notify.Notification `json:"data"`
	Unread int                   `json:"unread"`
}

// apiNotifications lists the caller's latest notifications with the unread count.
func (s *Server) apiNotifications(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	ns, unread, err := s.notifications.List(c.Request.Context(), int64(u.ID))
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, notificationList{Data: nonNil(ns), Unread: unread})
}

// apiMarkRead marks notifications read ({"ids": [...]}, or all without ids).
func (s *Server) apiMarkRead(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	var r struct {
		IDs []int64 `json:"ids"`
	}
	if c.Request.ContentLength != 0 && !s.bindJSON(c, &r) {
		return
	}
	if err := s.notifications.MarkRead(c.Request.Context(), int64(u.ID), r.IDs); err != nil {
		s.apiError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// notificationsPage lists the user's notifications; opening it marks them read.
func (s *Server) notificationsPage(c *gin.Context) {
	u, ok := s.requirePageUser(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	ns, _, err := s.notifications.List(ctx, int64(u.ID))
	if err != nil {
		s.pageError(c, err)
		return
	}
	if err := s.notifications.MarkRead(ctx, int64(u.ID), nil); err != nil {
		s.pageError(c, err)
		return
	}
	v := view{Notifications: ns, Title: s.i18n.T(c.GetString(keyLocale), "notifications.title")}
	s.html(c, http.StatusOK, "notifications", v)
}
