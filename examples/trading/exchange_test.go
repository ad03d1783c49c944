package main

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tradewithai/realtime"
)

// sent is one event the exchange handed to the gateway.
type sent struct {
	room  string // "user:<id>" or "market-data:<symbol>"
	event string
	data  any
}

// recorder is a publisher that keeps what it is given.
type recorder struct{ sent []sent }

func (r *recorder) BroadcastToSymbol(channel, symbol, event string, data any) error {
	r.sent = append(r.sent, sent{channel + ":" + symbol, event, data})
	return nil
}

func (r *recorder) SendToUser(userID, event string, data any) error {
	r.sent = append(r.sent, sent{"user:" + userID, event, data})
	return nil
}

// simulate runs the exchange for steps steps (250 ms each) and returns what
// it published.
func simulate(t *testing.T, steps int) (*exchange, []sent) {
	t.Helper()
	rec := &recorder{}
	x := newExchange(rec, "alice")
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for n := range steps {
		x.step(n, now.Add(time.Duration(n)*250*time.Millisecond))
	}
	return x, rec.sent
}

// TestUserEventsGoToTheirUserOnly: fills, positions and balances go to the
// demo user's room and nowhere else; only public market data goes to the
// shared per-symbol rooms.
func TestUserEventsGoToTheirUserOnly(t *testing.T) {
	_, events := simulate(t, 400)
	perUser := map[string]int{}
	for _, s := range events {
		switch s.event {
		case "order:filled", "position:updated", "balance:updated":
			perUser[s.event]++
			if s.room != "user:alice" {
				t.Fatalf("%s sent to %s, want user:alice only", s.event, s.room)
			}
		case "ticker:update", "orderbook:update":
			if !strings.HasPrefix(s.room, realtime.ChannelMarketData+":") {
				t.Fatalf("%s sent to %s, want a market-data room", s.event, s.room)
			}
		default:
			t.Fatalf("unexpected event %s to %s", s.event, s.room)
		}
	}
	// One fill every 8 steps, each with its position and balance.
	for _, e := range []string{"order:filled", "position:updated", "balance:updated"} {
		if perUser[e] != 50 {
			t.Errorf("%d %s events in 400 steps, want 50", perUser[e], e)
		}
	}
}

// longFraction matches a JSON number with more than 4 decimals or an
// exponent, such as 0.017400000000000002 or 1e-05.
var longFraction = regexp.MustCompile(`[-\d]\.\d{5,}|\d[eE][-+]?\d`)

// TestPublishedNumbersAreRounded: every number in a sample of payloads is
// printed with no more decimals than its instrument's price tick, quantity
// lot or cents allow, and prices are multiples of the tick.
func TestPublishedNumbersAreRounded(t *testing.T) {
	x, events := simulate(t, 400)
	markets := map[string]*market{}
	for _, m := range x.markets {
		markets[m.symbol] = m
	}
	for _, s := range events {
		b, err := json.Marshal(s.data)
		if err != nil {
			t.Fatal(err)
		}
		if loc := longFraction.FindIndex(b); loc != nil {
			t.Fatalf("%s payload has an unrounded number near %q: %s", s.event, b[loc[0]:loc[1]], b)
		}
		type number struct {
			what string
			v    float64
			step step
		}
		var checks []number
		add := func(what string, v float64, st step) { checks = append(checks, number{what, v, st}) }
		switch p := s.data.(type) {
		case ticker:
			m := markets[p.Symbol]
			add("price", p.Price, m.tick)
			add("bid", p.Bid, m.tick)
			add("ask", p.Ask, m.tick)
			add("volume24h", p.Volume24h, m.lot)
			add("change24h", p.Change24h, percent)
		case orderBook:
			m := markets[p.Symbol]
			for _, l := range append(p.Bids, p.Asks...) {
				add("level price", l[0], m.tick)
				add("level quantity", l[1], m.lot)
			}
		case orderFilled:
			m := markets[p.Symbol]
			add("price", p.Price, m.tick)
			add("quantity", p.Quantity, m.lot)
		case positionUpdated:
			m := markets[p.Symbol]
			add("quantity", p.Quantity, m.lot)
			add("markPrice", p.MarkPrice, m.tick)
			add("avgPrice", p.AvgPrice, cent)
			add("unrealizedPnl", p.UnrealizedPnl, cent)
		case balanceUpdated:
			add("available", p.Available, cent)
			add("total", p.Total, cent)
		}
		for _, c := range checks {
			if !onStep(c.v, c.step) {
				t.Fatalf("%s %s = %v, not printed as a multiple of %v: %s", s.event, c.what, c.v, c.step.size(), b)
			}
		}
	}
}

// onStep reports whether v, as encoding/json prints it, has at most
// st.decimals decimals and is a whole number of st.
func onStep(v float64, st step) bool {
	b, _ := json.Marshal(v)
	text := string(b)
	_, frac, _ := strings.Cut(text, ".")
	if strings.ContainsAny(text, "eE") || len(frac) > st.decimals {
		return false
	}
	// Scaled to an integer, the decimal text is exact.
	digits := strings.Replace(text, ".", "", 1) + strings.Repeat("0", st.decimals-len(frac))
	n, err := strconv.ParseInt(digits, 10, 64)
	return err == nil && n%int64(st.units) == 0
}

func TestStepRound(t *testing.T) {
	tests := []struct {
		v    float64
		st   step
		want string
	}{
		{0.0174, step{1, 4}, "0.0174"}, // math.Round(v/0.0001)*0.0001 gives 0.017400000000000002
		{0.01739, step{1, 4}, "0.0174"},
		{68500.37, step{5, 1}, "68500.5"},
		{68500.24, step{5, 1}, "68500"},
		{3520.024, step{5, 2}, "3520"},
		{3520.026, step{5, 2}, "3520.05"},
		{0.1 + 0.2, cent, "0.3"},
		{-12.345678, cent, "-12.35"},
		{171.99999999, step{1, 2}, "172"},
	}
	for _, tc := range tests {
		b, _ := json.Marshal(tc.st.round(tc.v))
		if string(b) != tc.want {
			t.Errorf("%v.round(%v) = %s, want %s", tc.st, tc.v, b, tc.want)
		}
	}
	if got := (step{5, 2}).size(); got != 0.05 {
		t.Errorf("step{5, 2}.size() = %v, want 0.05", got)
	}
}
