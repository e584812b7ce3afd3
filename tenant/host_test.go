package tenant_test

import (
	"errors"
	"net"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"agora/tenant"
)

func TestNormalizeHost(t *testing.T) {
	t.Parallel()
	label63 := strings.Repeat("a", 63)
	// 4 labels of 63 + 3 dots = 255 characters; 3 labels of 63 + "b.example" fits.
	name255 := strings.Join([]string{label63, label63, label63, label63}, ".")
	name253 := strings.Join([]string{label63, label63, label63, strings.Repeat("b", 61)}, ".")
	require.Len(t, name253, 253)

	tests := []struct {
		name string
		in   string
		want string // "" when an error is expected
		err  error  // ErrInvalidHost or ErrIPHost
	}{
		// Accepted, and how they are normalised.
		{"plain", "gent.example.org", "gent.example.org", nil},
		{"upper case", "Gent.EXAMPLE.Org", "gent.example.org", nil},
		{"port", "gent.example.org:8080", "gent.example.org", nil},
		{"port 443", "GENT.example.org:443", "gent.example.org", nil},
		{"trailing dot", "gent.example.org.", "gent.example.org", nil},
		{"trailing dot and port", "gent.example.org.:80", "gent.example.org", nil},
		{"surrounding spaces", "  gent.example.org\t", "gent.example.org", nil},
		{"single label", "localhost", "localhost", nil},
		{"hyphen", "sint-niklaas.example.be", "sint-niklaas.example.be", nil},
		{"digits inside", "city1.example2.org", "city1.example2.org", nil},
		{"numeric first label", "123.example.org", "123.example.org", nil},
		{"IDN to punycode", "Bücher.Example", "xn--bcher-kva.example", nil},
		{"IDN with port and dot", "bücher.example.:8443", "xn--bcher-kva.example", nil},
		{"punycode stays", "xn--bcher-kva.example", "xn--bcher-kva.example", nil},
		{"punycode upper case", "XN--BCHER-KVA.EXAMPLE", "xn--bcher-kva.example", nil},
		{"IDN city", "Liège.be", "xn--lige-6oa.be", nil},
		{"label of 63", label63 + ".example", label63 + ".example", nil},
		{"name of 253", name253, name253, nil},

		// Empty and malformed.
		{"empty", "", "", tenant.ErrInvalidHost},
		{"spaces only", "   ", "", tenant.ErrInvalidHost},
		{"dot only", ".", "", tenant.ErrInvalidHost},
		{"port only", ":80", "", tenant.ErrInvalidHost},
		{"inner space", "gent example.org", "", tenant.ErrInvalidHost},
		{"underscore", "my_city.example.org", "", tenant.ErrInvalidHost},
		{"empty label", "gent..example.org", "", tenant.ErrInvalidHost},
		{"leading dot", ".gent.example.org", "", tenant.ErrInvalidHost},
		{"two trailing dots", "gent.example.org..", "", tenant.ErrInvalidHost},
		{"leading hyphen", "-gent.example.org", "", tenant.ErrInvalidHost},
		{"trailing hyphen", "gent-.example.org", "", tenant.ErrInvalidHost},
		{"slash", "gent.example.org/admin", "", tenant.ErrInvalidHost},
		{"userinfo", "evil@gent.example.org", "", tenant.ErrInvalidHost},
		{"label of 64", strings.Repeat("a", 64) + ".example", "", tenant.ErrInvalidHost},
		{"name of 255", name255, "", tenant.ErrInvalidHost},
		{"bad punycode", "xn--zz-.example", "", tenant.ErrInvalidHost},
		{"NUL", "gent\x00.example.org", "", tenant.ErrInvalidHost},

		// Bad ports.
		{"port with letters", "gent.example.org:http", "", tenant.ErrInvalidHost},
		{"negative port", "gent.example.org:-1", "", tenant.ErrInvalidHost},
		{"port with space", "gent.example.org:80 80", "", tenant.ErrInvalidHost},
		{"port with dot", "gent.example.org:80.", "", tenant.ErrInvalidHost},

		// IP literals, however they are written.
		{"IPv4", "127.0.0.1", "", tenant.ErrIPHost},
		{"IPv4 with port", "10.0.0.1:8080", "", tenant.ErrIPHost},
		{"IPv4 trailing dot", "192.168.1.1.", "", tenant.ErrIPHost},
		{"IPv6 bare", "::1", "", tenant.ErrIPHost},
		{"IPv6 full", "2001:db8::8a2e:370:7334", "", tenant.ErrIPHost},
		{"IPv6 brackets", "[::1]", "", tenant.ErrIPHost},
		{"IPv6 brackets and port", "[2001:db8::1]:443", "", tenant.ErrIPHost},
		{"IPv4-mapped IPv6", "::ffff:127.0.0.1", "", tenant.ErrIPHost},
		{"short IPv4", "127.1", "", tenant.ErrIPHost},
		{"hex IPv4", "0x7f.1", "", tenant.ErrIPHost},
		{"hex last label", "1.0x7f", "", tenant.ErrIPHost},
		{"decimal IPv4", "2130706433", "", tenant.ErrIPHost},
		{"octal IPv4", "0177.0.0.1", "", tenant.ErrIPHost},
		{"numeric last label", "gent.example.1", "", tenant.ErrIPHost},
		{"full-width digits", "１２７.０.０.１", "", tenant.ErrIPHost},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tenant.NormalizeHost(tc.in)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err, "NormalizeHost(%q) = %q", tc.in, got)
				require.Empty(t, got)
				return
			}
			require.NoError(t, err, "NormalizeHost(%q)", tc.in)
			require.Equal(t, tc.want, got)
		})
	}
}

