package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/tradewithai/realtime"
)

// Payloads of the demo's market and trading events.
type (
	ticker struct {
		Symbol    string  `json:"symbol"`
		Price     float64 `json:"price"`
		Bid       float64 `json:"bid"`
		Ask       float64 `json:"ask"`
		Change24h float64 `json:"change24h"` // percent
		Volume24h float64 `json:"volume24h"`
		Timestamp string  `json:"timestamp"`
	}
	orderBook struct {
		Symbol    string       `json:"symbol"`
		Bids      [][2]float64 `json:"bids"` // [price, quantity]
		Asks      [][2]float64 `json:"asks"`
		Timestamp string       `json:"timestamp"`
	}
	orderFilled struct {
		OrderID   string  `json:"orderId"`
		UserID    string  `json:"userId"`
		Symbol    string  `json:"symbol"`
		Side      string  `json:"side"`
		Quantity  float64 `json:"quantity"`
		Price     float64 `json:"price"`
		Timestamp string  `json:"timestamp"`
	}
	positionUpdated struct {
		UserID        string  `json:"userId"`
		Symbol        string  `json:"symbol"`
		Quantity      float64 `json:"quantity"`
		AvgPrice      float64 `json:"avgPrice"`
		MarkPrice     float64 `json:"markPrice"`
		UnrealizedPnl float64 `json:"unrealizedPnl"`
		Timestamp     string  `json:"timestamp"`
	}
	balanceUpdated struct {
		UserID    string  `json:"userId"`
		Currency  string  `json:"currency"`
		Available float64 `json:"available"`
		Total     float64 `json:"total"`
		Timestamp string  `json:"timestamp"`
	}
)

// A step is a decimal increment, units × 10^-decimals: 0.05 is step{5, 2}.
type step struct{ units, decimals int }

// round returns the multiple of s nearest to v, as the float64 that
// encoding/json prints with at most s.decimals digits: "0.0174", never
// "0.017400000000000002" (which is what math.Round(v/0.0001)*0.0001 gives).
func (s step) round(v float64) float64 {
	scale := math.Pow10(s.decimals)
	n := math.Round(v*scale/float64(s.units)) * float64(s.units)
	return n / scale // an integer over a power of ten: the nearest float64 to that decimal
}

// size is the increment itself: 0.05 for step{5, 2}.
func (s step) size() float64 { return float64(s.units) / math.Pow10(s.decimals) }

var (
	cent    = step{1, 2} // USD amounts
	percent = step{1, 2} // 24h change, in percent
)

// market is one instrument: prices move in ticks and quantities in lots,
// and every number published about it is rounded to them.
type market struct {
	symbol string
	tick   step // price increment
	lot    step // quantity increment

	price    float64
	open     float64 // 24h reference price
	volume   float64
	position float64 // the demo user's
	avgPrice float64
}

// publisher is what the exchange needs of the gateway; *realtime.Gateway
// implements it.
type publisher interface {
	BroadcastToSymbol(channel, symbol, event string, data any) error
	SendToUser(userID, event string, data any) error
}

// exchange simulates a venue: a random walk per symbol, an order book
// around it, and the demo user's fills, positions and balance.
type exchange struct {
	pub     publisher
	user    string
	markets []*market
	cash    float64
	orders  int
	rng     *rand.Rand
}

func newExchange(pub publisher, user string) *exchange {
	return &exchange{
		pub:  pub,
		user: user,
		cash: 100_000,
		rng:  rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano()))),
		markets: []*market{
			{symbol: "BTC/USD", tick: step{5, 1}, lot: step{1, 4}, price: 68_500, open: 66_900, volume: 21_500},
			{symbol: "ETH/USD", tick: step{5, 2}, lot: step{1, 3}, price: 3_520, open: 3_480, volume: 182_000},
			{symbol: "SOL/USD", tick: step{1, 2}, lot: step{1, 2}, price: 172, open: 168, volume: 2_400_000},
		},
	}
}

// run publishes until ctx ends, one step every 250 ms.
func (x *exchange) run(ctx context.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			x.step(n, now)
		}
	}
}

