package campaign_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/campaign"
	"agora/domain/errs"
	"agora/domain/locale"
)

func TestSanitizeBody(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, in, want string }{
		{"plain text becomes paragraphs", "Dear all,\nthe park opens.\r\n\r\nSee you & yours", "<p>Dear all,<br>the park opens.</p><p>See you &amp; yours</p>"},
		{"rich text keeps its structure", `<h2>News</h2><p><strong>Big</strong> <em>day</em></p><ul><li>one</li></ul>`, `<h2>News</h2><p><strong>Big</strong> <em>day</em></p><ul><li>one</li></ul>`},
		{"scripts and handlers go", `<p onclick="x()">Hi<script>alert(1)</script></p>`, `<p>Hi</p>`},
		{"javascript links go", `<p><a href="javascript:alert(1)">x</a></p>`, `<p>x</p>`},
		{"relative links go", `<p><a href="/ideas/1">idea</a></p>`, `<p>idea</p>`},
		{"web and mail links stay", `<a href="https://gent.be/x">site</a> <a href="mailto:a@gent.be">mail</a>`, `<a href="https://gent.be/x">site</a> <a href="mailto:a@gent.be">mail</a>`},
		{"styles and images go", `<p style="color:red">x<img src="https://t.example/p.gif"></p>`, `<p>x</p>`},
		{"nothing but markup is empty", `<p> </p><script>x</script>`, ``},
	} {
		require.Equal(t, c.want, campaign.SanitizeBody(c.in), c.name)
	}
}

func TestPlainText(t *testing.T) {
	t.Parallel()
	got := campaign.PlainText(`<h2>The park</h2><p>It opens <strong>Saturday</strong>.<br>Come!</p>` +
		`<ul><li>Music</li><li>Food &amp; drinks</li></ul><p>Read <a href="https://gent.be/park">the programme</a> or write to ` +
		`<a href="mailto:park@gent.be">park@gent.be</a>.</p>`)
	require.Equal(t, "The park\n\nIt opens Saturday.\nCome!\n\n- Music\n- Food & drinks\n\n"+
		"Read the programme (https://gent.be/park) or write to park@gent.be.", got)
}

func TestMessageClean(t *testing.T) {
	t.Parallel()
	locales := []string{"nl", "fr", "en"}
	m := campaign.Message{
		Subject:  locale.Text{"nl": "  Het   park\nopent ", "fr": "", "en": "The park opens"},
		Body:     locale.Text{"nl": "Kom!", "en": "<p>Come<script>x</script></p>", "fr": "  "},
		GroupIDs: []int64{3, 1, 3},
	}
	require.NoError(t, m.Clean("test", locales))
	require.Equal(t, locale.Text{"nl": "Het park opent", "en": "The park opens"}, m.Subject, "one line, empty languages dropped")
	require.Equal(t, locale.Text{"nl": "<p>Kom!</p>", "en": "<p>Come</p>"}, m.Body)
	require.Equal(t, campaign.Groups, m.Audience, "groups unless everyone is chosen")
	require.Equal(t, []int64{1, 3}, m.GroupIDs)

	all := campaign.Message{Subject: locale.Text{"en": "x"}, Audience: campaign.Everyone, GroupIDs: []int64{4}}
	require.NoError(t, all.Clean("test", locales))
	require.Empty(t, all.GroupIDs, "everyone needs no group")

	for _, c := range []struct {
		name  string
		m     campaign.Message
		field string
	}{
		{"no subject", campaign.Message{Body: locale.Text{"en": "x"}}, "subject"},
		{"a language the city lacks", campaign.Message{Subject: locale.Text{"de": "x"}}, "subject"},
		{"a body in a language the city lacks", campaign.Message{Subject: locale.Text{"en": "x"}, Body: locale.Text{"es": "y"}}, "body"},
		{"a subject too long", campaign.Message{Subject: locale.Text{"en": strings.Repeat("a", 201)}}, "subject"},
		{"an unknown audience", campaign.Message{Subject: locale.Text{"en": "x"}, Audience: "friends"}, "audience"},
		{"a bad group id", campaign.Message{Subject: locale.Text{"en": "x"}, GroupIDs: []int64{-1}}, "group_ids"},
	} {
		err := c.m.Clean("test", locales)
		require.Equal(t, errs.Invalid, errs.CodeOf(err), c.name)
		e, _ := errs.As(err)
		require.Equal(t, c.field, e.Field, c.name)
	}
}

func TestReadyAndLocaleFor(t *testing.T) {
	t.Parallel()
	c := campaign.Campaign{Subject: locale.Text{"nl": "Park", "fr": "Parc"}, Body: locale.Text{"nl": "<p>Kom</p>", "fr": "<p>Venez</p>"},
		Audience: campaign.Everyone}
	require.NoError(t, c.Ready("test"))
	require.Equal(t, "fr", c.LocaleFor("fr", "nl"))
	require.Equal(t, "fr", c.LocaleFor("fr-BE"), "a regional language falls back to its language")
	require.Equal(t, "nl", c.LocaleFor("en", "nl", "fr"), "a language not written falls back to the city's")
	require.Equal(t, "fr", c.LocaleFor("de"), "and at last to the first written one")

	half := c
	half.Subject = locale.Text{"nl": "Park", "fr": "Parc", "en": "Park"}
	require.Equal(t, "campaign_no_body", rule(half.Ready("test")), "a subject without its text")
	half = c
	half.Body = locale.Text{"nl": "<p>Kom</p>", "fr": "<p>Venez</p>", "en": "<p>Come</p>"}
	require.Equal(t, "campaign_no_subject", rule(half.Ready("test")))
	require.Equal(t, "campaign_empty", rule(campaign.Campaign{Audience: campaign.Everyone}.Ready("test")))
	noGroup := c
	noGroup.Audience = campaign.Groups
	require.Equal(t, "campaign_no_audience", rule(noGroup.Ready("test")))
}

func rule(err error) string {
	e, ok := errs.As(err)
	if !ok {
		return ""
	}
	return e.Rule
}
