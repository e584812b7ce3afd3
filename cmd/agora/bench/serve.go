package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"agora/cmd/agora/wire"
	"agora/config"
	"agora/tenant"
	"agora/web"
)

// quiet is the logger of the code under load: what it would log is not
// what a benchmark measures.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// webStack is the real web stack on db and reg, as agora serve builds it,
// logging nothing.
func webStack(cfg *config.Config, db *tenant.DB, reg *tenant.Registry) (*web.Server, error) {
	deps, err := wire.Web(cfg, db, reg, nil, quiet)
	if err != nil {
		return nil, err
	}
	return web.New(deps)
}

// serveLoopback serves h on a free loopback port and returns its base URL
// and a stop func.
func serveLoopback(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return (&url.URL{Scheme: "http", Host: ln.Addr().String()}).String(), func() { _ = hs.Close() }, nil
}

// get requests target with host in Host, reads the answer to the end (so the
// connection is reused) and fails unless it is a 200.
func get(ctx context.Context, client *http.Client, target, host string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s on %s: %s", target, host, resp.Status)
	}
	return nil
}
