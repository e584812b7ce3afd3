package errs

import (
	"errors"
	"fmt"
	"testing"
)

func TestAll(t *testing.T) {
	email := InvalidField("user.Register", "email", "bad").WithRule("format")
	name := InvalidField("user.Register", "first_name", "missing").WithRule("required_max", 100)
	for _, tc := range []struct {
		name string
		err  error
		want []*Error
	}{
		{"none", nil, nil},
		{"not an application error", errors.New("disk full"), nil},
		{"one", email, []*Error{email}},
		{"wrapped", fmt.Errorf("register: %w", email), []*Error{email}},
		{"joined, in order", errors.Join(email, errors.New("other"), name), []*Error{email, name}},
		{"joined twice", errors.Join(errors.Join(email), fmt.Errorf("questions: %w", errors.Join(name))), []*Error{email, name}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := All(tc.err)
			if len(got) != len(tc.want) {
				t.Fatalf("All(%v) = %v, want %v", tc.err, got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("All(%v)[%d] = %v, want %v", tc.err, i, got[i], tc.want[i])
				}
			}
		})
	}
}
