/**
 * Long-lived-connection traffic for the conntrack lab tests (the lab's own servers answer and close,
 * so they cannot hold connections open). Plain JavaScript run as `ip netns exec NS node <file> <json>`,
 * like src/lab/scripts/*.
 */

/**
 * bulk-server: argv[2] JSON `[{ address, port }]`. Per connection: writes its identity (`ip:port`) and a
 * newline, then reads and counts everything the client sends, keeping the connection open. A `stats`
 * line on stdin prints `{ identity, open, connections, bytes }` as one JSON line; stdin EOF exits.
 */
export const BULK_SERVER_SOURCE = String.raw`
import net from 'node:net';
import readline from 'node:readline';
const listeners = JSON.parse(process.argv[2]);
const stats = {};
let pending = listeners.length;
for (const l of listeners) {
  const identity = l.address.includes(':') ? '[' + l.address + ']:' + l.port : l.address + ':' + l.port;
  stats[identity] = { identity, open: 0, connections: 0, bytes: 0 };
  const s = stats[identity];
  const server = net.createServer((socket) => {
    s.open++; s.connections++;
    socket.on('data', (d) => { s.bytes += d.length; });
    socket.on('error', () => {});
    socket.on('close', () => { s.open--; });
    socket.write(identity + '\n');
  });
  server.on('error', (e) => { process.stderr.write(String(e) + '\n'); process.exit(1); });
  server.listen({ host: l.address, port: l.port, backlog: 1024 }, () => { if (--pending === 0) process.stdout.write('ready\n'); });
}
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => { if (line.trim() === 'stats') process.stdout.write(JSON.stringify(Object.values(stats)) + '\n'); });
rl.on('close', () => process.exit(0));
`;

/**
 * bulk-client: argv[2] JSON `{ host, port, count, localAddress?, bytesFor: { "<identity>": n }, defaultBytes }`.
 * Opens `count` TCP connections one after another, reads each one's identity line, then sends
 * `bytesFor[identity] ?? defaultBytes` bytes on it and keeps it open. Prints one JSON line
 * `{ perEndpoint: { identity: { connections, bytes } }, failures }` once everything is written
 * (flushed to the kernel), then waits for stdin EOF.
 */
export const BULK_CLIENT_SOURCE = String.raw`
import net from 'node:net';
const o = JSON.parse(process.argv[2]);
const perEndpoint = {};
const sockets = [];
let failures = 0;
function connectOnce() {
  return new Promise((resolve) => {
    const socket = net.connect({ host: o.host, port: o.port, localAddress: o.localAddress });
    let buf = '';
    const timer = setTimeout(() => { failures++; socket.destroy(); resolve(); }, 5000);
    socket.on('error', () => { clearTimeout(timer); failures++; resolve(); });
    socket.on('data', function onData(d) {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      const identity = buf.slice(0, nl);
      const n = o.bytesFor[identity] ?? o.defaultBytes;
      const e = (perEndpoint[identity] ??= { connections: 0, bytes: 0 });
      e.connections++; e.bytes += n;
      sockets.push(socket);
      socket.write(Buffer.alloc(n, 120), () => resolve());
    });
  });
}
for (let i = 0; i < o.count; i++) await connectOnce();
process.stdout.write(JSON.stringify({ perEndpoint, failures }) + '\n');
process.stdin.on('end', () => { for (const s of sockets) s.destroy(); process.exit(0); });
process.stdin.resume();
`;
