package email

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"agora/domain/errs"
	"agora/tenant"
)

// Unsubscribe is what a one-click unsubscribe link says: this user of this
// city leaves this campaign type.
type Unsubscribe struct {
	TenantID tenant.ID
	UserID   int64
	Campaign Campaign
}

// unsubscribeDomain separates these signatures from any other Agora signs
// with the same secret.
const unsubscribeDomain = "agora/unsubscribe/v1"

func (u Unsubscribe) sign(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%s\x00%d\x00%d\x00%s", unsubscribeDomain, u.TenantID, u.UserID, u.Campaign)
	return m.Sum(nil)
}

// Token returns the link token of u, signed with secret (AGORA_SECRET_KEY):
// "<city>.<user>.<campaign>.<signature>". It does not expire: an old email's
// link keeps working, and all it can do is unsubscribe.
func (u Unsubscribe) Token(secret string) string {
	return fmt.Sprintf("%d.%d.%s.%s", u.TenantID, u.UserID, u.Campaign, base64.RawURLEncoding.EncodeToString(u.sign(secret)))
}

// ParseUnsubscribe checks a token made by Token with secret and returns what
// it says. It does not check the city: the caller compares TenantID with the
// request's. Errors: errs.Invalid for a malformed or forged token.
func ParseUnsubscribe(secret, token string) (Unsubscribe, error) {
	bad := errs.InvalidField("email.ParseUnsubscribe", "token", "this unsubscribe link is not valid").WithRule("unsubscribe_token")
	parts := strings.Split(token, ".")
	if len(parts) != 4 {
		return Unsubscribe{}, bad
	}
	tid, err1 := strconv.ParseInt(parts[0], 10, 64)
	uid, err2 := strconv.ParseInt(parts[1], 10, 64)
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[3])
	u := Unsubscribe{TenantID: tenant.ID(tid), UserID: uid, Campaign: Campaign(parts[2])}
	if err1 != nil || err2 != nil || err3 != nil || tid <= 0 || uid <= 0 || !u.Campaign.Valid() {
		return Unsubscribe{}, bad
	}
	if !hmac.Equal(sig, u.sign(secret)) {
		return Unsubscribe{}, bad
	}
	return u, nil
}

// UnsubscribeHeaders are the RFC 8058 headers of an email whose one-click
// unsubscribe URL is link.
func UnsubscribeHeaders(link string) map[string]string {
	return map[string]string{
		"List-Unsubscribe":      "<" + link + ">",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
	}
}
