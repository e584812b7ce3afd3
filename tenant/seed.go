package tenant

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// text is a multilingual value: one string per locale.
type text map[string]string

// localized picks, for each of the city's locales, the seed translation or
// the English one when Agora ships none for that locale.
func localized(locales []string, t text) string {
	out := map[string]string{}
	for _, l := range locales {
		if s, ok := t[l]; ok {
			out[l] = s
		} else if s, ok := t[l[:2]]; ok {
			out[l] = s
		} else {
			out[l] = t["en"]
		}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

var seedWelcome = text{
	"en": "Welcome to the participation platform of %s. Share your ideas, join the conversation and help shape the city.",
	"fr": "Bienvenue sur la plateforme de participation de %s. Partagez vos idées, participez au débat et construisez la ville avec nous.",
	"nl": "Welkom op het participatieplatform van %s. Deel je ideeën, praat mee en bouw mee aan de stad.",
}

var seedPages = []struct {
	slug        string
	title, body text
}{
	{"about", text{"en": "About this platform", "fr": "À propos de cette plateforme", "nl": "Over dit platform"},
		text{"en": "This platform is where the city and its residents work on projects together.",
			"fr": "Cette plateforme est l'espace où la ville et ses habitants mènent des projets ensemble.",
			"nl": "Op dit platform werken de stad en haar inwoners samen aan projecten."}},
	{"terms", text{"en": "Terms of use", "fr": "Conditions d'utilisation", "nl": "Gebruiksvoorwaarden"},
		text{"en": "Be respectful. Contributions that break the law or these terms may be hidden by moderators.",
			"fr": "Soyez respectueux. Les contributions illégales ou contraires à ces conditions peuvent être masquées par les modérateurs.",
			"nl": "Wees respectvol. Bijdragen die de wet of deze voorwaarden schenden, kunnen door moderatoren verborgen worden."}},
	{"privacy", text{"en": "Privacy policy", "fr": "Politique de confidentialité", "nl": "Privacybeleid"},
		text{"en": "The city processes your personal data only to run this platform. You can download or delete your data at any time.",
			"fr": "La ville traite vos données personnelles uniquement pour faire fonctionner cette plateforme. Vous pouvez les télécharger ou les supprimer à tout moment.",
			"nl": "De stad verwerkt je persoonsgegevens enkel om dit platform te laten werken. Je kunt je gegevens altijd downloaden of verwijderen."}},
}

var seedTopics = []struct {
	code  string
	title text
}{
	{"mobility", text{"en": "Mobility", "fr": "Mobilité", "nl": "Mobiliteit"}},
	{"environment", text{"en": "Environment", "fr": "Environnement", "nl": "Milieu"}},
	{"housing", text{"en": "Housing", "fr": "Logement", "nl": "Wonen"}},
	{"culture", text{"en": "Culture", "fr": "Culture", "nl": "Cultuur"}},
	{"safety", text{"en": "Safety", "fr": "Sécurité", "nl": "Veiligheid"}},
	{"economy", text{"en": "Economy", "fr": "Économie", "nl": "Economie"}},
	{"education", text{"en": "Education", "fr": "Éducation", "nl": "Onderwijs"}},
	{"health", text{"en": "Health", "fr": "Santé", "nl": "Gezondheid"}},
}

// seed writes a new city's default data. It runs inside the provisioning
// transaction with the city's search_path in force.
func seed(ctx context.Context, tx sqlx.ExecerContext, s Spec) error {
	welcome := text{}
	for l, v := range seedWelcome {
		welcome[l] = fmt.Sprintf(v, s.Name)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, welcome) VALUES ($1, $2)`,
		s.Name, localized(s.Locales, welcome)); err != nil {
		return fmt.Errorf("seed settings: %w", err)
	}
	for i, p := range seedPages {
		if _, err := tx.ExecContext(ctx, `INSERT INTO pages (slug, title, body, position) VALUES ($1, $2, $3, $4)`,
			p.slug, localized(s.Locales, p.title), localized(s.Locales, p.body), i); err != nil {
			return fmt.Errorf("seed page %s: %w", p.slug, err)
		}
	}
	for i, t := range seedTopics {
		if _, err := tx.ExecContext(ctx, `INSERT INTO topics (code, title, position) VALUES ($1, $2, $3)`,
			t.code, localized(s.Locales, t.title), i); err != nil {
			return fmt.Errorf("seed topic %s: %w", t.code, err)
		}
	}
	return nil
}
