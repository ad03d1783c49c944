// Reference Socket.IO server (npm socket.io 4.8.4) implementing the behaviour
// that conformance.mjs expects, so the conformance checks can be validated
// against the reference implementation before they are run against ours.
//
// Usage: node reference-server.mjs [--port N] [--host 127.0.0.1]
//
// Prints {"ready":true,"port":N} on stdout once listening. Exits on SIGTERM,
// SIGINT, or when stdin (if it is a pipe) is closed by the parent.

import { createServer } from "node:http";
import { fstatSync } from "node:fs";
import { parseArgs } from "node:util";
import { Server } from "socket.io";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
  },
});

const httpServer = createServer();
const io = new Server(httpServer, {
  pingInterval: 300,
  pingTimeout: 200,
  maxHttpBufferSize: 1e6,
  connectTimeout: 1000,
  cors: { origin: "*" },
});

io.of("/").on("connection", (socket) => {
  socket.emit("auth", socket.handshake.auth);

  socket.on("message", (...args) => {
    socket.emit("message-back", ...args);
  });

  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });

  socket.on("server-ack", (opts) => {
    const timeoutMs = opts && typeof opts.timeoutMs === "number" ? opts.timeoutMs : 1000;
    socket.timeout(timeoutMs).emit("need-ack", "ping-from-server", (err, ...args) => {
      if (err) {
        socket.emit("server-ack-result", { ok: false, error: "timeout" });
      } else {
        socket.emit("server-ack-result", { ok: true, args });
      }
    });
  });

  socket.on("disconnect-me", () => {
    socket.disconnect();
  });

  // Closes the Engine.IO session without a Socket.IO DISCONNECT packet, as a
  // network drop would, so the client must treat it as a transport loss.
  socket.on("drop-transport", () => {
    socket.conn.close();
  });

  socket.on("no-ack", () => {});
});

io.of("/custom").on("connection", (socket) => {
  socket.emit("auth", socket.handshake.auth);
});

io.of("/refuse").use((_socket, next) => {
  const err = new Error("refused by server");
  err.data = { code: "NOPE", reason: "test" };
  next(err);
});

let closing = false;
function shutdown(code) {
  if (closing) return;
  closing = true;
  io.close(() => process.exit(code));
  // io.close waits for open HTTP connections; do not let a stuck one keep us alive.
  setTimeout(() => process.exit(code), 1000).unref();
}

process.on("SIGTERM", () => shutdown(0));
process.on("SIGINT", () => shutdown(0));

// Only a pipe means a supervising parent: /dev/null or a terminal would
// otherwise end the server as soon as it starts.
let stdinIsPipe = false;
try {
  const st = fstatSync(0);
  stdinIsPipe = st.isFIFO() || st.isSocket();
} catch {
  stdinIsPipe = false;
}
if (stdinIsPipe) {
  process.stdin.on("end", () => shutdown(0));
  process.stdin.on("close", () => shutdown(0));
  process.stdin.resume();
}

httpServer.on("error", (err) => {
  process.stderr.write(`reference-server: ${err.stack || err}\n`);
  process.exit(1);
});

httpServer.listen(Number(values.port), values.host, () => {
  const { port } = httpServer.address();
  process.stdout.write(JSON.stringify({ ready: true, port }) + "\n");
});
