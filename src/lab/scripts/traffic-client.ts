/** Source of the traffic client run inside a namespace: N new TCP connections or N new UDP flows, tallied by the identity each answer carries. */

/**
 * Plain JavaScript run as `ip netns exec NS node <file> <json>` (see endpoint-server.ts for why).
 * argv[2]: JSON `{ protocol, host, port, count, concurrency, timeoutMs, localAddress?, sourcePorts? }`.
 * TCP: every connection is a new socket, so a new ephemeral source port and a new conntrack flow.
 * UDP: flow i binds `sourcePorts[i]` (distinct, chosen by the lab so no port repeats within
 * conntrack's UDP timeout); one datagram per flow, resent on the same socket (same flow) on timeout.
 * Prints one JSON line: `{ counts: { "<ip:port>": n }, failures, errors }`.
 */
export const TRAFFIC_CLIENT_SOURCE = String.raw`
import net from 'node:net';
import dgram from 'node:dgram';

const o = JSON.parse(process.argv[2]);
const counts = {};
const errors = [];
let failures = 0;
const record = (identity) => { counts[identity] = (counts[identity] || 0) + 1; };
const failed = (error) => { failures++; if (errors.length < 5) errors.push(String(error && error.message || error)); };

function tcpOnce() {
  return new Promise((resolve) => {
    const socket = net.connect({ host: o.host, port: o.port, localAddress: o.localAddress });
    let data = '';
    const timer = setTimeout(() => { socket.destroy(new Error('timeout')); }, o.timeoutMs);
    socket.setEncoding('utf8');
    // The client closes first, once the answer's line is in, so the TIME_WAIT is the client's. Were it
    // the pod's, a later connection whose masqueraded source port happens to match could have its SYN
    // refused by that TIME_WAIT (PAWS); the client's RST and SYN retransmit then make a second
    // conntrack flow, and so a second ladder count, for one answered connection.
    socket.on('data', (d) => { data += d; if (data.includes('\n')) socket.end(); });
    socket.on('end', () => { clearTimeout(timer); const line = data.split('\n')[0]; if (line) record(line); else failed('empty answer'); socket.end(); resolve(); });
    socket.on('error', (e) => { clearTimeout(timer); failed(e); resolve(); });
  });
}

function udpOnce(i) {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(o.host.includes(':') ? 'udp6' : 'udp4');
    let tries = 0;
    let timer = null;
    const finish = (error, identity) => {
      if (timer) clearTimeout(timer);
      if (error) failed(error); else record(identity);
      socket.close();
      resolve();
    };
    const send = () => {
      if (++tries > 3) return finish(new Error('no answer after 3 tries'));
      socket.send('who', o.port, o.host);
      timer = setTimeout(send, o.timeoutMs / 3);
    };
    socket.on('message', (msg) => finish(null, msg.toString()));
    socket.on('error', (e) => finish(e));
    const port = o.sourcePorts ? o.sourcePorts[i] : 0;
    socket.bind({ port, address: o.localAddress, exclusive: true }, send);
  });
}

let next = 0;
async function worker() {
  while (next < o.count) {
    const i = next++;
    await (o.protocol === 'udp' ? udpOnce(i) : tcpOnce());
  }
}
await Promise.all(Array.from({ length: Math.min(o.concurrency, o.count) }, worker));
process.stdout.write(JSON.stringify({ counts, failures, errors }) + '\n');
`;
