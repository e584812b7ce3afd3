package bench

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// measured is what measure saw of one run.
type measured struct {
	secs     float64
	heapBase uint64 // Go heap in use before the run
	heapPeak uint64 // the highest Go heap in use during it, sampled every 5 ms
}

// measure runs fn after a GC and a reset of the process's peak RSS, timing
// it and sampling the Go heap; read peakRSS() afterwards for the process.
func measure(fn func() error) (measured, error) {
	runtime.GC()
	resetPeakRSS()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	t0 := time.Now()
	err := fn()
	secs := time.Since(t0).Seconds()
	close(stop)
	<-sampled
	return measured{secs: secs, heapBase: base.HeapInuse, heapPeak: peak.Load()}, err
}

// resetPeakRSS asks Linux to start VmHWM again from the current RSS.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is the process's peak resident memory (VmHWM), 0 where unknown.
func peakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// mb is b bytes in MiB.
func mb(b uint64) float64 { return float64(b) / (1 << 20) }

// rss prints a peakRSS figure, "unknown" for 0.
func rss(b uint64) string {
	if b == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f MB", mb(b))
}
