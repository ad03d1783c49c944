package redisadapter_test

import (
	"context"
	"log"
	"net/http"

	"github.com/redis/go-redis/v9"
	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/redisadapter"
)

// Every instance of the service runs the same program; they find each
// other through Redis.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	gw, err := realtime.New(
		realtime.WithDevelopmentMode(true),
		realtime.WithAdapter(redisadapter.New(rdb)), // realtime.New fails when Redis does not answer
	)
	if err != nil {
		log.Fatal(err)
	}
	defer gw.Shutdown(context.Background())

	// Reaches the user's connections on every instance.
	_ = gw.SendToUser("user-42", "order:filled", map[string]any{"orderId": "o-1"})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", gw)
	log.Fatal(http.ListenAndServe(":3000", mux))
}

// An order engine publishes fills without hosting any sockets.
func ExampleEmitter() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	em := redisadapter.NewEmitter(rdb)
	ctx := context.Background()
	fill := map[string]any{"orderId": "o-1", "symbol": "BTC/USD", "side": "buy", "quantity": 0.5, "price": 43250.5}
	if err := em.SendToUser(ctx, "user-42", "order:filled", fill); err != nil {
		log.Print(err)
	}
	if err := em.BroadcastToSymbol(ctx, "market-data", "BTC/USD", "ticker:update", map[string]any{"symbol": "BTC/USD", "price": 43250.5}); err != nil {
		log.Print(err)
	}
}
