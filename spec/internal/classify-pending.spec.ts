import { describe, expect, it } from 'vitest';
import { createPendingTable, type Entry, type SentBatch } from '../../src/internal/classify-pending.js';
import { imageItem } from '../../src/model.js';

function entry(id: string, seq = 0): Entry {
  const item = imageItem({ ref: id, data: new Uint8Array(0), correlationId: id });
  return {
    id,
    item,
    input: { affiliate: 'a', correlationId: id, encoding: 0, data: Buffer.alloc(0), format: 0, hashes: [] },
    seq,
    state: 'waiting',
    admitted: true,
    attempt: 1,
    firstSentAt: undefined,
    batch: undefined,
    timer: undefined,
  };
}

/** Marks entries as written together on the stream. */
function write(table: ReturnType<typeof createPendingTable>, ...entries: Entry[]): SentBatch {
  const batch: SentBatch = { entries, answered: false };
  for (const e of entries) {
    e.state = 'sent';
    e.batch = batch;
    e.firstSentAt = 0;
  }
  table.wrote(batch);
  return batch;
}

describe('createPendingTable', () => {
  it('tells pending, duplicate and foreign ids apart', () => {
    const table = createPendingTable(10);
    const a = entry('a');
    const never = entry('never-sent');
    table.add(a);
    table.add(never);
    write(table, a);
    expect(table.lookup('a')).toEqual({ kind: 'pending', entry: a });
    expect(table.lookup('never-sent')).toEqual({ kind: 'foreign' });
    expect(table.lookup('zz')).toEqual({ kind: 'foreign' });
    table.settle(a, true);
    expect(table.lookup('a')).toEqual({ kind: 'duplicate' });
    expect(table.size).toBe(1);
  });

  it('remembers a bounded number of answered ids, oldest forgotten first', () => {
    const table = createPendingTable(2);
    for (const id of ['a', 'b', 'c']) {
      const e = entry(id);
      table.add(e);
      table.settle(e, false);
    }
    expect(table.lookup('a').kind).toBe('foreign');
    expect(table.lookup('b').kind).toBe('duplicate');
    expect(table.lookup('c').kind).toBe('duplicate');
  });

  it('ties a global error to the oldest batch with no output, then to everything in flight', () => {
    const table = createPendingTable(10);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id, i) => entry(id, i)) as [Entry, Entry, Entry, Entry];
    for (const e of [a, b, c, d]) table.add(e);
    write(table, a, b);
    write(table, c);
    write(table, d);
    table.settle(c, true); // the second batch had an output
    expect(table.globalErrorTargets()).toEqual([a, b]);
    expect(table.globalErrorTargets()).toEqual([d]);
    expect(table.globalErrorTargets()).toEqual([a, b, d]);
  });

  it('skips items of a batch that were written again since', () => {
    const table = createPendingTable(10);
    const [a, b] = [entry('a', 0), entry('b', 1)];
    table.add(a);
    table.add(b);
    write(table, a, b);
    write(table, b); // b sent again on its own
    expect(table.globalErrorTargets()).toEqual([a]);
  });

  it('forgets batches written on a stream that broke', () => {
    const table = createPendingTable(10);
    const a = entry('a');
    table.add(a);
    write(table, a);
    table.forgetBatches();
    a.state = 'queued';
    expect(table.globalErrorTargets()).toEqual([]);
  });

  it('keeps a batch only while a global error could still answer it', () => {
    const table = createPendingTable(10);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id, i) => entry(id, i)) as [Entry, Entry, Entry, Entry];
    for (const e of [a, b, c, d]) table.add(e);
    write(table, a, b);
    write(table, c, d);
    expect(table.batches).toBe(2);
    table.settle(a, true); // an output answered the first batch: b stays pending, its batch is let go
    expect(table.batches).toBe(1);
    table.settle(c, false); // a timeout: d may still be answered by a global error
    expect(table.batches).toBe(1);
    expect(table.globalErrorTargets()).toEqual([d]);
    write(table, d);
    table.settle(d, false); // nothing of its batch left in flight
    expect(table.batches).toBe(0);
    expect(table.size).toBe(1);
  });

  it('holds no batch after a long run of answered ones', () => {
    const table = createPendingTable(10);
    for (let i = 0; i < 200; i += 1) {
      const e = entry(`e${i}`, i);
      table.add(e);
      write(table, e);
      expect(table.batches).toBe(1);
      table.settle(e, true);
    }
    expect(table.batches).toBe(0);
  });
});
