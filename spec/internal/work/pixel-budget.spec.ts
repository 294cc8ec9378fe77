import { defer, of, Subject, throwError, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { MAX_OVERTAKES, pixelBudget } from '../../../src/internal/work/pixel-budget.js';

/** Work that records when it starts and finishes when its subject does. */
function tracked(started: string[], name: string, done: Subject<string>): () => Observable<string> {
  return () =>
    defer(() => {
      started.push(name);
      return done;
    });
}

describe('pixelBudget', () => {
  it('starts work while its weight fits, in arrival order, and gives weight back on completion', () => {
    const gate = pixelBudget(100);
    const started: string[] = [];
    const done = { a: new Subject<string>(), b: new Subject<string>(), c: new Subject<string>() };
    const seen: string[] = [];
    gate(60, tracked(started, 'a', done.a)).subscribe((v) => seen.push(v));
    gate(30, tracked(started, 'b', done.b)).subscribe((v) => seen.push(v));
    gate(20, tracked(started, 'c', done.c)).subscribe((v) => seen.push(v));
    expect(started).toEqual(['a', 'b']);
    done.a.next('a!');
    done.a.complete();
    expect(started).toEqual(['a', 'b', 'c']);
    expect(seen).toEqual(['a!']);
  });

  it('lets lighter work that fits go ahead of work waiting for room', () => {
    const gate = pixelBudget(100);
    const started: string[] = [];
    const done = { a: new Subject<string>(), b: new Subject<string>(), c: new Subject<string>() };
    gate(60, tracked(started, 'a', done.a)).subscribe();
    gate(50, tracked(started, 'b', done.b)).subscribe();
    gate(10, tracked(started, 'c', done.c)).subscribe();
    // b waits for a; c fits beside a (70) and starts at once.
    expect(started).toEqual(['a', 'c']);
    done.c.complete();
    expect(started).toEqual(['a', 'c']);
    done.a.complete();
    expect(started).toEqual(['a', 'c', 'b']);
  });

  it('lets work waiting for room be overtaken MAX_OVERTAKES times at most, so it is never starved', () => {
    const gate = pixelBudget(100);
    const started: string[] = [];
    const first = new Subject<string>();
    gate(60, tracked(started, 'first', first)).subscribe();
    gate(50, tracked(started, 'heavy', new Subject<string>())).subscribe();
    // A stream of light work, each finishing at once: every one fits beside `first`.
    const light = MAX_OVERTAKES + 5;
    for (let i = 0; i < light; i++)
      gate(10, () => defer(() => (started.push(`light${i}`), of('x')))).subscribe();
    const overtook = started.filter((name) => name.startsWith('light'));
    expect(overtook).toHaveLength(MAX_OVERTAKES);
    expect(started).not.toContain('heavy');
    // Once `first` ends, the heavy work starts before the light work still waiting.
    first.complete();
    expect(started[MAX_OVERTAKES + 1]).toBe('heavy');
    expect(started.filter((name) => name.startsWith('light'))).toHaveLength(light);
  });

  it('runs work heavier than the whole budget alone, and at once when nothing else runs', () => {
    const gate = pixelBudget(100);
    const started: string[] = [];
    const done = { big: new Subject<string>(), small: new Subject<string>() };
    gate(500, tracked(started, 'big', done.big)).subscribe();
    gate(1, tracked(started, 'small', done.small)).subscribe();
    expect(started).toEqual(['big']);
    done.big.complete();
    expect(started).toEqual(['big', 'small']);
  });

  it('gives weight back when work fails or is unsubscribed, and forgets work unsubscribed while waiting', () => {
    const gate = pixelBudget(100);
    const started: string[] = [];
    const done = { b: new Subject<string>(), c: new Subject<string>(), d: new Subject<string>() };
    const errors: unknown[] = [];
    const failing = gate(100, () => defer(() => (started.push('a'), new Subject<string>())));
    const a = failing.subscribe();
    const b = gate(100, tracked(started, 'b', done.b)).subscribe({ error: (e: unknown) => errors.push(e) });
    const c = gate(100, tracked(started, 'c', done.c)).subscribe();
    gate(100, tracked(started, 'd', done.d)).subscribe();
    c.unsubscribe(); // waiting: leaves the queue, never starts
    a.unsubscribe(); // running: its weight is free again
    expect(started).toEqual(['a', 'b']);
    done.b.error(new Error('broken'));
    expect(errors).toHaveLength(1);
    expect(started).toEqual(['a', 'b', 'd']);
    expect(b.closed).toBe(true);
  });

  it('passes an error thrown by the work on and frees its weight', () => {
    const gate = pixelBudget(10);
    const started: string[] = [];
    const errors: unknown[] = [];
    gate(10, () => throwError(() => new Error('no'))).subscribe({ error: (e: unknown) => errors.push(e) });
    gate(10, tracked(started, 'next', new Subject<string>())).subscribe();
    expect(errors).toHaveLength(1);
    expect(started).toEqual(['next']);
  });
});
