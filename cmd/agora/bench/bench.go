// Package bench holds the benchmarks that `agora bench` runs: each fills a
// database of its own on the configured PostgreSQL server, drives the real
// code and prints figures and ratios measured in the same run; none asserts
// a timing.
package bench

import (
	"fmt"
	"io"

	"github.com/schollz/progressbar/v3"

	"agora/config"
)

// Runner runs the benchmarks. Every method creates a database of its own
// next to the one in Config.DatabaseURL, so that real cities are never
// touched, and drops it afterwards unless told to keep it.
type Runner struct {
	// Config names the PostgreSQL server (the database part of its
	// DatabaseURL is not used), the base domain, the platform host and the
	// secret key the benchmarked code runs with.
	Config *config.Config
	// Out receives the report: the figures, and where a kept database is.
	Out io.Writer
	// Progress receives what a benchmark is doing while it runs.
	Progress io.Writer
	// ProgressBar draws progress bars on Progress where a benchmark has
	// them; agora bench sets it when its stderr is a terminal.
	ProgressBar bool
}

// UsageError reports options a benchmark cannot run with. Its message names
// the options by the flags of agora bench.
type UsageError struct{ msg string }

func (e *UsageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &UsageError{fmt.Sprintf(format, a...)} }

// bar is a progress bar of total steps on Progress, or one that draws
// nothing when the Runner has no progress bars.
func (r *Runner) bar(total int, desc string) *progressbar.ProgressBar {
	if !r.ProgressBar {
		return progressbar.NewOptions(total, progressbar.OptionSetWriter(io.Discard))
	}
	return progressbar.NewOptions(total, progressbar.OptionSetWriter(r.Progress), progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
}
