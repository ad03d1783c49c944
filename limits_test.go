package realtime

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestClientAddressGroupsIPv6Networks(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7:51000":                  "192.0.2.7",
		"[::ffff:192.0.2.7]:51000":         "192.0.2.7",
		"[2001:db8:1:2:aaaa::1]:443":       "2001:db8:1:2::/64",
		"[2001:db8:1:2:bbbb:cccc::9]:8080": "2001:db8:1:2::/64",
		"[2001:db8:1:3::1]:443":            "2001:db8:1:3::/64",
		"not-an-address":                   "not-an-address",
	} {
		if got := hostOnly(in, nil); got != want {
			t.Errorf("hostOnly(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHandshakeLimiterStaysBounded(t *testing.T) {
	h := &handshakeLimiter{limit: 1, burst: 1}
	now := time.Now()
	for i := range maxHandshakeBuckets {
		if !h.allow(fmt.Sprint("addr-", i), now) {
			t.Fatalf("address %d refused while the map had room", i)
		}
	}
	// Every bucket is empty at `now`: a new address is refused rather than
	// growing the map.
	if h.allow("one-more", now) {
		t.Error("a new address was tracked beyond the bound")
	}
	// A second later the buckets are full again and sweepable.
	if !h.allow("one-more", now.Add(2*time.Second)) {
		t.Error("a new address was refused after the old buckets refilled")
	}
	if n := len(h.buckets); n != 1 {
		t.Errorf("%d buckets after the sweep, want 1", n)
	}
}

func TestConnectionLimitsCountAndRelease(t *testing.T) {
	l := connectionLimits{maxTotal: 3, maxPerAddr: 2, maxPerUser: 2}
	steps := []struct {
		addr, user string
		ok         bool
	}{
		{"a", "u1", true},
		{"a", "u2", true},
		{"a", "u3", false}, // address a is full
		{"b", "u1", true},
		{"c", "u1", false}, // total and user u1 are full
	}
	for i, s := range steps {
		if err := l.acquire(s.addr, s.user); (err == nil) != s.ok {
			t.Fatalf("step %d (%s, %s): err %v, want ok=%v", i, s.addr, s.user, err, s.ok)
		}
	}
	l.release("a", "u1")
	if err := l.acquire("c", "u3"); err != nil {
		t.Errorf("after a release: %v", err)
	}
	if len(l.byAddr) != 3 || l.byAddr["a"] != 1 {
		t.Errorf("byAddr %v", l.byAddr)
	}
}

func TestRoomNamingMustKeepUserRoomsPrivate(t *testing.T) {
	clash := RoomNaming{
		User:   func(id string) string { return "u:" + id },
		Symbol: func(ch, sym string) string { return "u:" + sym },
	}
	if _, err := New(WithDevelopmentMode(true), WithRoomNaming(clash)); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("symbol rooms that look like user rooms: %v, want ErrInvalidOption", err)
	}
	fine := RoomNaming{
		User:   func(id string) string { return "private/" + id },
		Symbol: func(ch, sym string) string { return ch + "/" + sym },
	}
	gw, err := New(WithDevelopmentMode(true), WithRoomNaming(fine))
	if err != nil {
		t.Fatal(err)
	}
	if !gw.isUserRoom("private/bob") || gw.isUserRoom("market-data/BTC") {
		t.Error("isUserRoom does not follow the naming")
	}
	_ = gw.Shutdown(t.Context())
}

func TestReservedEventNamesCannotBeSent(t *testing.T) {
	gw, err := New(WithDevelopmentMode(true))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Shutdown(t.Context())
	for _, name := range []string{"", "connect", "disconnect", "connect_error"} {
		if err := gw.Emit(t.Context(), Selector{}, name, 1); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("Broadcast(%q): %v, want ErrInvalidEvent", name, err)
		}
	}
	if err := gw.Emit(t.Context(), Selector{}, "connected", 1); err != nil {
		t.Errorf("Broadcast(connected): %v", err)
	}
}
