// Package wire builds Agora's services from the configuration and the
// database pools: the one place where they are made (cmd/agora calls it, and
// the tests and benchmarks that run the real server do the same).
package wire

import (
	"log/slog"

	"github.com/redis/go-redis/v9"

	"agora/config"
	"agora/domain/campaign"
	"agora/domain/digest"
	"agora/domain/email"
	"agora/domain/export"
	"agora/domain/feature"
	"agora/domain/follow"
	"agora/domain/group"
	"agora/domain/idea"
	"agora/domain/moderation"
	"agora/domain/notify"
	"agora/domain/operator"
	"agora/domain/project"
	"agora/domain/site"
	"agora/domain/user"
	"agora/tenant"
	"agora/web"
)

// Web returns what the web server needs. Its city services run over db
// with the web's limits (tenant.Limits from the configuration), so that a
// request waits for a connection within AGORA_DB_ACQUIRE_TIMEOUT and a
// city holds at most AGORA_DB_CITY_MAX_CONNS of a pool. rdb may be nil (no
// rate limits). The caller adds Jobs and DevMail when it has them.
func Web(cfg *config.Config, db *tenant.DB, reg *tenant.Registry, rdb *redis.Client, log *slog.Logger) (web.Deps, error) {
	composer, err := email.NewComposer()
	if err != nil {
		return web.Deps{}, err
	}
	wdb := db.WithLimits(tenant.Limits{AcquireTimeout: cfg.DBAcquireTimeout, CityMaxConns: cfg.DBCityMaxConns})
	return web.Deps{
		Config: cfg, DB: wdb, Registry: reg, Redis: rdb, Log: log,
		Site:          site.NewService(wdb),
		Users:         user.NewService(wdb),
		Consents:      email.NewConsentService(wdb),
		Projects:      project.NewService(wdb),
		Ideas:         idea.NewService(wdb),
		Features:      feature.NewService(wdb),
		Follows:       follow.NewService(wdb),
		Notifications: notify.NewService(wdb),
		Moderation:    moderation.NewService(wdb),
		Groups:        group.NewService(wdb),
		Digests:       digest.NewService(wdb),
		Exports:       export.NewService(wdb, cfg.StorageDir, export.NewSigner(cfg.SecretKey)),
		Campaigns:     campaign.NewService(wdb),
		Composer:      composer,
		Operators:     operator.NewService(db.Platform()),
		Operations:    tenant.NewOperations(wdb, reg, cfg.PlatformHost, cfg.StorageDir),
		// Provisioning migrates a whole schema in one transaction: the
		// unlimited db, as the CLI has.
		Provisioner: tenant.NewProvisioner(db, cfg.BaseDomain, cfg.PlatformHost),
	}, nil
}
