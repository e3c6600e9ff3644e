import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectStdoutSocket } from '../../src/source/stdout-socket.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kbe-stdout-socket-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** 2 MiB of numbered lines in a file: more than the socket's buffers hold, so cat waits on us. */
function bigFile(): { path: string; text: string } {
  const text = `${Array.from({ length: 60_000 }, (_, i) => `-A KUBE-SVC-X -m comment --comment "line ${i}"`).join('\n')}\n`;
  const path = join(dir, 'big.txt');
  writeFileSync(path, text);
  return { path, text };
}

/** Runs `cat path` with the socket's child end as its stdout; resolves when the reader has ended and cat exited. */
async function catInto(socket: { childEnd: net.Socket; reader: net.Socket }, path: string): Promise<number | null> {
  const ended = new Promise((resolve) => socket.reader.once('end', resolve));
  const child = spawn('cat', [path], { stdio: ['ignore', socket.childEnd, 'inherit'] });
  socket.childEnd.destroy();
  const [code] = await Promise.all([new Promise<number | null>((resolve) => child.once('exit', resolve)), ended]);
  socket.reader.destroy();
  return code;
}

describe('a child\'s stdout through the socket', () => {
  it('arrives whole and in order, every read in the one buffer', async () => {
    const { path, text } = bigFile();
    const copies: Buffer[] = [];
    const stores = new Set<ArrayBufferLike>();
    const socket = await connectStdoutSocket((bytes) => {
      copies.push(Buffer.from(bytes));
      stores.add(bytes.buffer);
    }, { bufferBytes: 4096 });
    expect(await catInto(socket, path)).toBe(0);
    expect(Buffer.concat(copies).toString()).toBe(text);
    expect(copies.length).toBeGreaterThan(100);
    expect(stores.size).toBe(1);
  });

  it('reads nothing into the buffer while the reader is paused, so held bytes stay as they were', async () => {
    const { path, text } = bigFile();
    const seen: string[] = [];
    let held: Buffer | null = null;
    let heldText = '';
    let holds = 0;
    const socket = await connectStdoutSocket((bytes) => {
      // Every 20th read is kept past the callback, with the reader paused, and read later.
      if (++holds % 20 !== 0) {
        seen.push(bytes.toString('latin1'));
        return;
      }
      held = bytes;
      heldText = bytes.toString('latin1');
      socket.reader.pause();
      setTimeout(() => {
        const view = held as Buffer;
        expect(view.toString('latin1')).toBe(heldText);
        seen.push(view.toString('latin1'));
        held = null;
        socket.reader.resume();
      }, 5);
    }, { bufferBytes: 4096 });
    expect(await catInto(socket, path)).toBe(0);
    expect(seen.join('')).toBe(text);
    expect(holds).toBeGreaterThan(40);
  });

  it('gives the child only the connection that sent our token: others are closed unread', async () => {
    const { path, text } = bigFile();
    const impostorsGot: string[] = [];
    const impostorClosed: Promise<void>[] = [];
    const copies: Buffer[] = [];
    const socket = await connectStdoutSocket((bytes) => copies.push(Buffer.from(bytes)), {
      // Two other processes connect before our end does: one sends a wrong token, one sends nothing and ends.
      beforeConnect: async (name) => {
        for (const send of ['0123456789abcdef', '']) {
          const impostor = net.connect({ path: name });
          await new Promise((resolve) => impostor.once('connect', resolve));
          impostor.on('data', (chunk: Buffer) => impostorsGot.push(chunk.toString()));
          impostor.on('error', () => {});
          impostorClosed.push(new Promise((resolve) => impostor.once('close', () => resolve())));
          if (send === '') impostor.end();
          else impostor.write(send);
        }
      },
    });
    expect(await catInto(socket, path)).toBe(0);
    await Promise.all(impostorClosed);
    expect(Buffer.concat(copies).toString()).toBe(text);
    expect(impostorsGot).toEqual([]);
  });
});
