// bench/peers/socketio-server.js: the Socket.IO peer of the fan-out
// benchmark. Each connection joins the room named by its `user` query
// parameter (and `room`, for broadcast runs); a publish path like onebox's
// events.sock — a Unix socket carrying one JSON line per message,
// {"to": room, "data": {...}} — emits event "ev" to that room.
// WebSocket transport only (no HTTP long-polling, no compression), so the
// loader speaks plain Engine.IO v4 over RFC 6455.
//
//   node socketio-server.js PORT PUB_SOCKET_PATH
'use strict';
const http = require('http');
const net = require('net');
const fs = require('fs');
const { Server } = require('socket.io');

const port = Number(process.argv[2]);
const pubPath = process.argv[3];
if (!port || !pubPath) {
  console.error('usage: node socketio-server.js PORT PUB_SOCKET_PATH');
  process.exit(2);
}

const httpServer = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
const io = new Server(httpServer, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  httpCompression: false,
  maxHttpBufferSize: 65536,
});

io.on('connection', (socket) => {
  const q = socket.handshake.query;
  if (typeof q.user === 'string' && q.user) socket.join(q.user);
  if (typeof q.room === 'string' && q.room) socket.join(q.room);
});

const MAX_LINE = 1 << 20;
const pub = net.createServer((c) => {
  let buf = '';
  c.setEncoding('utf8');
  c.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let m;
      try {
        m = JSON.parse(line);
      } catch (e) {
        continue;
      }
      if (m && typeof m.to === 'string') io.to(m.to).emit('ev', m.data);
    }
    if (buf.length > MAX_LINE) buf = '';
  });
  c.on('error', () => {});
});

try { fs.unlinkSync(pubPath); } catch (e) { /* not there */ }
pub.listen(pubPath);
httpServer.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => {
  console.log(`socket.io listening on 127.0.0.1:${port}, publish socket ${pubPath}`);
});

function stop() {
  io.close();
  pub.close();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
