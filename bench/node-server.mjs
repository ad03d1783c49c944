// Node side of the benchmark: socket.io 4.8 behaving as bench/goserver does.
//
// Clients authenticate with an HS256 JWT (auth.token), verified with node's
// crypto HMAC; they join user:<sub>, receive a "connected" event, subscribe
// with {channel, symbols} and receive "ticker:update" events whose payload
// starts with the send time in nanoseconds since the epoch:
// {"t":"<ns>","seq":N,"symbol":"BTC/USD","price":64000.25}.
//
// Control endpoints (plain HTTP on the same port):
//   POST /bench/broadcast?rate=R&count=N&room=ROOM  broadcast N ticks at R per second; answers when done
//   GET  /bench/stats                                {"clients":C,"inbound":I,"memory":{...}}
//   POST /bench/gc                                   collect garbage (run node with --expose-gc)
//
// Usage: node [--expose-gc] bench/node-server.mjs --secret S [--port 0]
// It prints "listening <addr>" once it accepts connections.
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Server } from 'socket.io';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    secret: { type: 'string' },
  },
});
if (!opts.secret) {
  console.error('node-server: --secret is required');
  process.exit(2);
}
const secret = Buffer.from(opts.secret);

// Wall-clock nanoseconds: a microsecond-precise wall-clock anchor plus the
// monotonic clock, since Date.now() has only milliseconds.
const anchorNs =
  BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n - process.hrtime.bigint();
const wallNs = () => (anchorNs + process.hrtime.bigint()).toString();

// verify checks an HS256 token's signature, expiry and subject.
function verify(token) {
  if (typeof token !== 'string') return null;
  if (token.toLowerCase().startsWith('bearer ')) token = token.slice(7).trim();
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url'));
    if (header.alg !== 'HS256') return null;
    const sig = Buffer.from(parts[2], 'base64url');
    const want = createHmac('sha256', secret).update(parts[0] + '.' + parts[1]).digest();
    if (sig.length !== want.length || !timingSafeEqual(sig, want)) return null;
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url'));
    const now = Date.now() / 1000;
    if (typeof claims.exp !== 'number' || claims.exp <= now) return null;
    if (typeof claims.iat === 'number' && claims.iat > now + 1) return null;
    if (typeof claims.sub !== 'string' || claims.sub === '') return null;
    return claims;
  } catch {
    return null;
  }
}

let inbound = 0;
const channels = new Map([
  ['trading', false],
  ['market-data', true],
  ['llm', false],
]);

const httpServer = createServer((req, res) => {
  control(req, res).catch((err) => {
    res.writeHead(500);
    res.end(String(err));
  });
});
const io = new Server(httpServer);

io.use((socket, next) => {
  const claims = verify(socket.handshake.auth?.token);
  if (!claims) {
    const err = new Error('invalid token');
    err.data = { code: 'INVALID_TOKEN' };
    return next(err);
  }
  socket.data.userId = claims.sub;
  socket.data.claims = claims;
  next();
});

io.on('connection', (socket) => {
  const userId = socket.data.userId;
  socket.join(`user:${userId}`);
  socket.emit('connected', {
    message: 'Connected to the realtime gateway',
    clientId: socket.id,
    userId,
    timestamp: new Date().toISOString(),
  });
  socket.on('subscribe', (req, ack) => {
    const takesSymbols = channels.get(req?.channel);
    if (takesSymbols === undefined) {
      socket.emit('error', { message: 'unknown channel', code: 'UNKNOWN_CHANNEL', timestamp: new Date().toISOString() });
      return;
    }
    const symbols = Array.isArray(req.symbols) ? [...new Set(req.symbols)].sort() : [];
    const rooms = symbols.length && takesSymbols ? symbols.map((s) => `${req.channel}:${s}`) : [req.channel];
    socket.join(rooms);
    const reply = { channel: req.channel, symbols, room: rooms[0], timestamp: new Date().toISOString() };
    if (rooms.length > 1) reply.rooms = rooms;
    socket.emit('subscribed', reply);
    if (typeof ack === 'function') ack(reply);
  });
  socket.on('bench:in', () => {
    inbound++;
  });
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// broadcast sends count ticks to a room, paced at rate per second: each
// tick goes out when it is due, and ticks that fell due while the server
// was busy go out at once.
async function broadcast(rate, count, room) {
  const interval = 1e9 / rate;
  const recipients = io.of('/').adapter.rooms.get(room)?.size ?? 0;
  const start = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - start);
  let i = 0;
  while (i < count) {
    const wait = i * interval - elapsed();
    if (wait > 0) await sleep(wait / 1e6);
    for (const now = elapsed(); i < count && i * interval <= now; i++) {
      io.to(room).emit('ticker:update', { t: wallNs(), seq: i, symbol: 'BTC/USD', price: 64000.25 });
    }
  }
  return { sent: count, recipients, elapsedNs: elapsed() };
}

async function control(req, res) {
  const url = new URL(req.url, 'http://localhost');
  const json = (v) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(v));
  };
  if (req.method === 'POST' && url.pathname === '/bench/broadcast') {
    const rate = Number(url.searchParams.get('rate'));
    const count = Number(url.searchParams.get('count'));
    const room = url.searchParams.get('room');
    if (!(rate > 0) || !(count >= 0) || !room) {
      res.writeHead(400);
      res.end('want rate>0, count>=0 and room');
      return;
    }
    json(await broadcast(rate, count, room));
  } else if (req.method === 'GET' && url.pathname === '/bench/stats') {
    const { heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
    json({ clients: io.of('/').sockets.size, inbound, memory: { heapUsed, heapTotal, external, arrayBuffers } });
  } else if (req.method === 'POST' && url.pathname === '/bench/gc') {
    if (globalThis.gc) globalThis.gc();
    json({});
  } else {
    res.writeHead(404);
    res.end();
  }
}

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));

httpServer.listen(Number(opts.port), opts.host, () => {
  const { address, port } = httpServer.address();
  console.log(`listening ${address}:${port}`);
});
