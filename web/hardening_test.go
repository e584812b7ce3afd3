package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"agora/domain/user"
	"agora/fixture"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// slowClient opens a connection to the test server and sends the headers
// of a request whose body never finishes arriving. It returns the
// connection; closing it ends the request.
func slowClient(t *testing.T, h *webtest.Harness, host, target string, headers ...string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.URL, "http://"))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n", target, host)
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", headers[i], headers[i+1])
	}
	b.WriteString("\r\n{\"body\": \"")
	_, err = conn.Write([]byte(b.String()))
	require.NoError(t, err)
	return conn
}

// eventually polls cond until it holds or 20 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never came true: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSlowBodiesHoldNoDatabaseConnection: twenty citizens' requests whose
// bodies trickle in hold no connection of the pool, so another city's
// portal answers at once; the per-address cap refuses a client's requests
// past its limit with 429.
func TestSlowBodiesHoldNoDatabaseConnection(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	alpha, beta := env.City(t, "slowalpha"), env.City(t, "slowbeta")
	h := webtest.New(t, env, webtest.Options{Vars: map[string]string{"AGORA_HTTP_MAX_IN_FLIGHT_PER_IP": "25"}})
	fixture.User(t, env, alpha, fixture.UserOpts{Email: "ann@alpha.example.org"})
	cookie, csrf := h.Login(t, alpha.DefaultHost, "ann@alpha.example.org")
	pool := env.DB.Platform()

	var conns []net.Conn
	for range 20 {
		conns = append(conns, slowClient(t, h, alpha.DefaultHost, "/api/v1/ideas/1/comments", "Cookie", cookie, "X-CSRF-Token", csrf))
	}
	eventually(t, "20 slow requests in flight", func() bool { return h.Server.InFlight() >= 20 })
	// While they are all waiting for their bodies, not one holds a
	// connection (before the fix each held its read transaction).
	eventually(t, "no pool connection in use", func() bool { return pool.Stats().InUse == 0 })
	require.Equal(t, 20, h.Server.InFlight(), "the slow requests are still waiting")
	r := h.Get(t, beta.DefaultHost, "/api/v1/ideas")
	require.Equal(t, http.StatusOK, r.Status, r.Body)

	// Five more from the same address reach the cap of 25: the next is 429.
	for range 4 {
		conns = append(conns, slowClient(t, h, alpha.DefaultHost, "/api/v1/ideas/1/comments", "Cookie", cookie, "X-CSRF-Token", csrf))
	}
	eventually(t, "24 slow requests in flight", func() bool { return h.Server.InFlight() >= 24 })
	r = h.Get(t, beta.DefaultHost, "/api/v1/ideas") // the 25th: allowed
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	conns = append(conns, slowClient(t, h, alpha.DefaultHost, "/api/v1/ideas/1/comments", "Cookie", cookie, "X-CSRF-Token", csrf))
	eventually(t, "25 slow requests in flight", func() bool { return h.Server.InFlight() >= 25 })
	p := webtest.RequireProblem(t, h.Get(t, beta.DefaultHost, "/api/v1/ideas", "Accept-Language", "nl"), http.StatusTooManyRequests, "rate_limited")
	require.Contains(t, p.Detail, "te veel verzoeken", "in the asker's language")

	for _, c := range conns {
		c.Close()
	}
	eventually(t, "the slow requests ended", func() bool { return h.Server.InFlight() == 0 })
	require.Equal(t, http.StatusOK, h.Get(t, beta.DefaultHost, "/api/v1/ideas").Status)
}

// TestBusyPoolAnswers503: when no connection can be had within the acquire
// timeout, a request is answered 503 with Retry-After, not left hanging.
func TestBusyPoolAnswers503(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "busypool")
	h := webtest.New(t, env, webtest.Options{Vars: map[string]string{"AGORA_DB_ACQUIRE_TIMEOUT": "100ms"}})
	require.Equal(t, http.StatusOK, h.Get(t, c.DefaultHost, "/api/v1/ideas").Status) // the host is cached now

	// Hold every connection of the pool.
	pool := env.DB.Platform()
	ctx := context.Background()
	var held []interface{ Close() error }
	for range pool.Stats().MaxOpenConnections {
		conn, err := pool.Conn(ctx)
		require.NoError(t, err)
		held = append(held, conn)
	}
	r := h.Get(t, c.DefaultHost, "/api/v1/ideas")
	p := webtest.RequireProblem(t, r, http.StatusServiceUnavailable, "busy")
	require.NotEmpty(t, r.Header.Get("Retry-After"))
	require.Contains(t, p.Detail, "try again")
	page := h.Get(t, c.DefaultHost, "/", "Accept-Language", "fr")
	webtest.RequireHTML(t, page, http.StatusServiceUnavailable)
	require.Contains(t, page.Body, "Réessayez")
	for _, c := range held {
		c.Close()
	}
	require.Equal(t, http.StatusOK, h.Get(t, c.DefaultHost, "/api/v1/ideas").Status)
}

