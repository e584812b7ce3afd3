package console

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"agora/web/kit"
)

// DevMailPage lists the mail captured by `agora dev`, newest first, with the
// plain-text bodies (links are clickable by copy). It exists only in dev.
func (s *Console) DevMailPage(c *gin.Context) {
	msgs := s.devMail.Messages()
	slices.Reverse(msgs)
	v := &page{Chrome: kit.Chrome{Platform: true, Title: "Captured mail"}}
	for _, m := range msgs {
		v.Mail = append(v.Mail, mailView{From: m.From, To: m.To, Subject: m.Subject, Text: m.Text, Received: m.Received.Format("15:04:05")})
	}
	s.pages.Render(c, http.StatusOK, "devmail", v)
}

type mailView struct {
	From     string
	To       []string
	Subject  string
	Text     string
	Received string
}
