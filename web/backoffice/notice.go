package backoffice

import (
	"github.com/gin-gonic/gin"

	"agora/web/kit"
)

// adminNotice shows the outcome of the last back-office form (backTo).
func (s *Backoffice) adminNotice(c *gin.Context, v *page) {
	loc := kit.Locale(c)
	if msg := c.Query("msg"); msg != "" {
		v.Notice = s.I18n.T(loc, "admin.msg."+msg, c.Query("n"))
	}
	if e := c.Query("err"); e != "" && v.Form != nil {
		v.Form.Error = e
	}
}
