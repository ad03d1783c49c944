package realtime

import (
	"maps"
	"strconv"
	"testing"
)

// The set agrees with a map through growth past the indexed size and
// shrinking back below it.
func TestSubscriptionSet(t *testing.T) {
	var s subscriptionSet
	want := map[string]string{}
	check := func(step string) {
		t.Helper()
		got := maps.Collect(s.all())
		if !maps.Equal(got, want) || s.len() != len(want) {
			t.Fatalf("%s: set holds %v (len %d), want %v", step, got, s.len(), want)
		}
		for r := range want {
			if !s.has(r) {
				t.Fatalf("%s: has(%q) = false", step, r)
			}
		}
		if s.has("absent") {
			t.Fatalf("%s: has(absent) = true", step)
		}
	}
	for i := range 3 * smallSubscriptionSet {
		r := "room" + strconv.Itoa(i)
		s.set(r, "ch"+strconv.Itoa(i%3))
		want[r] = "ch" + strconv.Itoa(i%3)
	}
	check("grown")
	s.set("room1", "other")
	want["room1"] = "other"
	check("channel changed")
	for i := 0; i < 3*smallSubscriptionSet; i += 2 {
		r := "room" + strconv.Itoa(i)
		s.delete(r)
		delete(want, r)
	}
	s.delete("absent")
	check("half deleted")
	for i := 1; i < 3*smallSubscriptionSet-4; i += 2 {
		r := "room" + strconv.Itoa(i)
		s.delete(r)
		delete(want, r)
	}
	check("shrunk")
	for r := range maps.Clone(want) {
		s.delete(r)
		delete(want, r)
	}
	check("empty")
}
