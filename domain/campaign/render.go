package campaign

import (
	"html/template"

	"agora/domain/email"
)

// letter is what the "manual" email template reads.
type letter struct {
	Body template.HTML // sanitised when stored
	Text string
	Test bool
}

// Compose renders c in language loc (pick it with LocaleFor) as an email of
// the city branded b, with the recipient's one-click unsubscribe link and
// preferences page in its footer. A test email says so and its subject is
// marked.
func (c Campaign) Compose(m *email.Composer, b email.Branding, loc, unsubscribe, preferences string, test bool) (subject, text, html string, err error) {
	body := c.Body[loc]
	subject = c.Subject[loc]
	if test {
		subject = m.String(loc, "manual.test_prefix") + " " + subject
	}
	return m.Compose(b, email.Content{Kind: string(email.Manual), Locale: loc, Subject: subject,
		Data:        letter{Body: template.HTML(body), Text: PlainText(body), Test: test},
		Unsubscribe: unsubscribe, Preferences: preferences})
}
