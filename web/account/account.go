// Package account is a person's own account on a city's portal: signing
// up and in, confirming and changing the email address, resetting the
// password, the profile with its picture and email choices, API tokens,
// accepting an invitation, downloading or deleting one's data, and the
// one-click unsubscribe. Pages and their JSON API side by side.
package account

import (
	"embed"
	"log/slog"

	"agora/domain/email"
	"agora/domain/site"
	"agora/domain/user"
	"agora/web/kit"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Deps are the services accounts need.
type Deps struct {
	Users    *user.Service
	Site     *site.Service
	Consents *email.ConsentService
	Log      *slog.Logger
}

// Account serves the account pages and API.
type Account struct {
	*kit.Kit
	pages    *kit.Templates
	users    *user.Service
	site     *site.Service
	consents *email.ConsentService
	log      *slog.Logger
}

// New builds the account handlers.
func New(k *kit.Kit, d Deps) (*Account, error) {
	pages, err := k.Parse(templateFiles, "templates")
	if err != nil {
		return nil, err
	}
	return &Account{Kit: k, pages: pages, users: d.Users, site: d.Site, consents: d.Consents, log: d.Log}, nil
}

// page is the data of the account pages.
type page struct {
	kit.Chrome
	Fields          []user.Field // the city's registration questions
	Invitation      *user.Invitation
	InvitationToken string // the token of the invitation link being accepted
	Exports         []user.DataExport
	Consents        []consentView // the profile's email choices
	Unsubscribe     *unsubscribeView
}
