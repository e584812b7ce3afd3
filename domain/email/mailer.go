package email

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	mail "github.com/wneessen/go-mail"
)

// Message is one email ready to send.
type Message struct {
	FromName  string
	From      string
	To        string
	Subject   string
	Text      string
	HTML      string
	MessageID string            // without angle brackets; stable per delivery
	Headers   map[string]string // e.g. List-Unsubscribe
	// Campaign is the kind the email belongs to (confirm, reset,
	// user_digest, manual, ...), for the statistics; it is not sent.
	Campaign string
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SMTP sends through an SMTP server given as smtp://[user:pass@]host:port
// (STARTTLS when offered) or smtps://... (implicit TLS).
type SMTP struct {
	host string
	opts []mail.Option
}

// NewSMTP parses an SMTP URL (AGORA_SMTP_URL).
func NewSMTP(rawURL string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("smtp url: %w", err)
	}
	port := 25
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("smtp url: bad port %q", p)
		}
	}
	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(30 * time.Second), mail.WithHELO("agora")}
	switch u.Scheme {
	case "smtp":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	case "smtps":
		opts = append(opts, mail.WithSSL())
	default:
		return nil, fmt.Errorf("smtp url: scheme %q is not smtp or smtps", u.Scheme)
	}
	if u.User != nil {
		pw, _ := u.User.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(u.User.Username()), mail.WithPassword(pw))
	}
	return &SMTP{host: u.Hostname(), opts: opts}, nil
}

// Send delivers m over one SMTP connection.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg := mail.NewMsg()
	if err := msg.FromFormat(m.FromName, m.From); err != nil {
		return fmt.Errorf("send mail: from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("send mail: to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	if m.MessageID != "" {
		msg.SetMessageIDWithValue(m.MessageID)
	} else {
		msg.SetMessageID()
	}
	for k, v := range m.Headers {
		msg.SetGenHeader(mail.Header(k), v)
	}
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	c, err := mail.NewClient(s.host, s.opts...)
	if err != nil {
		return fmt.Errorf("send mail: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send mail to %s: %w", m.To, err)
	}
	return nil
}
