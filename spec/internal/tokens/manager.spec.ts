import { NEVER, firstValueFrom, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { createTokenManager } from '../../../src/internal/tokens/manager.js';
import type { TokenGrant } from '../../../src/internal/tokens/state.js';
import { scrubText } from '../../../src/internal/secrets/scrub.js';

const policy = { refreshMarginMs: 60_000, scheduled: true, canRefresh: true, refreshWaitMs: 30_000 };

function grantAt(value: string, at: number): TokenGrant {
  return { token: { accessToken: value, tokenType: 'Bearer', expiresAt: at + 100_000 }, issuedAt: at };
}

describe('token manager shell on virtual time', () => {
  it('fetches once for many waiters, refreshes on the timer and once per refused token', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    scheduler.run(({ cold }) => {
      const fetchedAt: number[] = [];
      const manager = createTokenManager({
        policy,
        scheduler,
        fetch: (): Observable<TokenGrant> => {
          fetchedAt.push(scheduler.now());
          const at = scheduler.now();
          return cold('10ms (g|)', { g: grantAt(`token-${fetchedAt.length}-value`, at) });
        },
      });
      const lease = manager.lease();
      const seen: string[] = [];
      const take = () => lease.ready().subscribe((t) => seen.push(`${scheduler.now()}:${t.accessToken}`));
      take();
      take();
      scheduler.schedule(() => {
        const used = lease.current();
        expect(lease.invalidate(used)).toBe(true);
        expect(lease.invalidate(used)).toBe(true); // the same refusal again: no second fetch
        take(); // waits for the successor
      }, 1_000);
      scheduler.schedule(
        () => lease.invalidate(seen.length ? grantAt('token-1-value', 0).token : undefined),
        2_000,
      );
      scheduler.schedule(() => lease.dispose(), 200_000);
      scheduler.flush();
      // First fetch, the refusal at 1 s (not the late one at 2 s), then refreshes at 90% of each life,
      // none after the last lease let go at 200 s.
      expect(fetchedAt).toEqual([0, 1_000, 91_000, 181_000]);
      expect(seen).toEqual(['10:token-1-value', '10:token-1-value', '1010:token-2-value']);
      expect(scrubText('leaked token-3-value')).toBe('leaked <redacted>');
    });
  });

  it('fails waiting callers CLOSED when their lease is disposed, and later ones at once', async () => {
    const manager = createTokenManager({ policy, fetch: () => NEVER });
    const lease = manager.lease();
    const waiting = firstValueFrom(lease.ready()).catch((e: unknown) => e);
    lease.dispose();
    expect(await waiting).toMatchObject({ code: 'CLOSED' });
    await expect(firstValueFrom(lease.ready())).rejects.toMatchObject({ code: 'CLOSED' });
    expect(lease.invalidate(undefined)).toBe(false);
  });
});
