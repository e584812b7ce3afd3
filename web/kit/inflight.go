package kit

import (
	"net/http"
	"sync"

	"agora/i18n"
)

// inFlight counts the requests each client address has in progress on this
// node, so that one client (however slowly it sends) cannot hold every
// worker of the server.
type inFlight struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

func newInFlight(max int) *inFlight { return &inFlight{max: max, n: map[string]int{}} }

// enter counts a request of ip in; false when ip already has max requests
// in progress (the request must then be refused without being counted).
func (f *inFlight) enter(ip string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[ip] >= f.max {
		return false
	}
	f.n[ip]++
	return true
}

// leave counts a request of ip out.
func (f *inFlight) leave(ip string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[ip] <= 1 {
		delete(f.n, ip)
		return
	}
	f.n[ip]--
}

// Enter counts a request in for its client address; false when that address
// already has as many requests in progress as it may (the request must then
// be refused). Call release when the request is done.
func (k *Kit) Enter(r *http.Request) (release func(), ok bool) {
	ip := k.ClientIP(r)
	if !k.inflight.enter(ip) {
		return nil, false
	}
	return func() { k.inflight.leave(ip) }, true
}

// InFlight reports how many requests are in progress on this server, for
// every client address together.
func (k *Kit) InFlight() int {
	k.inflight.mu.Lock()
	defer k.inflight.mu.Unlock()
	total := 0
	for _, n := range k.inflight.n {
		total += n
	}
	return total
}

// TooManyInFlight answers a client that has too many requests in progress,
// in the language its browser asks for (no city is resolved yet).
func (k *Kit) TooManyInFlight(w http.ResponseWriter, r *http.Request) {
	loc := i18n.Negotiate(k.I18n.Locales(), "", r.Header.Get("Accept-Language"))
	w.Header().Set("Retry-After", "1")
	w.Header().Set("Content-Language", loc)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusTooManyRequests)
	_ = JSONEncode(w, Problem{
		Type: "about:blank", Title: k.I18n.T(loc, "error.in_flight.title"), Status: http.StatusTooManyRequests,
		Code: "rate_limited", Detail: k.I18n.T(loc, "error.in_flight.body"),
		Instance: r.URL.Path,
	})
}
