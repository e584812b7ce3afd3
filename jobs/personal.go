package jobs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hibiken/asynq"

	"agora/domain/user"
)

// DataExports builds personal data archives.
type DataExports struct {
	users      *user.Service
	storageDir string
}

// Build handles user.TaskDataExport: it builds a user's personal data
// archive.
func (d *DataExports) Build(ctx context.Context, task *asynq.Task) error {
	var p struct {
		Payload
		ExportID int64 `json:"export_id"`
	}
	if err := json.Unmarshal(task.Payload(), &p); err != nil || p.ExportID <= 0 {
		return fmt.Errorf("data export payload %s: %w", task.Payload(), asynq.SkipRetry)
	}
	return d.users.BuildDataExport(ctx, p.ExportID, d.storageDir)
}
