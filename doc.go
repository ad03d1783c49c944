// Package realtime is an embeddable realtime gateway for trading services:
// it serves live events to browsers and Node processes that use the stock
// socket.io-client 4.x, and lets the host service publish to them
// in-process.
//
// A Gateway speaks Engine.IO v4 and Socket.IO v5 itself (over WebSocket and
// HTTP long-polling), authenticates each connection with an Authenticator
// (package github.com/tradewithai/realtime/jwtauth verifies JSON Web
// Tokens), manages the channels clients subscribe to (trading, market-data
// with one room per symbol, llm, and a private room per user), rate-limits
// client events, sends heartbeats and connection counts, and reports Stats.
//
// The host owns the HTTP server: it mounts the Gateway, which is an
// http.Handler, and publishes with SendToUser, BroadcastToRoom,
// BroadcastToSymbol and Emit:
//
//	auth, err := jwtauth.New(jwtauth.WithHMACSecret(secret))
//	if err != nil { ... }
//	gw, err := realtime.New(realtime.WithAuthenticator(auth))
//	if err != nil { ... }
//	mux := http.NewServeMux()
//	mux.Handle("/socket.io/", gw)
//	go http.ListenAndServe(":3000", mux)
//
//	gw.SendToUser("user-123", "order:filled", order)
//	gw.BroadcastToSymbol("market-data", "BTC/USD", "ticker:update", tick)
//
// Client-defined events with acknowledgements are registered with Handle.
// Broadcasts are encoded once and queued on every recipient without waiting
// for the network; each connection has a bounded queue, and a client that
// cannot keep up is disconnected rather than slowing anyone else down.
package realtime
