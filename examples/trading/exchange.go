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
		Change24h float64 `json:"change24h"`
		Volume24h float64 `json:"volume24h"`
		Timestamp string  `json:"timestamp"`
	}
	orderBook struct {
		Symbol    string       `json:"symbol"`
		Bids      [][2]float64 `json:"bids"`
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

type market struct {
	symbol   string
	price    float64
	open     float64 // 24h reference price
	volume   float64
	tick     float64 // price increment
	position float64
	avgPrice float64
}

// exchange simulates a venue: a random walk per symbol, an order book
// around it, and the demo user's fills, positions and balance.
type exchange struct {
	gw      *realtime.Gateway
	user    string
	markets []*market
	cash    float64
	orders  int
	rng     *rand.Rand
}

func newExchange(gw *realtime.Gateway, user string) *exchange {
	return &exchange{
		gw:   gw,
		user: user,
		cash: 100_000,
		rng:  rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano()))),
		markets: []*market{
			{symbol: "BTC/USD", price: 68_500, open: 66_900, volume: 21_500, tick: 0.5},
			{symbol: "ETH/USD", price: 3_520, open: 3_480, volume: 182_000, tick: 0.05},
			{symbol: "SOL/USD", price: 172, open: 168, volume: 2_400_000, tick: 0.01},
		},
	}
}

// run publishes until ctx ends: tickers every 250 ms, order books every
// 500 ms, a fill with its position and balance every 2 s.
func (x *exchange) run(ctx context.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
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
	}
}

func (x *exchange) publish(symbol, event string, data any) {
	_ = x.gw.PublishToSymbol(realtime.ChannelMarketData, symbol, event, data)
}

func round(v, step float64) float64 { return math.Round(v/step) * step }

func (x *exchange) move(m *market) {
	m.price = round(m.price*(1+x.rng.NormFloat64()*0.0006), m.tick)
	m.volume += x.rng.Float64() * m.volume * 0.0002
}

func (x *exchange) ticker(m *market, now time.Time) ticker {
	spread := m.tick * float64(1+x.rng.IntN(4))
	return ticker{
		Symbol:    m.symbol,
		Price:     m.price,
		Bid:       round(m.price-spread, m.tick),
		Ask:       round(m.price+spread, m.tick),
		Change24h: math.Round((m.price/m.open-1)*10_000) / 100,
		Volume24h: math.Round(m.volume*100) / 100,
		Timestamp: realtime.Timestamp(now),
	}
}

func (x *exchange) book(m *market, now time.Time) orderBook {
	b := orderBook{Symbol: m.symbol, Timestamp: realtime.Timestamp(now)}
	for i := 1; i <= 10; i++ {
		size := round((0.05+x.rng.ExpFloat64())*10_000/m.price, 0.0001)
		b.Bids = append(b.Bids, [2]float64{round(m.price-float64(i)*m.tick*3, m.tick), size})
		b.Asks = append(b.Asks, [2]float64{round(m.price+float64(i)*m.tick*3, m.tick), round(size*(0.7+x.rng.Float64()*0.6), 0.0001)})
	}
	return b
}

// fill executes a small order for the demo user and publishes the fill,
// the position and the balance to the trading channel and the user's room
// (a client in both receives each once).
func (x *exchange) fill(now time.Time) {
	m := x.markets[x.rng.IntN(len(x.markets))]
	side, sign := "buy", 1.0
	if m.position > 0 && x.rng.IntN(2) == 0 {
		side, sign = "sell", -1
	}
	qty := round(2000/m.price*(0.5+x.rng.Float64()), 0.0001)
	if side == "sell" {
		qty = math.Min(qty, m.position)
	}
	x.orders++
	if side == "buy" {
		m.avgPrice = (m.avgPrice*m.position + m.price*qty) / (m.position + qty)
	}
	m.position = round(m.position+sign*qty, 0.0001)
	x.cash -= sign * qty * m.price

	rooms := []string{realtime.ChannelTrading, "user:" + x.user}
	ts := realtime.Timestamp(now)
	_ = x.gw.BroadcastToRooms(rooms, "order:filled", orderFilled{
		OrderID: fmt.Sprintf("ord-%06d", x.orders), UserID: x.user, Symbol: m.symbol,
		Side: side, Quantity: qty, Price: m.price, Timestamp: ts,
	})
	_ = x.gw.BroadcastToRooms(rooms, "position:updated", positionUpdated{
		UserID: x.user, Symbol: m.symbol, Quantity: m.position, AvgPrice: math.Round(m.avgPrice*100) / 100,
		MarkPrice: m.price, UnrealizedPnl: math.Round((m.price-m.avgPrice)*m.position*100) / 100, Timestamp: ts,
	})
	total := x.cash
	for _, mk := range x.markets {
		total += mk.position * mk.price
	}
	_ = x.gw.BroadcastToRooms(rooms, "balance:updated", balanceUpdated{
		UserID: x.user, Currency: "USD", Available: math.Round(x.cash*100) / 100, Total: math.Round(total*100) / 100, Timestamp: ts,
	})
}