// jpegWithGPS is a small JPEG carrying an EXIF block with a GPS note.
func jpegWithGPS(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 16, 16)), nil))
	raw := buf.Bytes()
	exif := []byte("Exif\x00\x00II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00GPSLatitude 51.05N")
	seg := append([]byte{0xFF, 0xE1, byte((len(exif) + 2) >> 8), byte(len(exif) + 2)}, exif...)
	return append(append(append([]byte{}, raw[:2]...), seg...), raw[2:]...)
}

// TestMultipartBodiesLeaveNoTemporaryFiles: multipart is parsed only where a
// route takes files; elsewhere it is refused before it is read (415), and an
// upload larger than the parser keeps in memory leaves no temporary file.
// Uploaded pictures lose their EXIF data. Not parallel: it watches TMPDIR.
func TestMultipartBodiesLeaveNoTemporaryFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	env := tenanttest.New(t)
	c := env.City(t, "tempfiles")
	h := webtest.New(t, env, webtest.Options{})
	bearer := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "ann@example.org"}))

	big := strings.Repeat("x", 5<<20)
	body, ctype := webtest.Multipart(t, map[string]string{"email": "a@b.org"}, "f", "people.csv", []byte(big))
	r := h.CallRaw(t, "POST", c.DefaultHost, "/login", ctype, body)
	webtest.RequireHTML(t, r, http.StatusUnsupportedMediaType)
	webtest.RequireProblem(t, h.CallRaw(t, "POST", c.DefaultHost, "/api/v1/ideas", ctype, body, "Authorization", bearer),
		http.StatusUnsupportedMediaType, "unsupported_media_type")

	// An avatar of 5 MB: parsed (partly on disk), refused by the rule, and
	// the temporary file is gone once the answer is out.
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile("avatar", "big.png")
	require.NoError(t, err)
	_, _ = fw.Write([]byte(big))
	require.NoError(t, mw.Close())
	p := webtest.RequireProblem(t, h.CallRaw(t, "PUT", c.DefaultHost, "/api/v1/me/avatar", mw.FormDataContentType(), b.String(), "Authorization", bearer),
		http.StatusUnprocessableEntity, "invalid")
	require.Equal(t, "avatar", p.Field)
	// Over the upload limit: refused before it is read.
	huge, hct := webtest.Multipart(t, nil, "avatar", "people.csv", []byte(strings.Repeat("x", 11<<20)))
	webtest.RequireProblem(t, h.CallRaw(t, "PUT", c.DefaultHost, "/api/v1/me/avatar", hct, huge, "Authorization", bearer),
		http.StatusRequestEntityTooLarge, "too_large")

	// A real picture is stored without its EXIF block.
	b.Reset()
	mw = multipart.NewWriter(&b)
	fw, err = mw.CreateFormFile("avatar", "me.jpg")
	require.NoError(t, err)
	_, _ = fw.Write(jpegWithGPS(t))
	require.NoError(t, mw.Close())
	r = h.CallRaw(t, "PUT", c.DefaultHost, "/api/v1/me/avatar", mw.FormDataContentType(), b.String(), "Authorization", bearer)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	var stored []string
	require.NoError(t, filepath.Walk(env.StorageDir, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(path, ".jpg") {
			stored = append(stored, path)
		}
		return err
	}))
	require.Len(t, stored, 1)
	data, err := os.ReadFile(stored[0])
	require.NoError(t, err)
	require.NotContains(t, string(data), "GPSLatitude")
	_, err = jpeg.Decode(bytes.NewReader(data))
	require.NoError(t, err)

	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	require.Empty(t, names, "temporary files left behind")
}

