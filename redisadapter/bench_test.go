package redisadapter

import (
	"testing"

	"github.com/tradewithai/realtime"
)

// benchTick is a ticker:update as the trading demo publishes it.
type benchTick struct {
	Symbol    string  `json:"symbol"`
	Price     float64 `json:"price"`
	Bid       float64 `json:"bid"`
	Ask       float64 `json:"ask"`
	Change24h float64 `json:"change24h"`
	Volume24h float64 `json:"volume24h"`
	Timestamp string  `json:"timestamp"`
}

var benchSel = realtime.Selector{Rooms: []string{"market-data", "market-data:BTC/USD"}}

func benchMessage(b *testing.B) string {
	msg, err := encodeBroadcast("bench", benchSel, "ticker:update", []any{benchTick{"BTC/USD", 43250.5, 43250.25, 43250.75, -1.25, 1234567.5, "2026-11-25T21:39:07.123Z"}})
	if err != nil {
		b.Fatal(err)
	}
	return string(msg)
}

func BenchmarkEncodeBroadcast(b *testing.B) {
	tick := benchTick{"BTC/USD", 43250.5, 43250.25, 43250.75, -1.25, 1234567.5, "2026-11-25T21:39:07.123Z"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeBroadcast("bench", benchSel, "ticker:update", []any{tick}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSkipBroadcast is what an instance spends on a multi-room
// broadcast that selects none of its clients.
func BenchmarkSkipBroadcast(b *testing.B) {
	msg := benchMessage(b)
	r := newMsgReader()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := r.header(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := r.selector(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeBroadcast is what an instance spends on a broadcast it
// delivers, before the gateway encodes the packet for its clients.
func BenchmarkDecodeBroadcast(b *testing.B) {
	msg := benchMessage(b)
	r := newMsgReader()
	b.ReportAllocs()
	for b.Loop() {
		_, packet, err := r.header(msg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.selector(); err != nil {
			b.Fatal(err)
		}
		if _, _, err := r.packet(packet); err != nil {
			b.Fatal(err)
		}
	}
}