// FuzzNormalizeHost checks the contract of NormalizeHost on any input: it
// never panics, and what it accepts is a lower-case ASCII DNS name without
// port or trailing dot, stable under a second pass, and never an IP address.
func FuzzNormalizeHost(f *testing.F) {
	for _, s := range []string{"gent.example.org", "Bücher.Example:8080", "[::1]:80", "0x7f.1", "a_b.example."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out, err := tenant.NormalizeHost(raw)
		if err == nil && !utf8.ValidString(raw) {
			t.Fatalf("NormalizeHost(%q) accepted invalid UTF-8 as %q", raw, out)
		}
		if err != nil {
			if !errors.Is(err, tenant.ErrInvalidHost) && !errors.Is(err, tenant.ErrIPHost) {
				t.Fatalf("NormalizeHost(%q): error %v is neither ErrInvalidHost nor ErrIPHost", raw, err)
			}
			if out != "" {
				t.Fatalf("NormalizeHost(%q) = %q with error %v", raw, out, err)
			}
			return
		}
		if out == "" || len(out) > 253 {
			t.Fatalf("NormalizeHost(%q) = %q: bad length", raw, out)
		}
		for _, c := range []byte(out) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
				t.Fatalf("NormalizeHost(%q) = %q: byte %q is not lower-case ASCII", raw, out, c)
			}
		}
		if strings.HasSuffix(out, ".") || strings.Contains(out, ":") {
			t.Fatalf("NormalizeHost(%q) = %q: trailing dot or port left", raw, out)
		}
		if net.ParseIP(out) != nil {
			t.Fatalf("NormalizeHost(%q) = %q: an IP literal", raw, out)
		}
		again, err := tenant.NormalizeHost(out)
		if err != nil || again != out {
			t.Fatalf("not idempotent: NormalizeHost(%q) = %q, then NormalizeHost(%q) = %q, %v", raw, out, out, again, err)
		}
	})
}

func TestNormalizeHostRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"\xfa", "gent\xff.example.org", "b\xc3cher.example"} {
		out, err := tenant.NormalizeHost(raw)
		require.ErrorIs(t, err, tenant.ErrInvalidHost, "NormalizeHost(%q) = %q", raw, out)
	}
}
