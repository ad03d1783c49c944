package realtime

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

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
		rm := r.shards[shardOf("x")].rooms["x"]
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
	if _, ok := r.shards[shardOf("x")].rooms["x"]; ok {
		t.Error("empty room kept")
	}
}

// roomsInDistinctShards returns n room names that fall in n different
// shards.
func roomsInDistinctShards(n int) []string {
	var names []string
	seen := map[int]bool{}
	for i := 0; len(names) < n; i++ {
		name := fmt.Sprintf("room-%d", i)
		if sh := shardOf(name); !seen[sh] {
			seen[sh] = true
			names = append(names, name)
		}
	}
	return names
}

// A selection visits each member of any of its rooms once, skips the
// members of the excluded rooms, and takes a client id for a room.
func TestRegistrySelection(t *testing.T) {
	var r roomRegistry
	rooms := roomsInDistinctShards(3)
	a, b, c, d := &Client{userID: "a"}, &Client{userID: "b"}, &Client{userID: "c"}, &Client{userID: "d"}
	r.join(a, rooms[0], rooms[1])
	r.join(b, rooms[1])
	r.join(c, rooms[2])
	byID := func(id string) *Client {
		if id == "client-d" {
			return d
		}
		return nil
	}
	pick := func(rooms, except []string) []string {
		var got []string
		r.forEach(rooms, except, byID, func(c *Client) { got = append(got, c.userID) })
		slices.Sort(got)
		return got
	}
	for _, tc := range []struct {
		rooms, except []string
		want          []string
	}{
		{[]string{rooms[0], rooms[1]}, nil, []string{"a", "b"}},
		{[]string{rooms[1], rooms[0], rooms[1]}, nil, []string{"a", "b"}},
		{[]string{rooms[0], rooms[1], rooms[2]}, []string{rooms[0]}, []string{"b", "c"}},
		{[]string{rooms[1], "client-d"}, []string{"nobody"}, []string{"a", "b", "d"}},
		{[]string{"client-d", "client-d"}, nil, []string{"d"}},
		{[]string{rooms[1]}, []string{"client-d", rooms[2]}, []string{"a", "b"}},
		{[]string{"absent"}, nil, nil},
	} {
		if got := pick(tc.rooms, tc.except); !slices.Equal(got, tc.want) {
			t.Errorf("rooms %v except %v: picked %v, want %v", tc.rooms, tc.except, got, tc.want)
		}
	}
	if got := r.names(); !slices.Equal(got, slices.Sorted(slices.Values(rooms))) {
		t.Errorf("names() = %v, want %v", got, rooms)
	}
}

// Selections that lock several shards, in every order of their rooms, run
// alongside joins and leaves of the same rooms without deadlock or race
// (run with -race), and never visit a client twice.
func TestRegistryConcurrentSelectionsAndJoins(t *testing.T) {
	var r roomRegistry
	rooms := roomsInDistinctShards(6)
	clients := make([]*Client, 64)
	for i := range clients {
		clients[i] = &Client{}
		r.join(clients[i], rooms[i%len(rooms)])
	}
	noID := func(string) *Client { return nil }
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				sel := []string{rooms[(w+i)%6], rooms[(w+2*i+1)%6], rooms[(i+3)%6]}
				seen := map[*Client]bool{}
				r.forEach(sel, []string{rooms[(w+i+5)%6]}, noID, func(c *Client) {
					if seen[c] {
						t.Error("a client was visited twice")
					}
					seen[c] = true
				})
			}
		}()
	}
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				c := clients[(w*31+i)%len(clients)]
				room := rooms[(i*7+w)%len(rooms)]
				r.join(c, room)
				r.leave(c, room)
			}
		}()
	}
	wg.Wait()
}
