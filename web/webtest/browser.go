package webtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// chromiumPath is Debian's Chromium, which make test installs.
const chromiumPath = "/usr/bin/chromium"

// Browser is a headless Chromium for one test: it reaches every
// *.agora.test host on this machine without DNS and records what pages write
// to the console (CSP violations and script errors show up there).
type Browser struct {
	Ctx     context.Context // the browser's chromedp context
	mu      sync.Mutex
	console []string
}

// StartBrowser starts Chromium for at most timeout, with extra flags, and
// stops it when the test ends. It skips the test only when Chromium is not
// installed. The timeout bounds the whole session, so it must leave room
// for a loaded machine (`make test` runs packages and browsers side by
// side on two cores): it stops a hung browser, it measures nothing.
func StartBrowser(t *testing.T, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) *Browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("headless Chromium is not installed at %s: %v", chromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("host-resolver-rules", "MAP *.agora.test 127.0.0.1"),
	)
	opts = append(opts, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc(); cancel() })
	require.NoError(t, chromedp.Do(bctx), "start Chromium")
	b := &Browser{Ctx: bctx}
	messages := chromedp.Console(bctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, fmt.Sprintf("%s %s (%s)", m.Type, m.String(), m.URL))
			b.mu.Unlock()
		}
	}()
	return b
}

// RequireCleanConsole fails the test if a page broke its CSP or threw.
func (b *Browser) RequireCleanConsole(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.console {
		require.NotContains(t, m, "Content Security Policy", "the page broke its own CSP")
		require.False(t, strings.HasPrefix(m, "exception"), "script error: %s", m)
	}
}
