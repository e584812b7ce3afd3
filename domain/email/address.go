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
