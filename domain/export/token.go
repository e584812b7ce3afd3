package export

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"agora/domain/errs"
	"agora/tenant"
)

// Signer signs and checks download links. A link names its city, its
// export and its expiry, and is worthless on any other city, for any other
// export and after that moment.
type Signer struct{ key []byte }

// NewSigner returns a signer keyed by the installation's secret
// (AGORA_SECRET_KEY).
func NewSigner(secret string) Signer { return Signer{key: []byte(secret)} }

// mac is HMAC-SHA256 over the purpose, the city, the export and the expiry.
func (s Signer) mac(city tenant.ID, id int64, exp int64) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("agora export download\x00"))
	m.Write([]byte(strconv.FormatInt(int64(city), 10) + "\x00" + strconv.FormatInt(id, 10) + "\x00" + strconv.FormatInt(exp, 10)))
	return m.Sum(nil)
}

// Token returns the signed token of export id of city, valid until exp:
// "<expiry as Unix seconds>.<signature>".
func (s Signer) Token(city tenant.ID, id int64, exp time.Time) string {
	return strconv.FormatInt(exp.Unix(), 10) + "." + base64.RawURLEncoding.EncodeToString(s.mac(city, id, exp.Unix()))
}

// Check verifies token for export id of city at now. Errors: errs.NotFound
// for a token that was not signed for this city and export (forged, mangled,
// or another city's), errs.Forbidden with rule "expired" once it expired.
func (s Signer) Check(city tenant.ID, id int64, token string, now time.Time) error {
	const op = "export.Check"
	expS, sigS, ok := strings.Cut(token, ".")
	exp, err := strconv.ParseInt(expS, 10, 64)
	sig, err2 := base64.RawURLEncoding.DecodeString(sigS)
	if !ok || err != nil || err2 != nil || len(s.key) == 0 || !hmac.Equal(sig, s.mac(city, id, exp)) {
		return errs.E(op, errs.NotFound, "this download link is not valid here")
	}
	if !now.Before(time.Unix(exp, 0)) {
		return errs.E(op, errs.Forbidden, "this download link has expired; request the export again").WithRule("expired")
	}
	return nil
}

// IsExpired reports whether err says a link or its file expired.
func IsExpired(err error) bool {
	e, ok := errs.As(err)
	return ok && e.Rule == "expired"
}
