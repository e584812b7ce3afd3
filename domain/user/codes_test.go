package user

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"agora/domain/token"
	"agora/tenant"
)

func TestShortHash(t *testing.T) {
	h := shortHash(7, "123456")
	require.Equal(t, h, shortHash(7, "123456"), "the same user and code hash alike (the lookup depends on it)")
	// The stored form: codes issued before a deploy must still verify after it.
	require.Equal(t, token.Hash("7:123456"), h)
	for _, tc := range []struct {
		name string
		id   ID
		code string
	}{
		{"another user, same code", 8, "123456"},
		{"same user, another code", 7, "123457"},
		{"digits moved between id and code", 71, "23456"},
	} {
		require.False(t, bytes.Equal(h, shortHash(tc.id, tc.code)), tc.name)
	}
	// Six-digit codes are few: the user id in the hash keeps one user's code
	// from matching another's, and the separator keeps (1, "23456") apart
	// from (12, "3456").
	require.False(t, bytes.Equal(shortHash(1, "23456"), shortHash(12, "3456")))
}

// execRecorder is the transaction IssueCode runs on: it records each
// statement and its arguments. Any other use of it panics (the embedded
// interface is nil), which fails the test.
type execRecorder struct {
	sqlx.ExtContext
	queries []string
	args    [][]any
}

func (r *execRecorder) ExecContext(_ context.Context, q string, args ...any) (sql.Result, error) {
	r.queries = append(r.queries, q)
	r.args = append(r.args, args)
	return driver.RowsAffected(1), nil
}

func TestIssueCodeStoresOnlyHashes(t *testing.T) {
	sixDigits := regexp.MustCompile(`^[0-9]{6}$`)
	codes := map[string]bool{}
	for range 100 {
		tx := &execRecorder{}
		link, code, err := IssueCode(context.Background(), tx, 42, PurposeConfirm, ConfirmTTL)
		require.NoError(t, err)
		require.Regexp(t, sixDigits, code, "a code to type is six digits, zero-padded")
		require.GreaterOrEqual(t, len(link), 43, "a link token carries 32 random bytes")
		codes[code] = true

		require.Len(t, tx.queries, 2)
		// First the unused code of the same purpose is voided...
		require.Contains(t, tx.queries[0], "UPDATE email_codes SET used_at = now()")
		require.Equal(t, []any{ID(42), PurposeConfirm}, tx.args[0])
		// ...then the new one is stored as hashes only, with its lifetime.
		require.Contains(t, tx.queries[1], "INSERT INTO email_codes")
		require.Equal(t, []any{ID(42), PurposeConfirm, token.Hash(link), shortHash(42, code), ConfirmTTL.Seconds()}, tx.args[1])
		for _, a := range tx.args[1] {
			if s, ok := a.(string); ok {
				require.NotContains(t, s, code, "the code is stored in clear")
				require.NotEqual(t, link, s, "the link token is stored in clear")
			}
		}
	}
	require.Greater(t, len(codes), 1, "a hundred codes in a row are the same: not random")
}

func TestEmailTask(t *testing.T) {
	task := emailTask(PurposeConfirm, 7, "register")
	require.Equal(t, tenant.Task{
		Type: tenant.TaskEmail, Queue: "critical", ID: "email:confirm:7:register",
		Payload: map[string]any{"kind": PurposeConfirm, "user_id": ID(7), "event": "register"},
	}, task)

	// The task id is the outbox's once-only key: the same email for the same
	// event is queued once, anything else is a task of its own.
	require.Equal(t, task.ID, emailTask(PurposeConfirm, 7, "register").ID)
	day := "exists:" + time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	next := "exists:" + time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	require.Equal(t, emailTask(PurposeAccountExists, 7, day).ID, emailTask(PurposeAccountExists, 7, day).ID,
		"two registrations with a taken address on one day email its owner once")
	for _, other := range []tenant.Task{
		emailTask(PurposeConfirm, 8, "register"),
		emailTask(PurposeReset, 7, "register"),
		emailTask(PurposeConfirm, 7, "resend-abc"),
		emailTask(PurposeAccountExists, 7, next),
	} {
		require.NotEqual(t, task.ID, other.ID)
		require.True(t, strings.HasPrefix(other.ID, "email:"))
	}
	require.NotEqual(t, emailTask(PurposeAccountExists, 7, day).ID, emailTask(PurposeAccountExists, 7, next).ID)
}

func TestCodeLifetimes(t *testing.T) {
	require.Equal(t, 24*time.Hour, ConfirmTTL)
	require.Equal(t, time.Hour, ResetTTL)
	require.Less(t, ResetTTL, ConfirmTTL, "a reset link, which sets a password, lives shortest")
	require.Equal(t, 5, maxCodeAttempts, "guesses of a six-digit code before it is void")
}
