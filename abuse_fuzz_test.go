package realtime

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/tradewithai/realtime/internal/socketio"
)

// FuzzSubscriptionRequest feeds arbitrary subscribe and unsubscribe
// payloads through the path a client's event takes (Socket.IO decoding,
// event parsing, then the gateway's request decoding and channel
// resolution). It must never panic; a refusal always carries one of the
// codes documented for these events and a message; an accepted request
// names a channel and rooms the client may join.
func FuzzSubscriptionRequest(f *testing.F) {
	for _, seed := range []string{
		`{"channel":"market-data","symbols":["BTC/USD","ETH/USD"]}`,
		`{"channel":"market-data"}`,
		`{"channel":"trading","symbols":[]}`,
		`{"channel":"trading","symbols":["BTC/USD"]}`,
		`{"channel":"user:fuzzer"}`,
		`{"channel":"user:someone-else"}`,
		`{"channel":"forex"}`,
		`{"channel":""}`,
		`{"channel":"market-data","symbols":["a","b","c","d"]}`,
		`{"channel":"market-data","symbols":["BTC USD"]}`,
		`{"channel":"market-data","symbols":["` + strings.Repeat("A", 33) + `"]}`,
		`{"channel":"market-data","symbols":["B","A","B"]}`,
		`{"channel":"market-data","symbols":"BTC/USD"}`,
		`{"channel":42}`,
		`"market-data"`,
		`null`,
		`[]`,
		`{"_placeholder":true,"num":0}`,
		`{"channel":"market-data","symbols":[null]}`,
		`{"channel":"market-data","symbols":["\u00e9"]}`,
		`{"channel":"market-data:BTC/USD,ETH/USD"}`,
		`{"channel":"market-data:BTC/USD,,ETH/USD"}`,
		`{"channel":"trading:BTC/USD"}`,
		`{"channel":"market-data:BTC/USD","symbols":["ETH/USD"]}`,
	} {
		f.Add(false, []byte(seed))
		f.Add(true, []byte(seed))
	}
	g, err := New(WithDevelopmentMode(true), WithMaxSymbols(3))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = g.Shutdown(context.Background()) })
	c := &Client{g: g, userID: "fuzzer", userRoom: g.cfg.naming.User("fuzzer")}
	decodeCodes := []string{CodeInvalidPayload, CodeTooManySymbols, CodeInvalidSymbol}
	roomCodes := []string{CodeUnknownChannel, CodeForbidden, CodeInvalidPayload}

	f.Fuzz(func(t *testing.T, unsubscribe bool, payload []byte) {
		name := EventSubscribe
		if unsubscribe {
			name = EventUnsubscribe
		}
		packet := append([]byte(`2["`+name+`",`), payload...)
		packet = append(packet, ']')
		var d socketio.Decoder
		p, err := d.Decode(packet, false)
		if err != nil || p == nil || p.Type != socketio.Event {
			return // the connection would have been closed before the gateway saw it
		}
		ev, args, err := socketio.ParseEvent(p.Data)
		if err != nil {
			return
		}
		e := &socketio.ClientEvent{Name: ev, Args: socketio.Args{Raw: args}}

		req, cerr := g.decodeSubscription(e)
		if cerr != nil {
			if !slices.Contains(decodeCodes, cerr.Code) || cerr.Message == "" {
				t.Fatalf("decodeSubscription(%q): error %q %q, want one of %v with a message", payload, cerr.Code, cerr.Message, decodeCodes)
			}
			return
		}
		if req.Channel == "" || req.Symbols == nil || len(req.Symbols) > g.cfg.maxSymbols {
			t.Fatalf("decodeSubscription(%q) = %+v: accepted without a channel, with nil symbols or too many", payload, req)
		}
		sorted := slices.Clone(req.Symbols)
		slices.Sort(sorted)
		if len(slices.Compact(sorted)) != len(req.Symbols) {
			t.Fatalf("decodeSubscription(%q): symbols %q not deduplicated", payload, req.Symbols)
		}
		for _, s := range req.Symbols {
			if !validSymbol(s) {
				t.Fatalf("decodeSubscription(%q): accepted invalid symbol %q", payload, s)
			}
		}

		ch, rooms, cerr := g.channelRooms(c, req)
		if cerr != nil {
			if !slices.Contains(roomCodes, cerr.Code) || cerr.Message == "" {
				t.Fatalf("channelRooms(%+v): error %q %q, want one of %v with a message", req, cerr.Code, cerr.Message, roomCodes)
			}
			return
		}
		if rooms == nil {
			// Only the client's own user room resolves to no rooms.
			if req.Channel != c.userRoom || len(req.Symbols) != 0 {
				t.Fatalf("channelRooms(%+v) = no rooms for a channel other than the user room", req)
			}
			return
		}
		if _, ok := g.cfg.channels[req.Channel]; !ok || ch.Name != req.Channel {
			t.Fatalf("channelRooms(%+v) accepted unknown channel %q", req, req.Channel)
		}
		want := []string{req.Channel}
		if len(req.Symbols) > 0 {
			want = want[:0]
			for _, s := range req.Symbols {
				want = append(want, req.Channel+":"+s)
			}
		}
		if !slices.Equal(rooms, want) {
			t.Fatalf("channelRooms(%+v) = %q, want %q", req, rooms, want)
		}
		for _, r := range rooms {
			if strings.HasPrefix(r, "user:") || r == allRoom {
				t.Fatalf("channelRooms(%+v) = %q: a client may never name a user room or the all room", req, rooms)
			}
		}
	})
}
