package tenant

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// NormalizeHost turns a Host header (or a host typed by an operator) into the
// key of platform.tenant_hosts: lower-case, without port or trailing dot,
// internationalised names in punycode. It refuses IP literals (ErrIPHost) and
// anything that is not a valid DNS name (ErrInvalidHost).
func NormalizeHost(raw string) (string, error) {
	h := strings.TrimSpace(raw)
	if h == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidHost)
	}
	if strings.HasPrefix(h, "[") {
		return "", ErrIPHost // [::1] or [::1]:8080
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		if strings.Count(h, ":") > 1 {
			return "", ErrIPHost // bare IPv6
		}
		port := h[i+1:]
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] == '+' {
			return "", fmt.Errorf("%w: bad port %q", ErrInvalidHost, port)
		}
		h = h[:i]
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidHost)
	}
	if net.ParseIP(h) != nil {
		return "", ErrIPHost
	}
	if !utf8.ValidString(h) {
		return "", fmt.Errorf("%w: not valid UTF-8", ErrInvalidHost)
	}
	ascii, err := idna.Lookup.ToASCII(h)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrInvalidHost, raw, err)
	}
	ascii = strings.ToLower(ascii)
	if len(ascii) > 253 {
		return "", fmt.Errorf("%w: longer than 253 characters", ErrInvalidHost)
	}
	labels := strings.Split(ascii, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "", fmt.Errorf("%w: %q has an empty or over-long label", ErrInvalidHost, raw)
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", fmt.Errorf("%w: %q contains %q", ErrInvalidHost, raw, c)
			}
		}
	}
	// A name whose last label is numeric (127.1, 0x7f.1) is read as an IPv4
	// address by browsers: refuse it like any IP literal.
	last := labels[len(labels)-1]
	if strings.HasPrefix(last, "0x") || strings.Trim(last, "0123456789") == "" {
		return "", ErrIPHost
	}
	return ascii, nil
}
