package main

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"agora/config"
	"agora/tenant"
)

// benchEnv is what every benchmark starts from: a database of its own with
// the platform migrated, its pool, the door and the registry.
type benchEnv struct {
	dsn  string
	cfg  *config.Config
	pool *sqlx.DB
	db   *tenant.DB
	reg  *tenant.Registry
}

// openBench creates the throwaway database (kept when keep, for EXPLAIN)
// and migrates the platform; close drops it.
func openBench(ctx context.Context, keep bool, po tenant.PoolOptions) (env *benchEnv, close func(), err error) {
	cfg, err := config.Load(nil)
	if err != nil {
		return nil, nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	dsn, drop, err := benchDatabase(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	if keep {
		fmt.Printf("keeping benchmark database: %s\n", config.MaskURL(dsn))
		drop = func() {}
	}
	pool, err := tenant.OpenPool(dsn, po)
	if err != nil {
		drop()
		return nil, nil, err
	}
	close = func() { pool.Close(); drop() }
	if _, err := tenant.MigratePlatform(ctx, pool); err != nil {
		close()
		return nil, nil, err
	}
	db := tenant.NewDB(pool, nil)
	return &benchEnv{dsn: dsn, cfg: cfg, pool: pool, db: db, reg: tenant.NewRegistry(pool, cfg.BaseDomain, time.Hour)}, close, nil
}

// city creates a city with the real provisioning.
func (e *benchEnv) city(ctx context.Context, s tenant.Spec) (*tenant.Tenant, error) {
	created, err := tenant.NewProvisioner(e.db, e.cfg.BaseDomain, e.cfg.PlatformHost).Create(ctx, s)
	if err != nil {
		return nil, err
	}
	return created.Tenant, nil
}

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

// driven is what drive measured.
type driven struct {
	rps          float64
	lat          latencies // of the calls that succeeded
	done, failed int
	first        error // the first failure
}

// failure wraps a call's error for an atomic.Value.
type failure struct{ err error }

// drive runs clients goroutines calling do (with the client's number and
// its own random source) in a loop for d.
func drive(clients int, d time.Duration, do func(c int, rng *mrand.Rand) error) driven {
	deadline := time.Now().Add(d)
	lats := make([][]time.Duration, clients)
	var failed atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	began := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(c), 7))
			for time.Now().Before(deadline) {
				start := time.Now()
				if err := do(c, rng); err != nil {
					failed.Add(1)
					first.CompareAndSwap(nil, failure{err}) // one concrete type, as atomic.Value requires
					continue
				}
				lats[c] = append(lats[c], time.Since(start))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	r := driven{rps: float64(len(all)) / elapsed.Seconds(), lat: summarize(all), done: len(all), failed: int(failed.Load())}
	if f, ok := first.Load().(failure); ok {
		r.first = f.err
	}
	return r
}
