package password

import (
	"strings"
	"testing"
)

func TestHashAndVerify(t *testing.T) {
	h, err := Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("unexpected hash format %q", h)
	}
	if !Verify(h, "correct horse battery") {
		t.Fatal("the right password does not verify")
	}
	for _, wrong := range []string{"", "correct horse batter", "Correct horse battery"} {
		if Verify(h, wrong) {
			t.Fatalf("%q verifies", wrong)
		}
	}
	h2, _ := Hash("correct horse battery")
	if h2 == h {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	for _, bad := range []string{"", "$argon2id$", "$bcrypt$v=19$m=1,t=1,p=1$c2FsdA$a2V5", h[:len(h)-4] + "!!!!"} {
		if Verify(bad, "correct horse battery") {
			t.Fatalf("malformed hash %q verifies", bad)
		}
	}
	// The dummy hash used for timing equalisation is well-formed: Waste must
	// really run argon2.
	if strings.Count(dummy, "$") != 5 {
		t.Fatal("dummy hash is malformed")
	}
}

func BenchmarkVerify(b *testing.B) {
	h, _ := Hash("correct horse battery")
	for b.Loop() {
		Verify(h, "correct horse battery")
	}
}
