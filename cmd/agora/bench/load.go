package bench

import (
	"fmt"
	"math"
	mrand "math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

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

// readResult is one phase's throughput and latency.
type readResult struct {
	name string
	rps  float64
	lat  latencies
}

// load runs clients goroutines calling do in a loop for d and reports
// throughput and latency of the calls. Any failed call fails the run.
func load(clients int, d time.Duration, do func(rng *mrand.Rand) error) (readResult, error) {
	r := drive(clients, d, func(_ int, rng *mrand.Rand) error { return do(rng) })
	if r.failed > 0 {
		return readResult{}, fmt.Errorf("%d requests failed, first: %v", r.failed, r.first)
	}
	return readResult{rps: r.rps, lat: r.lat}, nil
}

// latencies are the quantiles of a run's durations.
type latencies struct{ p50, p95, p99, max time.Duration }

func summarize(ds []time.Duration) latencies {
	if len(ds) == 0 {
		return latencies{}
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(math.Ceil(q*float64(len(s))))-1)] }
	return latencies{p50: at(0.50), p95: at(0.95), p99: at(0.99), max: s[len(s)-1]}
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
