// A plain socket.io 4.8 relay of Sketchboard's messages, the stack the
// original exercise suggested, for docs/benchmarks.md. State in memory, no
// storage, no validation: each room numbers its changes and sends them to
// every member, the author's copy carrying its `op`. Messages travel as
// socket.io events named "msg" whose payload is Sketchboard's JSON message.
//
//   node server.js 127.0.0.1:3921
'use strict';
const http = require('http');
const { Server } = require('socket.io');

const [host, port] = (process.argv[2] || '127.0.0.1:3921').split(':');
const server = http.createServer();
// No pings during a run, so the load generator need not answer them.
const io = new Server(server, { transports: ['websocket'], pingInterval: 600000, pingTimeout: 600000 });
const seqs = new Map();

io.on('connection', (socket) => {
  const room = socket.handshake.query.room || 'default';
  socket.on('msg', (msg) => {
    if (msg.type === 'hello') {
      socket.join(room);
      const seq = seqs.get(room) || 0;
      const members = io.sockets.adapter.rooms.get(room)?.size || 1;
      socket.emit('msg', { type: 'welcome', version: 3, room, seq, epoch: 1, members, last_op: 0, parts: 1 });
      socket.emit('msg', { type: 'board', seq, part: 0, shapes: [] });
    } else if (msg.type === 'change') {
      const seq = (seqs.get(room) || 0) + 1;
      seqs.set(room, seq);
      socket.to(room).emit('msg', { type: 'applied', seq, change: msg.change });
      socket.emit('msg', { type: 'applied', seq, change: msg.change, op: msg.op });
    }
  });
});

server.listen(Number(port), host, () => console.error(`socket.io relay listening on ${host}:${port}`));