// TestSensibleDates: a phase date a city could not mean is refused naming
// the field, and a bad date stored before the rule breaks no page.
func TestSensibleDates(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "yearzero")
	h := webtest.New(t, env, webtest.Options{})
	admin := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin}))
	r := h.Call(t, "POST", c.DefaultHost, "/api/v1/projects", `{"slug":"park","title":{"en":"Park"},"status":"published"}`, "Authorization", admin)
	require.Equal(t, 201, r.Status, r.Body)
	r = h.Call(t, "POST", c.DefaultHost, "/api/v1/projects/1/phases",
		`{"title":{"en":"Ideas"},"method":"ideation","starts_at":"2020-01-01T00:00:00Z","ends_at":"2030-01-01T00:00:00Z"}`, "Authorization", admin)
	require.Equal(t, 201, r.Status, r.Body)
	var phase int64
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		return tx.GetContext(context.Background(), &phase, `SELECT id FROM phases`)
	}))
	for _, body := range []string{`{"starts_at":"0000-01-01T00:00:00Z"}`, `{"ends_at":"9999-12-31T00:00:00Z"}`, `{"starts_at":"1899-12-31T00:00:00Z"}`} {
		p := webtest.RequireProblem(t, h.Call(t, "PATCH", c.DefaultHost, fmt.Sprintf("/api/v1/projects/1/phases/%d", phase), body, "Authorization", admin), 422, "invalid")
		require.Contains(t, []string{"starts_at", "ends_at"}, p.Field, body)
		require.Contains(t, p.Detail, "1900")
	}
	// A row stored before the rule existed (the constraint is NOT VALID).
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		ctx := context.Background()
		if _, err := tx.ExecContext(ctx, `ALTER TABLE phases DROP CONSTRAINT phases_sensible_dates`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE phases SET starts_at = '0001-01-01 00:00:00+00 BC' WHERE id = $1`, phase)
		return err
	}))
	for _, target := range []string{"/", "/projects/park", "/api/v1/projects", "/api/v1/projects/1", "/api/v1/ideas"} {
		require.Equal(t, http.StatusOK, h.Get(t, c.DefaultHost, target).Status, target)
	}
	r = h.Call(t, "PATCH", c.DefaultHost, fmt.Sprintf("/api/v1/projects/1/phases/%d", phase), `{"starts_at":"2021-01-01T00:00:00Z"}`, "Authorization", admin)
	require.Equal(t, http.StatusOK, r.Status, "the date can be mended: %s", r.Body)
	require.Contains(t, h.Get(t, c.DefaultHost, "/api/v1/projects/1").Body, `"starts_at":"2021-01-01T00:00:00Z"`)
}

// TestJSONBodiesAreOneValue: malformed JSON is 400 naming where it breaks;
// trailing data after the value is malformed too; a wrong type is 422.
func TestJSONBodiesAreOneValue(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "jsonbodies")
	h := webtest.New(t, env, webtest.Options{})
	admin := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin}))
	for body, want := range map[string]int{
		`{}}`:                         400,
		`{"comments":false} {}`:       400,
		`{"comments":false}garb`:      400,
		`{"comments":`:                400,
		`{"comments": tru}`:           400,
		`{"comments":"no"}`:           422,
		`{"comments":false}  ` + "\n": 200,
	} {
		r := h.Call(t, "PATCH", c.DefaultHost, "/api/v1/features", body, "Authorization", admin)
		require.Equal(t, want, r.Status, "%s: %s", body, r.Body)
		if want == 400 {
			webtest.RequireProblem(t, r, 400, "bad_request")
		}
	}
}

// TestFeatureChangesAreOneTransaction: a PATCH of several features that
// fails half-way leaves every feature as it was.
func TestFeatureChangesAreOneTransaction(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "featuretx")
	h := webtest.New(t, env, webtest.Options{})
	admin := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin}))
	// The database refuses the second write (keys are applied in order).
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(context.Background(), `CREATE FUNCTION refuse_reactions() RETURNS trigger LANGUAGE plpgsql AS
			$$BEGIN IF NEW.feature = 'reactions' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END$$;
			CREATE TRIGGER refuse_reactions BEFORE INSERT ON feature_settings FOR EACH ROW EXECUTE FUNCTION refuse_reactions()`)
		return err
	}))
	r := h.Call(t, "PATCH", c.DefaultHost, "/api/v1/features", `{"comments":false,"reactions":false}`, "Authorization", admin)
	require.Equal(t, http.StatusInternalServerError, r.Status, r.Body)
	r = h.Call(t, "GET", c.DefaultHost, "/api/v1/features", "", "Authorization", admin)
	require.Contains(t, r.Body, `{"key":"comments","allowed":true,"enabled":true`, "comments stayed on")
}

// TestRateLimitKeysNormaliseTheAddress: " Ann@X.org " and "ann@x.org" count
// against one limit, for logins and for password resets.
func TestRateLimitKeysNormaliseTheAddress(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "rlnormal")
	h := webtest.New(t, env, webtest.Options{TrustedProxies: "127.0.0.1"})
	fixture.User(t, env, c, fixture.UserOpts{Email: "ann@example.org"})
	forms := []string{"ann@example.org", " Ann@Example.org", "ANN@EXAMPLE.ORG ", "\tann@example.org\n"}
	// Each attempt from another address, as a botnet would.
	for i := range 10 {
		r := h.Call(t, "POST", c.DefaultHost, "/api/v1/session", fmt.Sprintf(`{"email":%q,"password":"wrong password!"}`, forms[i%len(forms)]),
			"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
		require.Equal(t, http.StatusUnauthorized, r.Status, r.Body)
	}
	r := h.Call(t, "POST", c.DefaultHost, "/api/v1/session", `{"email":"  ann@EXAMPLE.org","password":"correct horse battery"}`,
		"X-Forwarded-For", "203.0.113.99")
	webtest.RequireProblem(t, r, http.StatusTooManyRequests, "rate_limited")

	for i := range 5 {
		r := h.Call(t, "POST", c.DefaultHost, "/api/v1/password-resets", fmt.Sprintf(`{"email":%q}`, forms[i%len(forms)]),
			"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
		require.Equal(t, http.StatusAccepted, r.Status, r.Body)
	}
	r = h.Call(t, "POST", c.DefaultHost, "/api/v1/password-resets", `{"email":" ANN@example.org "}`, "X-Forwarded-For", "198.51.100.99")
	webtest.RequireProblem(t, r, http.StatusTooManyRequests, "rate_limited")
}

// TestPrivatePagesAreNotStored: a person's own pages and API answers carry
// Cache-Control: no-store.
func TestPrivatePagesAreNotStored(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "nostore")
	h := webtest.New(t, env, webtest.Options{})
	fixture.User(t, env, c, fixture.UserOpts{Email: "ann@example.org"})
	cookie, _ := h.Login(t, c.DefaultHost, "ann@example.org")
	for _, target := range []string{"/profile", "/api/v1/me", "/notifications", "/api/v1/me/follows", "/api/v1/tokens", "/api/v1/notifications"} {
		r := h.Get(t, c.DefaultHost, target, "Cookie", cookie)
		require.Equal(t, http.StatusOK, r.Status, target)
		require.Contains(t, r.Header.Get("Cache-Control"), "no-store", target)
	}
}

// TestLimitsOfTitles: titles of areas, folders, projects and phases are
// bounded like idea titles.
func TestLimitsOfTitles(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "titles")
	h := webtest.New(t, env, webtest.Options{})
	admin := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin}))
	long := strings.Repeat("a", 201)
	for _, tc := range []struct{ path, body string }{
		{"/api/v1/areas", `{"title":{"en":"` + long + `"}}`},
		{"/api/v1/folders", `{"title":{"en":"` + long + `"}}`},
		{"/api/v1/projects", `{"slug":"x","title":{"en":"` + long + `"}}`},
	} {
		p := webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, tc.path, tc.body, "Authorization", admin), 422, "invalid")
		require.Equal(t, "title", p.Field, tc.path)
	}
	// 300 KB is refused before it is read at all.
	huge := strings.Repeat("a", 300<<10)
	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/areas", `{"title":{"en":"`+huge+`"}}`, "Authorization", admin), 413, "too_large")
	r := h.Call(t, "POST", c.DefaultHost, "/api/v1/areas", `{"title":{"en":"`+strings.Repeat("é", 200)+`"}}`, "Authorization", admin)
	require.Equal(t, 201, r.Status, "200 characters are fine, whatever their bytes: %s", r.Body)
}

// TestReportsFromBlockedUsersAndRepeats: a blocked account cannot report, and
// reporting again does not make a read report unread.
func TestReportsFromBlockedUsersAndRepeats(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "reportsagain")
	h := webtest.New(t, env, webtest.Options{})
	admin := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin}))
	annUser := fixture.User(t, env, c, fixture.UserOpts{Email: "ann@example.org"})
	annID, ann := annUser.ID, fixture.Token(t, env, c, annUser)
	bob := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "bob@example.org"}))
	r := h.Call(t, "POST", c.DefaultHost, "/api/v1/projects", `{"slug":"p","title":{"en":"P"},"status":"published"}`, "Authorization", admin)
	require.Equal(t, 201, r.Status, r.Body)
	r = h.Call(t, "POST", c.DefaultHost, "/api/v1/projects/1/phases", `{"title":{"en":"Now"},"method":"ideation","starts_at":"2020-01-01T00:00:00Z"}`, "Authorization", admin)
	require.Equal(t, 201, r.Status, r.Body)
	r = h.Call(t, "POST", c.DefaultHost, "/api/v1/ideas", `{"project_id":1,"title":"A bench","body":"Please"}`, "Authorization", bob)
	require.Equal(t, 201, r.Status, r.Body)

	report := `{"item_type":"idea","item_id":1,"reason":"spam"}`
	require.Equal(t, 201, h.Call(t, "POST", c.DefaultHost, "/api/v1/reports", report, "Authorization", ann).Status)
	var id int64
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		return tx.GetContext(context.Background(), &id, `SELECT id FROM reports`)
	}))
	require.Equal(t, 204, h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/moderation/reports/%d/read", id), `{"read":true}`, "Authorization", admin).Status)
	r = h.Call(t, "POST", c.DefaultHost, "/api/v1/reports", `{"item_type":"idea","item_id":1,"reason":"abuse","note":"still"}`, "Authorization", ann)
	require.Equal(t, 201, r.Status, r.Body)
	r = h.Call(t, "GET", c.DefaultHost, "/api/v1/moderation/reports?unread=true", "", "Authorization", admin)
	require.Contains(t, r.Body, `"data":[]`, "a read report stays read")
	require.Contains(t, h.Call(t, "GET", c.DefaultHost, "/api/v1/moderation/reports", "", "Authorization", admin).Body, `"reason":"abuse"`)

	// Blocked (as a new login after a block finds the account).
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(context.Background(), `UPDATE users SET blocked_until = now() + interval '3 days' WHERE id = $1`, annID)
		return err
	}))
	p := webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/reports", `{"item_type":"idea","item_id":1,"reason":"other"}`, "Authorization", ann), 403, "forbidden")
	require.Contains(t, p.Detail, "blocked")
}

// TestModeratorPowersFollowTheFeature: a project moderator's powers (status
// changes, hiding, editing the project) end when the plan loses
// project_moderators or the admins turn it off, and come back with it.
func TestModeratorPowersFollowTheFeature(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "modpowers")
	h := webtest.New(t, env, webtest.Options{})
	admin := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin}))
	citizen := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "bob@example.org"}))
	mod := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "mod@example.org"}))
	r := h.Call(t, "POST", c.DefaultHost, "/api/v1/projects", `{"slug":"p","title":{"en":"P"},"status":"published"}`, "Authorization", admin)
	require.Equal(t, 201, r.Status, r.Body)
	r = h.Call(t, "POST", c.DefaultHost, "/api/v1/projects/1/phases", `{"title":{"en":"Now"},"method":"ideation","starts_at":"2020-01-01T00:00:00Z"}`, "Authorization", admin)
	require.Equal(t, 201, r.Status, r.Body)
	r = h.Call(t, "POST", c.DefaultHost, "/api/v1/projects/1/moderators", `{"email":"mod@example.org"}`, "Authorization", admin)
	require.Equal(t, 201, r.Status, r.Body)
	r = h.Call(t, "POST", c.DefaultHost, "/api/v1/ideas", `{"project_id":1,"title":"A bench","body":"Please"}`, "Authorization", citizen)
	require.Equal(t, 201, r.Status, r.Body)

	powers := func() []int {
		return []int{
			h.Call(t, "POST", c.DefaultHost, "/api/v1/ideas/1/status", `{"status":"viewed"}`, "Authorization", mod).Status,
			h.Call(t, "PUT", c.DefaultHost, "/api/v1/moderation/hidden/idea/1", "", "Authorization", mod).Status,
			h.Call(t, "DELETE", c.DefaultHost, "/api/v1/moderation/hidden/idea/1", "", "Authorization", mod).Status,
			h.Call(t, "PATCH", c.DefaultHost, "/api/v1/projects/1", `{"title":{"en":"Park"}}`, "Authorization", mod).Status,
			h.Get(t, c.DefaultHost, "/api/v1/moderation/reports", "Authorization", mod).Status,
		}
	}
	for i, st := range powers() {
		require.Less(t, st, 300, "power %d on standard", i)
	}
	plan := func(p tenant.Plan) {
		t.Helper()
		_, err := env.Ops.Update(context.Background(), c.Slug, tenant.Update{Plan: &p})
		require.NoError(t, err)
	}
	plan(tenant.PlanEssential)
	for i, st := range powers() {
		require.Contains(t, []int{403, 404}, st, "power %d after the downgrade", i)
	}
	plan(tenant.PlanStandard)
	for i, st := range powers() {
		require.Less(t, st, 300, "power %d after the upgrade", i)
	}
	r = h.Call(t, "PATCH", c.DefaultHost, "/api/v1/features", `{"project_moderators":false}`, "Authorization", admin)
	require.Equal(t, 200, r.Status, r.Body)
	for i, st := range powers() {
		require.Contains(t, []int{403, 404}, st, "power %d with the feature off", i)
	}
}
