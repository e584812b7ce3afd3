package email_test

import (
	"strings"
	"testing"

	"agora/domain/email"
	"agora/domain/locale"
)

const secret = "a-test-secret-of-at-least-32-characters!"

func TestUnsubscribeToken(t *testing.T) {
	t.Parallel()
	u := email.Unsubscribe{TenantID: 7, UserID: 42, Campaign: email.UserDigest}
	tok := u.Token(secret)
	got, err := email.ParseUnsubscribe(secret, tok)
	if err != nil || got != u {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	parts := strings.Split(tok, ".")
	forged := []string{
		"",
		"7.42.user_digest",
		strings.Join([]string{"8", parts[1], parts[2], parts[3]}, "."),            // another city
		strings.Join([]string{parts[0], "43", parts[2], parts[3]}, "."),           // another user
		strings.Join([]string{parts[0], parts[1], "admin_digest", parts[3]}, "."), // another campaign
		strings.Join([]string{parts[0], parts[1], "confirm", parts[3]}, "."),      // a transactional kind
		tok + "x",
		email.Unsubscribe{TenantID: 7, UserID: 42, Campaign: email.UserDigest}.Token("another-secret-of-at-least-32-chars!!"),
	}
	for _, f := range forged {
		if _, err := email.ParseUnsubscribe(secret, f); err == nil {
			t.Errorf("token %q was accepted", f)
		}
	}
}

func TestDigestCarriesUnsubscribeFooters(t *testing.T) {
	t.Parallel()
	c, err := email.NewComposer()
	if err != nil {
		t.Fatal(err)
	}
	data := struct {
		Ideas []struct {
			ID           int64
			Title        string
			ProjectTitle locale.Text
			Likes        int
			Comments     int
		}
		Phases []struct{}
	}{}
	data.Ideas = append(data.Ideas, struct {
		ID           int64
		Title        string
		ProjectTitle locale.Text
		Likes        int
		Comments     int
	}{ID: 3, Title: "Benches <by> the river", ProjectTitle: locale.Text{"nl": "Park", "en": "Park EN"}, Likes: 2})
	link := "https://gent.example.org/unsubscribe?token=t0k3n"
	for _, loc := range []string{"en", "fr", "nl"} {
		subject, text, html, err := c.Compose(email.Branding{CityName: "Gent", PrimaryColor: "#112233", PortalURL: "https://gent.example.org"},
			email.Content{Kind: "user_digest", Locale: loc, FirstName: "An", Data: data, Unsubscribe: link, Preferences: "https://gent.example.org/profile#email-consents"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(subject, "Gent") || !strings.Contains(text, link) || !strings.Contains(html, link) {
			t.Errorf("%s: the unsubscribe link is missing:\n%s\n%s", loc, text, html)
		}
		if !strings.Contains(html, "Benches &lt;by&gt; the river") {
			t.Errorf("%s: the idea title is not escaped in HTML: %s", loc, html)
		}
		if strings.Contains(text, "user_digest.") || strings.Contains(text, "common.") {
			t.Errorf("%s: a string is missing from the catalog:\n%s", loc, text)
		}
	}
	// Transactional emails have no unsubscribe footer.
	_, text, html, err := c.Compose(email.Branding{CityName: "Gent", PortalURL: "https://gent.example.org"},
		email.Content{Kind: "confirm", Locale: "en", FirstName: "An", Link: "https://x/confirm", Code: "123456"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text+html, "nsubscribe") {
		t.Error("a confirmation email carries an unsubscribe footer")
	}
}
