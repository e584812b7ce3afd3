// Package campaign is a city's manual email campaigns (premium): emails its
// staff write in the city's languages to everyone or to groups, try on
// themselves and send once to each recipient who did not leave them.
package campaign

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lib/pq"

	"agora/domain/errs"
	"agora/domain/locale"
)

// Status is where a campaign is in its life: a draft staff still edit, a
// campaign being sent, or one sent to its whole audience.
type Status string

// Statuses.
const (
	Draft   Status = "draft"
	Sending Status = "sending"
	Sent    Status = "sent"
)

// Audience is who a campaign goes to: every user, or the members of its
// groups. Either way only accounts with a confirmed address get it, and
// only those who did not leave the "manual" campaign type.
type Audience string

// Audiences.
const (
	Everyone Audience = "all"
	Groups   Audience = "groups"
)

// Task types, queued through the outbox.
const (
	// TaskSend sends a campaign to its audience.
	TaskSend = "campaign:send"
	// TaskTest sends one test email to the staff member who asked for it.
	TaskTest = "campaign:test"
)

// Limits of what staff write.
const (
	MaxSubject = 200     // characters per language
	MaxBody    = 100_000 // bytes of sanitised HTML per language
	MaxGroups  = 50
)

// Event is the email ledger's event of campaign id's emails: one per
// recipient, whatever happens to the task.
func Event(id int64) string { return fmt.Sprintf("campaign:%d", id) }

// TestEvent is the ledger's event of test email n.
func TestEvent(n int64) string { return fmt.Sprintf("test:%d", n) }

// Campaign is one email campaign of a city.
type Campaign struct {
	ID        int64         `db:"id" json:"id"`
	Subject   locale.Text   `db:"subject" json:"subject"`
	Body      locale.Text   `db:"body" json:"body"` // sanitised HTML per locale
	Audience  Audience      `db:"audience" json:"audience"`
	GroupIDs  pq.Int64Array `db:"group_ids" json:"group_ids"`
	Status    Status        `db:"status" json:"status"`
	CreatedBy *int64        `db:"created_by" json:"created_by"`
	CreatedAt time.Time     `db:"created_at" json:"created_at"`
	UpdatedAt time.Time     `db:"updated_at" json:"updated_at"`
	SendingAt *time.Time    `db:"sending_at" json:"sending_at"` // when staff pressed Send
	SentAt    *time.Time    `db:"sent_at" json:"sent_at"`       // when every recipient was handled
	Stats     Stats         `db:"-" json:"stats"`
}

// Stats is what became of a campaign's emails. Recipients is the audience
// frozen when the sending began (0 before); Pending are still to send.
type Stats struct {
	Recipients int `db:"recipients" json:"recipients"`
	Sent       int `db:"sent" json:"sent"`
	Failed     int `db:"failed" json:"failed"`   // the send failed; the worker tries again
	Skipped    int `db:"skipped" json:"skipped"` // left the "manual" campaign type, or account gone
	Pending    int `db:"-" json:"pending"`
}

func (s *Stats) settle() { s.Pending = max(s.Recipients-s.Sent-s.Failed-s.Skipped, 0) }

// Message is what staff write: the subject and text in each language, and
// the audience.
type Message struct {
	Subject  locale.Text `json:"subject"`
	Body     locale.Text `json:"body"`
	Audience Audience    `json:"audience"`
	GroupIDs []int64     `json:"group_ids"`
}

// Patch changes the fields it names (nil keeps one).
type Patch struct {
	Subject  *locale.Text `json:"subject"`
	Body     *locale.Text `json:"body"`
	Audience *Audience    `json:"audience"`
	GroupIDs *[]int64     `json:"group_ids"`
}

// apply returns c's message with p's changes.
func (p Patch) apply(c Campaign) Message {
	d := Message{Subject: c.Subject, Body: c.Body, Audience: c.Audience, GroupIDs: c.GroupIDs}
	if p.Subject != nil {
		d.Subject = *p.Subject
	}
	if p.Body != nil {
		d.Body = *p.Body
	}
	if p.Audience != nil {
		d.Audience = *p.Audience
	}
	if p.GroupIDs != nil {
		d.GroupIDs = *p.GroupIDs
	}
	return d
}

