// Package email handles email addresses and, for delivery, messages.
package email

import (
	"net/mail"
	"strings"

	"agora/domain/errs"
)

// Normalize lower-cases and validates a bare address (no display name, a
// dot in the domain, at most 254 bytes). Errors are errs.Invalid naming field.
func Normalize(op, field, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	a, err := mail.ParseAddress(raw)
	if err != nil || a.Address != raw || len(raw) > 254 || !strings.Contains(raw[strings.LastIndexByte(raw, '@'):], ".") {
		return "", errs.InvalidField(op, field, "%q is not an email address", raw).WithRule("format")
	}
	return strings.ToLower(a.Address), nil
}

// Key is the one form of an address typed by a person that every key built
// from it (rate limits, lookups) must use: the normalised address when it is
// one, else the trimmed, lower-cased text. " Ann@X.org " and "ann@x.org"
// are the same key, so white space or case never buys a fresh limit.
func Key(raw string) string {
	if a, err := Normalize("", "", raw); err == nil {
		return a
	}
	return strings.ToLower(strings.TrimSpace(raw))
}
