// Package password hashes and verifies passwords with argon2id.
package password

import (
	"unicode/utf8"

	"agora/domain/errs"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's password storage recommendation (m=19 MiB,
// t=2, p=1). They are encoded in every hash, so raising them later only
// affects new hashes.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

// Hash returns the PHC-format argon2id hash of pw.
func Hash(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify reports whether pw matches the PHC hash. An empty or
// malformed hash never matches.
func Verify(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// dummy is a hash of nothing anyone knows; see Waste.
const dummy = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$0xeu4tS1eWUv4q9kg7YKYDQpU0AX2f1WZ4iO3RzHOtk"

// Waste spends the time of one verification. Call it when an account is
// unknown, so that a login for an unknown email costs the same as a wrong
// password and timing reveals nothing.
func Waste(pw string) { Verify(dummy, pw) }

// Check applies a minimum length (in characters) and a maximum size, so an
// attacker cannot make hashing expensive. Errors are errs.Invalid naming the
// "password" field.
func Check(op, pw string, minLen int) error {
	switch {
	case utf8.RuneCountInString(pw) < minLen:
		return errs.InvalidField(op, "password", "must be at least %d characters", minLen).WithRule("too_short", minLen)
	case len(pw) > 256:
		return errs.InvalidField(op, "password", "must be at most 256 bytes").WithRule("too_long", 256)
	}
	return nil
}
