package email

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	texttemplate "text/template"

	"agora/domain/locale"
)

//go:embed strings/*.json
var stringFiles embed.FS

//go:embed templates/*
var templateFiles embed.FS

// Branding is how a city signs its emails.
type Branding struct {
	CityName     string
	PrimaryColor string
	PortalURL    string // e.g. https://participatie.gent.be
}

// Content is the variable part of an account email.
type Content struct {
	Kind      string // confirm, reset
	Locale    string
	FirstName string
	Link      string
	Code      string
	Role      string // invitation: the role offered
	// Data is what the templates of a kind read beyond the fields above
	// (a digest's items).
	Data any
	// Subject, when set, is the email's subject (a campaign written by the
	// city's staff); otherwise the kind's own subject string.
	Subject string
	// Unsubscribe is the one-click unsubscribe link of a campaign email
	// (empty for transactional email); Preferences, the page where the
	// recipient chooses which emails they get. Both show in the footer.
	Unsubscribe, Preferences string
}

// Composer renders Agora's emails in the recipient's language.
type Composer struct {
	strings *locale.Catalog
	html    *htmltemplate.Template
	text    *texttemplate.Template
}

// NewComposer parses the embedded email strings and templates.
func NewComposer() (*Composer, error) {
	sub, _ := fs.Sub(stringFiles, "strings")
	cat, err := locale.LoadCatalog(sub)
	if err != nil {
		return nil, err
	}
	h, err := htmltemplate.ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	t, err := texttemplate.ParseFS(templateFiles, "templates/*.txt")
	if err != nil {
		return nil, err
	}
	return &Composer{strings: cat, html: h, text: t}, nil
}

// data is what the templates see.
type data struct {
	Branding
	Content
	t, common func(key string, args ...any) string
}

// T translates key of the email's kind into its language.
func (d data) T(key string, args ...any) string { return d.t(key, args...) }

// C translates a key shared by every kind ("common.<key>").
func (d data) C(key string, args ...any) string { return d.common(key, args...) }

// L picks city content in the email's language.
func (d data) L(t locale.Text) string { return t.Pick(d.Locale) }

// String is one email string in a locale (falling back as the catalog does).
func (c *Composer) String(locale, key string, args ...any) string {
	return c.strings.T(locale, key, args...)
}

// Compose returns the subject, plain text and HTML of an email.
func (c *Composer) Compose(b Branding, ct Content) (subject, text, html string, err error) {
	d := data{Branding: b, Content: ct, t: func(key string, args ...any) string {
		return c.strings.T(ct.Locale, ct.Kind+"."+key, args...)
	}, common: func(key string, args ...any) string {
		return c.strings.T(ct.Locale, "common."+key, args...)
	}}
	if c.html.Lookup(ct.Kind+".html") == nil {
		return "", "", "", fmt.Errorf("compose: no email of kind %q", ct.Kind)
	}
	var hb, tb bytes.Buffer
	if err := c.html.ExecuteTemplate(&hb, ct.Kind+".html", d); err != nil {
		return "", "", "", fmt.Errorf("compose %s: %w", ct.Kind, err)
	}
	if err := c.text.ExecuteTemplate(&tb, ct.Kind+".txt", d); err != nil {
		return "", "", "", fmt.Errorf("compose %s: %w", ct.Kind, err)
	}
	subject = ct.Subject
	if subject == "" {
		subject = d.t("subject", b.CityName)
	}
	return subject, tb.String(), hb.String(), nil
}

// RoleName is the role offered by an invitation, in the email's language.
func (d data) RoleName() string {
	if d.Role == "" {
		return ""
	}
	return d.t("role_" + d.Role)
}
