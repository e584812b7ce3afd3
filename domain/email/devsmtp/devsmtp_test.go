package devsmtp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"agora/domain/email"
	"agora/domain/email/devsmtp"
)

// TestRealClientDelivers sends through Agora's SMTP sender (go-mail) to the
// capture server and reads the message back, headers and both bodies.
func TestRealClientDelivers(t *testing.T) {
	srv, err := devsmtp.Start("127.0.0.1:0", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	sender, err := email.NewSMTP(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = sender.Send(ctx, email.Message{
		FromName: "Stad Gent", From: "noreply@gent.example.org", To: "ann@example.org",
		Subject: "Bevestig je e-mailadres", Text: "Je code is 123456.\n", HTML: "<p>Je code is <b>123456</b>.</p>",
		MessageID: "confirm.1@gent.example.org", Headers: map[string]string{"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.To("ann@example.org")
	if len(msgs) != 1 {
		t.Fatalf("got %d messages", len(msgs))
	}
	m := msgs[0]
	if m.Subject != "Bevestig je e-mailadres" || !strings.Contains(m.Text, "123456") || !strings.Contains(m.HTML, "<b>123456</b>") {
		t.Fatalf("unexpected message: subject %q text %q html %q", m.Subject, m.Text, m.HTML)
	}
	if m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.Contains(m.Header.Get("Message-Id"), "confirm.1@gent.example.org") {
		t.Fatalf("headers lost: %v", m.Header)
	}
	if m.From != "noreply@gent.example.org" {
		t.Fatalf("envelope from %q", m.From)
	}
}
