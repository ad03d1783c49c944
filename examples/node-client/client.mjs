// The reference deployment's manual test, against the realtime demo:
//
//   go run ./examples/trading &        # or ./scripts/demo
//   node examples/node-client/client.mjs [url] [token]
//
// URL defaults to http://localhost:3000; TOKEN (or the TOKEN environment
// variable) is a JWT signed with the demo's JWT_SECRET, and may be left out
// when the demo runs in development mode. With MAX_ORDERS=N the script exits
// after N order fills.
import { io } from "socket.io-client";

const url = process.argv[2] || process.env.URL || "http://localhost:3000";
const token = process.argv[3] || process.env.TOKEN;
const maxOrders = Number(process.env.MAX_ORDERS || 0);

const socket = io(url, {
  auth: token ? { token } : {},
});

socket.on("connect", () => {
  console.log("Connected:", socket.id);

  // Subscribe to trading
  socket.emit("subscribe", { channel: "trading" });
});

socket.on("connect_error", (err) => {
  console.error("Connection refused:", err.message, err.data);
});

socket.on("connected", (data) => {
  console.log("Welcome:", data);
});

socket.on("subscribed", (data) => {
  console.log("Subscribed:", data);
});

let orders = 0;
socket.on("order:filled", (order) => {
  console.log("Order filled:", order);
  if (maxOrders > 0 && ++orders >= maxOrders) {
    socket.close();
  }
});

// Test heartbeat
socket.on("heartbeat", (data) => {
  console.log("Heartbeat:", data);
});

// Test ping/pong
socket.emit("ping");
socket.on("pong", (data) => {
  console.log("Pong:", data);
});

socket.on("error", (error) => {
  console.error("Error event:", error);
});
