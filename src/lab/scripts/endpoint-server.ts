/** Source of the endpoint server each pod namespace runs: answers every TCP connection (one line) / UDP datagram with its own `ip:port`. */

/**
 * Plain JavaScript, written to the lab's temp directory and run as `ip netns exec POD node <file> <json>`,
 * so the lab works from the TypeScript sources (tests) and from dist alike, with no build step.
 * argv[2]: JSON `[{ protocol: 'tcp'|'udp', address, port }]`. Prints `ready` once every socket is
 * bound; exits when stdin closes (the lab process died) so no server outlives its lab.
 */
export const ENDPOINT_SERVER_SOURCE = String.raw`
import net from 'node:net';
import dgram from 'node:dgram';

const listeners = JSON.parse(process.argv[2]);
let pending = listeners.length;
const bound = () => { if (--pending === 0) process.stdout.write('ready\n'); };
const fail = (what, error) => { process.stderr.write(what + ': ' + error.message + '\n'); process.exit(1); };

for (const l of listeners) {
  const identity = l.address.includes(':') ? '[' + l.address + ']:' + l.port : l.address + ':' + l.port;
  if (l.protocol === 'tcp') {
    // The client closes first, after reading the line (see traffic-client.ts); the server's side
    // ends when the client's FIN arrives (allowHalfOpen is off), so no TIME_WAIT is left here.
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.write(identity + '\n');
    });
    server.on('error', (e) => fail('tcp ' + identity, e));
    server.listen({ host: l.address, port: l.port, backlog: 1024 }, bound);
  } else {
    const socket = dgram.createSocket(l.address.includes(':') ? 'udp6' : 'udp4');
    socket.on('error', (e) => fail('udp ' + identity, e));
    socket.on('message', (_msg, rinfo) => socket.send(identity, rinfo.port, rinfo.address));
    socket.bind({ address: l.address, port: l.port }, bound);
  }
}
if (pending === 0) process.stdout.write('ready\n');
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
`;
