package project

import (
	"strings"
	"testing"
	"time"

	"agora/domain/errs"
	"agora/domain/locale"
)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func ph(id PhaseID, title, start, end string) Phase {
	p := Phase{ID: id, Title: locale.Text{"en": title}, Method: "ideation", StartsAt: day(start)}
	if end != "" {
		e := day(end)
		p.EndsAt = &e
	}
	return p
}

func TestCheckTimeline(t *testing.T) {
	existing := []Phase{ph(1, "Ideas", "2026-03-01", "2026-04-01"), ph(2, "Vote", "2026-05-01", "2026-06-01")}
	cases := []struct {
		name string
		p    Phase
		want string // "" means accepted; else a fragment of the error
	}{
		{"before all", ph(0, "Intro", "2026-01-01", "2026-03-01"), ""},
		{"in the gap", ph(0, "Gap", "2026-04-01", "2026-05-01"), ""},
		{"open-ended last", ph(0, "After", "2026-06-01", ""), ""},
		{"overlaps the start", ph(0, "Early", "2026-02-15", "2026-03-02"), `"Early" overlaps phase "Ideas"`},
		{"inside another", ph(0, "Inside", "2026-05-10", "2026-05-20"), `overlaps phase "Vote"`},
		{"covers another", ph(0, "Big", "2026-02-01", "2026-07-01"), "overlaps"},
		{"open-ended before others", ph(0, "Forever", "2026-04-10", ""), "only the last phase may be open-ended"},
		{"editing itself", ph(2, "Vote", "2026-05-02", "2026-06-02"), ""},
	}
	for _, c := range cases {
		err := CheckTimeline("test", existing, c.p)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
	// Nothing may follow an open-ended phase.
	withOpen := append(existing, ph(3, "Follow-up", "2026-07-01", ""))
	if err := CheckTimeline("test", withOpen, ph(0, "Later", "2026-09-01", "2026-10-01")); err == nil ||
		!strings.Contains(err.Error(), `cannot follow phase "Follow-up", which is open-ended`) {
		t.Fatalf("got %v", err)
	}
}

func TestCurrentPhase(t *testing.T) {
	phases := []Phase{ph(1, "Ideas", "2026-03-01", "2026-04-01"), ph(2, "Vote", "2026-04-01", "")}
	if p, ok := CurrentPhase(phases, day("2026-03-31")); !ok || p.ID != 1 {
		t.Fatalf("got %v %v", p.ID, ok)
	}
	if p, ok := CurrentPhase(phases, day("2026-04-01")); !ok || p.ID != 2 {
		t.Fatalf("end is exclusive: got %v %v", p.ID, ok)
	}
	if _, ok := CurrentPhase(phases, day("2026-01-01")); ok {
		t.Fatal("no phase runs before the first")
	}
}

// TestOnlyBuiltMethodsAreOffered: every method has its feature; a new phase
// may choose only what Agora has built (information and ideation today),
// while a phase that has an unbuilt method keeps it through other edits.
func TestOnlyBuiltMethodsAreOffered(t *testing.T) {
	for _, m := range Methods {
		if _, ok := methodFeatures[m]; !ok {
			t.Errorf("method %s has no feature", m)
		}
	}
	if got := strings.Join(Offered(), ","); got != "information,ideation" {
		t.Errorf("offered methods %s, want information,ideation", got)
	}
	voting := Phase{Title: locale.Text{"en": "Vote"}, Method: "voting", StartsAt: day("2026-05-01")}
	e, ok := errs.As(checkMethod("test", voting, ""))
	if !ok || e.Code != errs.Invalid || e.Field != "method" || e.Rule != "method_not_built" {
		t.Errorf("a new voting phase: %v, want invalid method_not_built on method", e)
	}
	if checkMethod("test", voting, "ideation") == nil {
		t.Error("an ideation phase became a voting one")
	}
	if err := checkMethod("test", voting, "voting"); err != nil {
		t.Errorf("a voting phase kept its method: %v", err)
	}
	if err := checkMethod("test", Phase{Method: "ideation"}, "voting"); err != nil {
		t.Errorf("a voting phase took a built method: %v", err)
	}
	if err := checkMethod("test", Phase{Method: "dance"}, ""); err != nil {
		t.Errorf("an unknown method is CheckPhase's to refuse: %v", err)
	}
}
