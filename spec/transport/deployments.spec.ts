import { NEVER, type Observable, firstValueFrom, lastValueFrom, of, throwError, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { AthenaError } from '../../src/errors.js';
import { type Deployment } from '../../src/generated/athena/models.js';
import {
  MAX_DEPLOYMENT_ID_LENGTH,
  newDeploymentId,
  selectDeployment,
  validateDeploymentId,
} from '../../src/transport/deployments.js';

const lister = (deployments: Observable<Deployment[]>) => ({ listDeployments: () => deployments });
const dep = (deploymentId: string, backlog: number): Deployment => ({ deploymentId, backlog });

describe('validateDeploymentId', () => {
  it('returns ids of 1 to 63 characters as given', () => {
    expect(validateDeploymentId('a')).toBe('a');
    const longest = 'x'.repeat(MAX_DEPLOYMENT_ID_LENGTH);
    expect(validateDeploymentId(longest)).toBe(longest);
  });

  it('counts UTF-16 units, as classify and the embedded server do', () => {
    const id = '\u{1F600}'.repeat(31);
    expect(id.length).toBe(62);
    expect(validateDeploymentId(id)).toBe(id);
    expect(() => validateDeploymentId('\u{1F600}'.repeat(32))).toThrow(/at most 63 characters, got 64/);
  });

  it('refuses empty, too long and non-string ids', () => {
    expect(() => validateDeploymentId('')).toThrow(RangeError);
    expect(() => validateDeploymentId('x'.repeat(64))).toThrow(/at most 63/);
    expect(() => validateDeploymentId(42)).toThrow(TypeError);
    expect(() => validateDeploymentId(undefined)).toThrow(TypeError);
  });
});

describe('newDeploymentId', () => {
  it('makes valid ids with the prefix, all different', () => {
    const ids = Array.from({ length: 200 }, () => newDeploymentId('batch'));
    expect(new Set(ids).size).toBe(200);
    for (const id of ids) {
      expect(id).toMatch(/^batch-[0-9a-f-]{36}$/);
      expect(validateDeploymentId(id)).toBe(id);
    }
  });

  it('uses athena-rx by default, a bare uuid for an empty prefix', () => {
    expect(newDeploymentId()).toMatch(/^athena-rx-[0-9a-f-]{36}$/);
    expect(newDeploymentId('')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps the longest allowed prefix within the limit and refuses a longer one', () => {
    expect(newDeploymentId('p'.repeat(26))).toHaveLength(63);
    expect(() => newDeploymentId('p'.repeat(27))).toThrow(RangeError);
    expect(() => newDeploymentId(7 as unknown as string)).toThrow(TypeError);
  });
});

describe('selectDeployment', () => {
  it('named: emits the id without listing', async () => {
    let listed = 0;
    const client = {
      listDeployments: () => {
        listed += 1;
        return of([dep('other', 0)]);
      },
    };
    expect(await lastValueFrom(selectDeployment(client, { named: 'mine' }).pipe(toArray()))).toEqual([
      'mine',
    ]);
    expect(listed).toBe(0);
  });

  it('named: checks the id when called', () => {
    expect(() => selectDeployment(lister(NEVER), { named: '' })).toThrow(RangeError);
  });

  it('least-backlog: picks the smallest backlog, the first of equals, skipping invalid ids', async () => {
    const deployments = [
      dep('busy', 40),
      dep('', 0),
      dep('y'.repeat(64), 0),
      dep('calm', 3),
      dep('calm-too', 3),
    ];
    expect(await firstValueFrom(selectDeployment(lister(of(deployments)), 'least-backlog'))).toBe('calm');
  });

  it('least-backlog: a new id when there is no deployment', async () => {
    const id = await firstValueFrom(selectDeployment(lister(of([])), 'least-backlog', { prefix: 'run' }));
    expect(id).toMatch(/^run-[0-9a-f-]{36}$/);
  });

  it('least-backlog: fails as listing fails', async () => {
    const failure = new AthenaError('UNAVAILABLE', 'down', { status: 14 });
    await expect(
      firstValueFrom(selectDeployment(lister(throwError(() => failure)), 'least-backlog')),
    ).rejects.toBe(failure);
  });

  it('is cold and cancels the listing on unsubscribe (marbles)', () => {
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(
      ({ cold, expectObservable, expectSubscriptions }) => {
        const list = cold<Deployment[]>('---a|', { a: [dep('a', 2), dep('b', 1)] });
        expectObservable(selectDeployment(lister(list), 'least-backlog')).toBe('---b|', { b: 'b' });
        expectSubscriptions(list.subscriptions).toBe('^---!');
        const never = cold<Deployment[]>('-');
        expectObservable(selectDeployment(lister(never), 'least-backlog'), '^-!').toBe('---');
        expectSubscriptions(never.subscriptions).toBe('^-!');
      },
    );
  });

  it('new: a fresh id on every subscription', async () => {
    const chosen = selectDeployment(lister(NEVER), 'new');
    const first = await firstValueFrom(chosen);
    const second = await firstValueFrom(chosen);
    expect(first).not.toBe(second);
    expect(validateDeploymentId(first)).toBe(first);
  });

  it('refuses unknown strategies and bad prefixes when called', () => {
    expect(() => selectDeployment(lister(NEVER), 'fastest' as 'new')).toThrow(RangeError);
    expect(() => selectDeployment(lister(NEVER), 'new', { prefix: 'p'.repeat(40) })).toThrow(RangeError);
  });
});
