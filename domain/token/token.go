// Package token makes the random secrets Agora hands out (session cookies,
// API tokens, email codes) and the hashes under which they are stored.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// New returns a random URL-safe secret starting with prefix, and its hash.
// Only the hash is ever stored.
func New(prefix string) (secret string, hash []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, Hash(secret)
}

// Hash is the SHA-256 of a secret, the form in which it is stored and looked up.
func Hash(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}