// step is the nth 250 ms step: every symbol's ticker, every other step its
// order book, and every eighth step (every 2 s) a fill for the demo user.
func (x *exchange) step(n int, now time.Time) {
	for _, m := range x.markets {
		x.move(m)
		x.publish(m.symbol, "ticker:update", x.ticker(m, now))
		if n%2 == 0 {
			x.publish(m.symbol, "orderbook:update", x.book(m, now))
		}
	}
	if n%8 == 4 {
		x.fill(now)
	}
}

// publish sends public market data to the symbol's room, market-data:<symbol>.
func (x *exchange) publish(symbol, event string, data any) {
	_ = x.pub.BroadcastToSymbol(realtime.ChannelMarketData, symbol, event, data)
}

func (x *exchange) move(m *market) {
	m.price = m.tick.round(m.price * (1 + x.rng.NormFloat64()*0.0006))
	m.volume += x.rng.Float64() * m.volume * 0.0002
}

func (x *exchange) ticker(m *market, now time.Time) ticker {
	spread := float64(1+x.rng.IntN(4)) * m.tick.size()
	return ticker{
		Symbol:    m.symbol,
		Price:     m.price,
		Bid:       m.tick.round(m.price - spread),
		Ask:       m.tick.round(m.price + spread),
		Change24h: percent.round((m.price/m.open - 1) * 100),
		Volume24h: m.lot.round(m.volume),
		Timestamp: realtime.Timestamp(now),
	}
}

func (x *exchange) book(m *market, now time.Time) orderBook {
	b := orderBook{Symbol: m.symbol, Timestamp: realtime.Timestamp(now)}
	for i := 1; i <= 10; i++ {
		size := (0.05 + x.rng.ExpFloat64()) * 10_000 / m.price
		offset := float64(3*i) * m.tick.size()
		b.Bids = append(b.Bids, [2]float64{m.tick.round(m.price - offset), m.lot.round(size)})
		b.Asks = append(b.Asks, [2]float64{m.tick.round(m.price + offset), m.lot.round(size * (0.7 + x.rng.Float64()*0.6))})
	}
	return b
}

// fill executes a small order for the demo user and sends the fill, the
// position and the balance to that user alone: SendToUser reaches the room
// user:<id>, which every connection of the user joins at connect, without
// any subscription. Never broadcast them to a shared room such as
// "trading": every subscriber would see this user's orders and balance.
func (x *exchange) fill(now time.Time) {
	m := x.markets[x.rng.IntN(len(x.markets))]
	side, sign := "buy", 1.0
	if m.position > 0 && x.rng.IntN(2) == 0 {
		side, sign = "sell", -1
	}
	qty := m.lot.round(2000 / m.price * (0.5 + x.rng.Float64()))
	if side == "sell" {
		qty = math.Min(qty, m.position)
	}
	x.orders++
	if side == "buy" {
		m.avgPrice = (m.avgPrice*m.position + m.price*qty) / (m.position + qty)
	}
	m.position = m.lot.round(m.position + sign*qty)
	x.cash = cent.round(x.cash - sign*qty*m.price)

	ts := realtime.Timestamp(now)
	_ = x.pub.SendToUser(x.user, "order:filled", orderFilled{
		OrderID: fmt.Sprintf("ord-%06d", x.orders), UserID: x.user, Symbol: m.symbol,
		Side: side, Quantity: qty, Price: m.price, Timestamp: ts,
	})
	_ = x.pub.SendToUser(x.user, "position:updated", positionUpdated{
		UserID: x.user, Symbol: m.symbol, Quantity: m.position, AvgPrice: cent.round(m.avgPrice),
		MarkPrice: m.price, UnrealizedPnl: cent.round((m.price - m.avgPrice) * m.position), Timestamp: ts,
	})
	total := x.cash
	for _, mk := range x.markets {
		total += mk.position * mk.price
	}
	_ = x.pub.SendToUser(x.user, "balance:updated", balanceUpdated{
		UserID: x.user, Currency: "USD", Available: x.cash, Total: cent.round(total), Timestamp: ts,
	})
}