// Clean normalises d for a city whose languages are locales and checks it:
// subjects become one line of plain text, bodies sanitised HTML, empty
// languages are dropped and the groups deduplicated (none for everyone).
// A message needs a subject in one language at least; the rest may come
// later. Errors: errs.Invalid naming the field.
func (d *Message) Clean(op string, locales []string) error {
	subject, body := locale.Text{}, locale.Text{}
	for l, s := range d.Subject {
		if s = strings.Join(strings.Fields(s), " "); s == "" {
			continue
		}
		if !slices.Contains(locales, l) {
			return errs.InvalidField(op, "subject", "%q is not a language of this city (%s)", l, strings.Join(locales, ", ")).
				WithRule("campaign_locale", l)
		}
		if utf8.RuneCountInString(s) > MaxSubject {
			return errs.InvalidField(op, "subject", "must be at most %d characters", MaxSubject).WithRule("too_long", MaxSubject)
		}
		subject[l] = s
	}
	for l, s := range d.Body {
		if s = SanitizeBody(s); s == "" {
			continue
		}
		if !slices.Contains(locales, l) {
			return errs.InvalidField(op, "body", "%q is not a language of this city (%s)", l, strings.Join(locales, ", ")).
				WithRule("campaign_locale", l)
		}
		if len(s) > MaxBody {
			return errs.InvalidField(op, "body", "must be at most %d characters", MaxBody).WithRule("too_long", MaxBody)
		}
		body[l] = s
	}
	if len(subject) == 0 {
		return errs.InvalidField(op, "subject", "is required in at least one language").WithRule("required")
	}
	d.Subject, d.Body = subject, body
	switch d.Audience {
	case Everyone:
		d.GroupIDs = nil
	case Groups, "":
		d.Audience = Groups
		var ids []int64
		for _, id := range d.GroupIDs {
			if id <= 0 {
				return errs.InvalidField(op, "group_ids", "%d is not a group", id).WithRule("campaign_group")
			}
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		if len(ids) > MaxGroups {
			return errs.InvalidField(op, "group_ids", "at most %d groups", MaxGroups).WithRule("campaign_too_many_groups", MaxGroups)
		}
		slices.Sort(ids)
		d.GroupIDs = ids
	default:
		return errs.InvalidField(op, "audience", "%q is not all or groups", d.Audience).WithRule("choice")
	}
	return nil
}

// Ready reports whether c can be sent or tried: every language it is
// written in has both a subject and a text, one language at least, and an
// audience of groups names a group. Errors: errs.Invalid naming the field.
func (c Campaign) Ready(op string) error {
	complete := 0
	for _, l := range sortedKeys(c.Subject, c.Body) {
		switch {
		case c.Subject[l] == "":
			return errs.InvalidField(op, "subject", "the %s text has no subject", l).WithRule("campaign_no_subject", l)
		case c.Body[l] == "":
			return errs.InvalidField(op, "body", "the %s subject has no text", l).WithRule("campaign_no_body", l)
		}
		complete++
	}
	if complete == 0 {
		return errs.InvalidField(op, "body", "write the subject and the text in one language at least").WithRule("campaign_empty")
	}
	if c.Audience == Groups && len(c.GroupIDs) == 0 {
		return errs.InvalidField(op, "group_ids", "choose a group, or send to everyone").WithRule("campaign_no_audience")
	}
	return nil
}

// LocaleFor is the language a recipient gets c in: the first of prefs (the
// recipient's language, then the city's) that c is written in, else the
// first written one alphabetically.
func (c Campaign) LocaleFor(prefs ...string) string {
	for _, p := range prefs {
		for _, l := range []string{p, shortLocale(p)} {
			if c.Subject[l] != "" && c.Body[l] != "" {
				return l
			}
		}
	}
	for _, l := range sortedKeys(c.Subject) {
		if c.Body[l] != "" {
			return l
		}
	}
	return ""
}

func shortLocale(l string) string {
	if len(l) > 2 {
		return l[:2]
	}
	return l
}

// sortedKeys lists the languages with a value in any of ts.
func sortedKeys(ts ...locale.Text) []string {
	var out []string
	for _, t := range ts {
		for l, v := range t {
			if v != "" && !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	slices.Sort(out)
	return out
}
