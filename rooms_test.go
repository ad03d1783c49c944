package realtime

import "testing"

// TestRoomMembershipAcrossSizes joins and leaves a room through the sizes
// where it switches between scanning and its index.
func TestRoomMembershipAcrossSizes(t *testing.T) {
	var r roomRegistry
	clients := make([]*Client, 3*smallRoom)
	for i := range clients {
		clients[i] = &Client{}
	}
	check := func(want map[*Client]bool) {
		t.Helper()
		rm := r.rooms["x"]
		n := 0
		for c, in := range want {
			if !in {
				continue
			}
			n++
			if rm == nil {
				t.Fatalf("room gone with %d members expected", n)
			}
			if i, ok := rm.indexOf(c); !ok || rm.members[i] != c {
				t.Fatalf("member not found at its index")
			}
		}
		if got := r.size("x"); got != n {
			t.Fatalf("size %d, want %d", got, n)
		}
	}
	want := map[*Client]bool{}
	for _, c := range clients {
		r.join(c, "x", "x") // a second join changes nothing
		want[c] = true
		check(want)
	}
	for i, c := range clients {
		if i%2 == 0 {
			r.leave(c, "x")
			want[c] = false
			check(want)
		}
	}
	for i, c := range clients {
		if i%2 == 1 {
			r.leave(c, "x")
			want[c] = false
			check(want)
		}
	}
	if _, ok := r.rooms["x"]; ok {
		t.Error("empty room kept")
	}
}
