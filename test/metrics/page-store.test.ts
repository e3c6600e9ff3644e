/** PageStore: parts held compressed once deflated, their buffers given back, plain bytes made again once per page. */
import { promisify } from 'node:util';
import { constants, deflateRaw, inflateRaw } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { PageStore, type PageStoreCodec } from '../../src/metrics/page-store.js';
import { PartBuffers } from '../../src/metrics/part-buffers.js';

const deflateRawAsync = promisify(deflateRaw) as (data: Buffer, options: object) => Promise<Buffer>;
const inflateRawAsync = promisify(inflateRaw) as (data: Buffer, options: object) => Promise<Buffer>;

function codec(): PageStoreCodec & { deflate: ReturnType<typeof vi.fn>; inflate: ReturnType<typeof vi.fn> } {
  return {
    deflate: vi.fn((plain: Buffer) => deflateRawAsync(plain, { finishFlush: constants.Z_SYNC_FLUSH })),
    inflate: vi.fn((deflated: Buffer) => inflateRawAsync(deflated, { finishFlush: constants.Z_SYNC_FLUSH })),
  };
}

const part = (i: number): Buffer => Buffer.from(`kube_balance_x{endpoint="10.0.0.${i}:80"} ${i}\n`.repeat(200));

describe('PageStore', () => {
  it('deflates each part as it is added and then holds only the deflate blocks', async () => {
    const c = codec();
    const store = new PageStore(c, new PartBuffers(1 << 16, 2));
    const parts = [part(1), part(2), part(3)];
    for (const p of parts) store.add(p);
    store.seal({ size: 123, crc: 456 });
    expect(c.deflate).toHaveBeenCalledTimes(3);
    const deflated = await store.deflated();
    expect(c.deflate).toHaveBeenCalledTimes(3);
    expect(store.heldBytes).toBe(deflated.reduce((n, d) => n + d.length, 0));
    expect(store.heldBytes).toBeLessThan(parts.reduce((n, p) => n + p.length, 0) / 10);
    expect([store.size, store.crc]).toEqual([123, 456]);
  });

  it('makes the plain parts once, from the deflate blocks, and keeps them for later plain scrapes', async () => {
    const c = codec();
    const store = new PageStore(c, new PartBuffers(1 << 16, 2));
    const parts = [part(1), part(2)];
    for (const p of parts) store.add(p);
    const deflated = await store.deflated();
    const [first, second] = await Promise.all([store.plain(), store.plain()]);
    expect(first).toBe(second);
    expect(await store.plain()).toBe(first);
    expect(c.inflate).toHaveBeenCalledTimes(2);
    expect(Buffer.concat(first ?? []).equals(Buffer.concat(parts))).toBe(true);
    expect(store.heldBytes).toBe(deflated.reduce((n, d) => n + d.length, 0) + Buffer.concat(parts).length);
  });

  it('a plain scrape before a part is deflated uses the part itself, or a copy when its buffer is reused', async () => {
    const c = codec();
    const store = new PageStore(c, new PartBuffers(1 << 16, 1));
    const own = part(1);
    const reused = store.encode([part(2).toString()]);
    store.add(reused);
    store.add(own);
    const [first, second] = await store.plain();
    expect(first).not.toBe(reused);
    expect(first?.equals(part(2))).toBe(true);
    expect(second).toBe(own);
    expect(c.inflate).not.toHaveBeenCalled();
  });

  it('gives a reused buffer back once its part is deflated, or when its family is dropped', async () => {
    const buffers = new PartBuffers(1 << 16, 1);
    const c = codec();
    const store = new PageStore(c, buffers);
    const first = store.encode(['a'.repeat(1000)]);
    expect(buffers.reused(first)).toBe(true);
    // None free until the first part is done with: the next one gets a buffer of its own.
    expect(buffers.reused(store.encode(['b']))).toBe(false);
    store.add(first);
    await store.deflated();
    const second = store.encode(['c'.repeat(10)]);
    expect(second.buffer).toBe(first.buffer);
    store.add(second);
    store.dropLast(1);
    // The dropped part is still being deflated (on libuv's pool): its buffer comes back when that
    // ends. Wait for that job, not for a fixed time (10 ms was not always enough on a loaded machine).
    await c.deflate.mock.results.at(-1)?.value;
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.encode(['d']).buffer).toBe(first.buffer);
    expect(Buffer.concat(await store.plain()).toString()).toBe('a'.repeat(1000));
  });

  it('a failed deflate keeps the part plain; deflated() rejects and the next call tries again', async () => {
    let failing = true;
    const c: PageStoreCodec = {
      deflate: (plain) => (failing ? Promise.reject(new Error('zlib broke')) : deflateRawAsync(plain, { finishFlush: constants.Z_SYNC_FLUSH })),
      inflate: () => Promise.reject(new Error('nothing to inflate')),
    };
    const store = new PageStore(c, new PartBuffers(1 << 16, 2));
    store.add(store.encode([part(1).toString()]));
    await expect(store.deflated()).rejects.toThrow('zlib broke');
    expect((await store.plain())[0]?.equals(part(1))).toBe(true);
    failing = false;
    expect(await store.deflated()).toHaveLength(1);
  });

  it('an empty page has no parts either way', async () => {
    const store = new PageStore(codec(), new PartBuffers(1 << 16, 2));
    expect(await store.deflated()).toEqual([]);
    expect(await store.plain()).toEqual([]);
    expect([store.size, store.heldBytes]).toEqual([0, 0]);
  });
});
