package tenant

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// Usage is what a city uses, as last measured by the worker's hourly task.
type Usage struct {
	TenantID     ID        `db:"tenant_id" json:"tenant_id"`
	Users        int       `db:"users" json:"users"`
	Ideas        int       `db:"ideas" json:"ideas"`
	StorageBytes int64     `db:"storage_bytes" json:"storage_bytes"`
	ComputedAt   time.Time `db:"computed_at" json:"computed_at"`
}

// UsageByCity returns the last usage figures of every measured city.
func UsageByCity(ctx context.Context, db *sqlx.DB) (map[ID]Usage, error) {
	var rows []Usage
	if err := db.SelectContext(ctx, &rows, `SELECT tenant_id, users, ideas, storage_bytes, computed_at FROM platform.tenant_usage`); err != nil {
		return nil, err
	}
	out := make(map[ID]Usage, len(rows))
	for _, u := range rows {
		out[u.TenantID] = u
	}
	return out, nil
}
