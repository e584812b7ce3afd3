package digest

import (
	"strings"
	"testing"
	"time"
)

func TestDue(t *testing.T) {
	t.Parallel()
	brussels, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	monday8 := Schedule{Weekday: 1, Hour: 8}
	cases := []struct {
		name    string
		now     time.Time
		loc     *time.Location
		s       Schedule
		due     bool
		key     string
		from    time.Time // of the period, when due
		slotEnd time.Time
	}{
		{name: "at the slot", now: time.Date(2026, 11, 30, 8, 0, 0, 0, brussels), loc: brussels, s: monday8, due: true, key: "2026-W49",
			from: time.Date(2026, 11, 23, 8, 0, 0, 0, brussels), slotEnd: time.Date(2026, 11, 30, 8, 0, 0, 0, brussels)},
		{name: "a tick later", now: time.Date(2026, 11, 30, 9, 2, 0, 0, brussels), loc: brussels, s: monday8, due: true, key: "2026-W49"},
		{name: "a minute before", now: time.Date(2026, 11, 30, 7, 59, 0, 0, brussels), loc: brussels, s: monday8},
		{name: "the window is over", now: time.Date(2026, 12, 1, 8, 0, 0, 0, brussels), loc: brussels, s: monday8},
		{name: "another city's morning", now: time.Date(2026, 11, 30, 8, 2, 0, 0, brussels), loc: ny, s: monday8},
		{name: "that city's own morning", now: time.Date(2026, 11, 30, 14, 2, 0, 0, brussels), loc: ny, s: monday8, due: true, key: "2026-W49",
			from: time.Date(2026, 11, 23, 8, 0, 0, 0, ny), slotEnd: time.Date(2026, 11, 30, 8, 0, 0, 0, ny)},
		{name: "sunday evening ends the ISO week", now: time.Date(2026, 12, 6, 20, 30, 0, 0, brussels), loc: brussels, s: Schedule{Weekday: 7, Hour: 20},
			due: true, key: "2026-W49"},
		{name: "new year's ISO week", now: time.Date(2027, 1, 1, 9, 0, 0, 0, brussels), loc: brussels, s: Schedule{Weekday: 5, Hour: 9},
			due: true, key: "2026-W53"},
		// Spring forward: 2:00 does not exist on 29 March 2026 in Brussels.
		{name: "an hour that does not exist", now: time.Date(2026, 3, 29, 3, 5, 0, 0, brussels), loc: brussels, s: Schedule{Weekday: 7, Hour: 2},
			due: true, key: "2026-W13"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, due := Due(c.now, c.loc, c.s)
			if due != c.due {
				t.Fatalf("due = %v, want %v (period %+v)", due, c.due, p)
			}
			if !due {
				return
			}
			if p.Key != c.key {
				t.Errorf("key %s, want %s", p.Key, c.key)
			}
			if !c.from.IsZero() && (!p.From.Equal(c.from) || !p.To.Equal(c.slotEnd)) {
				t.Errorf("period [%s, %s), want [%s, %s)", p.From, p.To, c.from, c.slotEnd)
			}
			if p.To.Sub(p.From) < 167*time.Hour || p.To.Sub(p.From) > 169*time.Hour {
				t.Errorf("the period is not a week: %s", p.To.Sub(p.From))
			}
		})
	}
}

func TestNext(t *testing.T) {
	t.Parallel()
	brussels, _ := time.LoadLocation("Europe/Brussels")
	s := Schedule{Weekday: 3, Hour: 18}
	for _, c := range []struct{ now, want time.Time }{
		{time.Date(2026, 11, 30, 8, 0, 0, 0, brussels), time.Date(2026, 12, 2, 18, 0, 0, 0, brussels)},
		{time.Date(2026, 12, 2, 18, 0, 0, 0, brussels), time.Date(2026, 12, 9, 18, 0, 0, 0, brussels)},
		{time.Date(2026, 12, 6, 23, 0, 0, 0, brussels), time.Date(2026, 12, 9, 18, 0, 0, 0, brussels)},
	} {
		if got := Next(c.now, brussels, s); !got.Equal(c.want) {
			t.Errorf("Next(%s) = %s, want %s", c.now, got, c.want)
		}
	}
}

func TestScheduleValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		s     Schedule
		field string
	}{{Schedule{1, 0}, ""}, {Schedule{7, 23}, ""}, {Schedule{0, 8}, "weekday"}, {Schedule{8, 8}, "weekday"}, {Schedule{1, 24}, "hour"}, {Schedule{1, -1}, "hour"}} {
		err := c.s.Validate()
		if (err == nil) != (c.field == "") {
			t.Errorf("%+v: err %v", c.s, err)
		}
		if err != nil && !strings.Contains(err.Error(), c.field) {
			t.Errorf("%+v: %v does not name %s", c.s, err, c.field)
		}
	}
}

func TestForUser(t *testing.T) {
	t.Parallel()
	var trending []Idea
	for i := int64(1); i <= 10; i++ {
		trending = append(trending, Idea{ID: i, ProjectID: i % 2, Score: int(20 - i)})
	}
	phases := []Phase{{ID: 1, ProjectID: 1}, {ID: 2, ProjectID: 2}}
	f := Follows{Projects: map[int64]bool{1: true}, Ideas: map[int64]bool{2: true}}
	d := ForUser(f, trending, phases)
	var ids []int64
	for _, i := range d.Ideas {
		ids = append(ids, i.ID)
	}
	want := []int64{1, 2, 3, 5, 7} // project 1's ideas and the followed idea 2, most active first, at most 5
	if len(ids) != len(want) {
		t.Fatalf("ideas %v, want %v", ids, want)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("ideas %v, want %v", ids, want)
		}
	}
	if len(d.Phases) != 1 || d.Phases[0].ID != 1 {
		t.Errorf("phases %+v, want the one of project 1", d.Phases)
	}
	if !ForUser(Follows{}, trending, phases).Empty() {
		t.Error("a user who follows nothing has an empty digest")
	}
	if !ForAdmins(Stats{}, nil).Empty() || ForAdmins(Stats{AwaitingModeration: 1}, nil).Empty() {
		t.Error("an admin digest is empty when nothing happened, and only then")
	}
}
