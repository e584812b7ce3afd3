// Package console is the operator's console on the platform host, never on
// a city's: signing in, the cities with their plans, overrides and usage,
// the background jobs, the mail captured in development, and the platform
// JSON API for the same.
package console

import (
	"embed"

	"agora/domain/email/devsmtp"
	"agora/domain/operator"
	"agora/jobs"
	"agora/tenant"
	"agora/web/kit"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Deps are what the console needs.
type Deps struct {
	DB         *tenant.DB
	Registry   *tenant.Registry
	Operations *tenant.Operations
	// Provisioner creates cities, the same one `agora tenant create` uses.
	Provisioner *tenant.Provisioner
	Operators   *operator.Service
	// Jobs reads the job queues for /jobs; nil: the page says the queue is
	// not configured.
	Jobs *jobs.Monitor
	// DevMail, in `agora dev`, is the mail capture shown at /dev/mail. Nil
	// in production: the page does not exist.
	DevMail *devsmtp.Server
}

// Console serves the console's pages and the platform API.
type Console struct {
	*kit.Kit
	pages     *kit.Templates
	db        *tenant.DB
	reg       *tenant.Registry
	ops       *tenant.Operations
	prov      *tenant.Provisioner
	operators *operator.Service
	jobs      *jobs.Monitor
	devMail   *devsmtp.Server
}

// New builds the console's handlers.
func New(k *kit.Kit, d Deps) (*Console, error) {
	pages, err := k.Parse(templateFiles, "templates")
	if err != nil {
		return nil, err
	}
	return &Console{Kit: k, pages: pages, db: d.DB, reg: d.Registry, ops: d.Operations, prov: d.Provisioner, operators: d.Operators,
		jobs: d.Jobs, devMail: d.DevMail}, nil
}

// HasDevMail reports whether the console shows captured mail (agora dev).
func (s *Console) HasDevMail() bool { return s.devMail != nil }

// page is the data of the console's pages.
type page struct {
	kit.Chrome
	Cities      []*tenant.Tenant
	Usage       map[tenant.ID]tenant.Usage
	ConsoleCity *cityView
	NewCity     *newCityView
	Jobs        *jobsView
	Mail        []mailView
}

// PlanNames and LifecycleNames list the console's choices.
func (v *page) PlanNames() []string { return []string{"essential", "standard", "premium"} }

func (v *page) LifecycleNames() []string { return []string{"trial", "active", "suspended", "churned"} }

// UsageOf is a city's last measured usage, if any.
func (v *page) UsageOf(id tenant.ID) *tenant.Usage {
	if u, ok := v.Usage[id]; ok {
		return &u
	}
	return nil
}
