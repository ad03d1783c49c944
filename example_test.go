package realtime_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/tradewithai/realtime"
	"github.com/tradewithai/realtime/jwtauth"
)

// A trading service mounts the gateway on its own mux; socket.io-client 4.x
// clients connect with io("https://host", { auth: { token } }).
func ExampleNew() {
	auth, err := jwtauth.New(jwtauth.WithHMACSecret([]byte(os.Getenv("JWT_SECRET"))))
	if err != nil {
		log.Fatal(err)
	}
	gw, err := realtime.New(
		realtime.WithAuthenticator(auth),
		realtime.WithAllowedOrigins("https://app.example.com"),
	)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", gw)
	srv := &http.Server{Addr: ":3000", Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.ListenAndServe() }()

	// On SIGTERM: the gateway first, so clients reconnect elsewhere.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = gw.Shutdown(ctx)
	_ = srv.Shutdown(ctx)
}

// Options are validated: New reports the first invalid one.
func ExampleNew_invalidOption() {
	_, err := realtime.New(realtime.WithDevelopmentMode(true), realtime.WithMaxSymbols(0))
	fmt.Println(err)
	// Output: realtime: invalid option: max symbols 0: want at least 1
}

// Each connection may send 60 events per minute unless told otherwise; an
// event over the limit is answered with an `error` event RATE_LIMITED.
func ExampleWithRateLimit() {
	gw, err := realtime.New(
		realtime.WithDevelopmentMode(true),
		realtime.WithRateLimit(120, time.Minute),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer gw.Shutdown(context.Background())

	// A limit that admits nothing is refused.
	_, err = realtime.New(realtime.WithDevelopmentMode(true), realtime.WithRateLimit(0, time.Minute))
	fmt.Println(err)
	// Output: realtime: invalid option: rate limit of 0 events: want at least 1
}

type order struct {
	ID     string  `json:"orderId"`
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
}

// Every connection of a user joins the room user:<id>; SendToUser reaches
// all of them, on every instance.
func ExampleGateway_SendToUser() {
	gw, err := realtime.New(realtime.WithDevelopmentMode(true))
	if err != nil {
		log.Fatal(err)
	}
	defer gw.Shutdown(context.Background())

	if err := gw.SendToUser("user-123", "order:filled", order{ID: "o-1", Symbol: "BTC/USD", Price: 68500}); err != nil {
		log.Print(err)
	}
}

// Clients subscribe to rooms; a broadcast is encoded once and queued on
// every member.
func ExampleGateway_BroadcastToRoom() {
	gw, err := realtime.New(realtime.WithDevelopmentMode(true))
	if err != nil {
		log.Fatal(err)
	}
	defer gw.Shutdown(context.Background())

	_ = gw.BroadcastToRoom("trading", "order:filled", order{ID: "o-1", Symbol: "BTC/USD", Price: 68500})
	// A symbol's update reaches the subscribers of market-data and of
	// market-data:BTC/USD, each once.
	_ = gw.BroadcastToSymbol("market-data", "BTC/USD", "ticker:update", map[string]any{"symbol": "BTC/USD", "price": 68500.5})
}

// A client event of the host's own. The client calls
// socket.emit("llm:prompt", { prompt }, (reply) => ...) and its callback
// receives what the handler returns.
func ExampleGateway_Handle() {
	gw, err := realtime.New(realtime.WithDevelopmentMode(true))
	if err != nil {
		log.Fatal(err)
	}
	defer gw.Shutdown(context.Background())

	err = gw.Handle("llm:prompt", func(ctx context.Context, req *realtime.Request) (any, error) {
		var in struct {
			Prompt string `json:"prompt"`
		}
		if err := req.Decode(&in); err != nil {
			return nil, err // the client gets an `error` event INVALID_PAYLOAD
		}
		if in.Prompt == "" {
			return nil, realtime.NewError("INVALID_PROMPT", "prompt is empty")
		}
		user := req.Client.UserID()
		go func() {
			// Stream the answer; ctx ends when the client disconnects.
			for _, word := range []string{"BTC ", "looks ", "calm."} {
				select {
				case <-ctx.Done():
					return
				case <-time.After(50 * time.Millisecond):
					_ = gw.SendToUser(user, "llm:stream", map[string]any{"chunk": word})
				}
			}
		}()
		return map[string]any{"accepted": true}, nil
	})
	if err != nil {
		log.Fatal(err)
	}
}
