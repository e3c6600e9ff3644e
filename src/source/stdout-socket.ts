/**
 * A child's stdout read into one buffer of ours, reused for every read.
 *
 * Node reads a child's stdout pipe into a new 64 KiB ArrayBuffer per read. One save at 20,000 services
 * × 10 endpoints is ~1,550 of them, and each is freed only when V8 collects its small JS object: at a
 * running node's memory peak heaptrack found 41 MB of them waiting, and glibc keeps most of that
 * memory once they are freed (docs/benchmarks.md). A net.Socket can instead read into a buffer it is
 * given (`onread`), but only a socket we construct: child_process makes the stdio pipes itself. So the
 * child's stdout is one end of a Unix stream connection that we make, the other end ours, with `onread`
 * (spawn takes a socket as a stdio stream; libuv's own stdio pipes are Unix socket pairs too).
 *
 * The connection is made through a listening socket in the abstract namespace: no file to create,
 * nothing left behind. Abstract names are listed in /proc/net/unix, and on a node (hostNetwork) another
 * process could connect before we do; so our end first sends a random token, and only the connection
 * that delivers it becomes the child's stdout. Linux only: elsewhere, or on any failure here, the
 * caller falls back to the pipe (run-command.ts).
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

/** One pipe read's worth, as libuv reads a pipe. */
const STDOUT_BUFFER_BYTES = 64 * 1024;

const TOKEN_BYTES = 16;
/** Both ends are in this process: the connection takes microseconds. */
const CONNECT_TIMEOUT_MS = 5_000;

export interface StdoutSocket {
  /** The child's end: pass it as spawn's stdout, then destroy it (the child holds its own copy). */
  readonly childEnd: net.Socket;
  /**
   * Our end. It calls `onRead` with each read's bytes, a view of the one buffer that is valid only
   * until the next read: a consumer that keeps bytes past its return must pause() this socket first
   * (no read happens while it is paused). Emits 'end' when the child has closed its stdout.
   */
  readonly reader: net.Socket;
}

export interface StdoutSocketOptions {
  readonly bufferBytes?: number;
  /** Called once the listening socket has its name, before our end connects (tests: an impostor). */
  readonly beforeConnect?: (name: string) => Promise<void>;
}

/** Makes the connection; rejects when it cannot (the caller then reads a pipe instead). */
export async function connectStdoutSocket(onRead: (bytes: Buffer) => void, options: StdoutSocketOptions = {}): Promise<StdoutSocket> {
  const token = randomBytes(TOKEN_BYTES);
  const name = `\0kube-balance-exporter/${process.pid}/${randomBytes(12).toString('hex')}`;
  const server = net.createServer({ pauseOnConnect: true });
  /** Every connection but ours, closed once ours is found (or we give up). */
  const others: net.Socket[] = [];
  let reader: net.Socket | null = null;
  let timer: NodeJS.Timeout | undefined;
  // Listening for connections from the start: one made before ours must not be left unanswered.
  const ours = new Promise<net.Socket>((resolve, reject) => {
    server.on('connection', (socket: net.Socket) => {
      others.push(socket);
      readToken(socket, token).then(
        (sentToken) => {
          if (!sentToken) return socket.destroy();
          others.splice(others.indexOf(socket), 1);
          resolve(socket);
        },
        () => socket.destroy(),
      );
    });
    server.on('error', reject);
  });
  try {
    await Promise.race([ours, new Promise<void>((resolve) => server.listen(name, resolve))]);
    await options.beforeConnect?.(name);
    const buffer = Buffer.allocUnsafe(options.bufferBytes ?? STDOUT_BUFFER_BYTES);
    const connecting = net.connect({ path: name, onread: { buffer, callback: (bytes: number, into: Uint8Array) => readInto(onRead, into, bytes) } });
    reader = connecting;
    const connectFailed = new Promise<never>((_resolve, reject) => connecting.once('error', reject));
    // write, not end: an end would reach the child's end, which (allowHalfOpen off) would shut down
    // its writing side, the child's stdout.
    connecting.once('connect', () => connecting.write(token));
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`stdout socket: not connected within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    });
    const childEnd = await Promise.race([ours, connectFailed, timeout]);
    connectFailed.catch(() => {});
    return { childEnd, reader: connecting };
  } catch (error) {
    reader?.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
    server.close();
    for (const socket of others) socket.destroy();
  }
}

/** The socket's read callback. It returns true: a consumer that must keep the bytes pauses the socket itself. */
function readInto(onRead: (bytes: Buffer) => void, into: Uint8Array, bytes: number): boolean {
  onRead(Buffer.from(into.buffer, into.byteOffset, bytes));
  return true;
}

/**
 * Whether `socket` sends exactly `token` first. Ours sends nothing else: more bytes with the token, or
 * an end before it, mean another process connected.
 */
function readToken(socket: net.Socket, token: Buffer): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const received: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      received.push(chunk);
      length += chunk.length;
      if (length >= token.length) {
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.pause();
        resolve(length === token.length && Buffer.concat(received).equals(token));
      }
    };
    const onEnd = (): void => resolve(false);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', reject);
    socket.resume();
  });
}
