package tenant_test

import (
	"testing"

	"agora/tenant"
)

// TestFromOutbox: the worker deletes the outbox row of exactly the tasks
// whose id the outbox gave ("t<city id>:<id>"), and of no other task.
func TestFromOutbox(t *testing.T) {
	for id, want := range map[string]bool{
		"t42:email:confirm:7:register": true,
		"t1:campaign:3":                true,
		"t42":                          false,
		"t:email:x":                    false,
		"tx1:email":                    false,
		"digest:user:42:2026-W49":      false,
		"tenant:usage:42:2024031014":   false,
		"3f2b8c1e-0000-4000-8000-1234": false, // an asynq task id of its own
		"":                             false,
	} {
		if got := tenant.FromOutbox(id); got != want {
			t.Errorf("FromOutbox(%q) = %v, want %v", id, got, want)
		}
	}
}
