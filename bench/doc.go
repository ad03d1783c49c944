// Package bench measures the gateway against Node's socket.io 4.8 on one
// machine, over loopback and the websocket transport.
//
// It holds a load generator that speaks the client side of Engine.IO v4 and
// Socket.IO v5 over a hand-rolled websocket client (connect with an auth
// token, subscribe, answer pings, timestamp arrivals), the scenarios that
// drive it, and the code that starts the two servers under test
// (bench/goserver, built on the public realtime API, and
// bench/node-server.mjs, on socket.io 4.8) and reads their memory and CPU
// from /proc.
//
// Clients live in worker processes (the compare command started again with
// -worker), so that one run can hold more connections than one process has
// file descriptors; each worker spreads its connections over several
// loopback source addresses so that ephemeral ports never run out.
//
// The command is bench/cmd/compare; docs/BENCHMARKS.md describes the
// scenarios and records a run.
package bench
