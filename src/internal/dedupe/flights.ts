import { type ImageItem, type Lease, type Outcome } from '../../model.js';

/** Items sent into an inner pipeline whose outcome has not come back yet, with the repeats waiting on them. */
export interface Flight {
  readonly key: string;
  /** Items with the same key that arrived while this one was in flight. */
  readonly waiters: ImageItem[];
}

interface Record extends Flight {
  readonly token: Lease;
  readonly locator: string | undefined;
}

/**
 * Bookkeeping for `dedupe`: which item of a key is in flight, and which repeats wait for it. An
 * outcome is matched to its item by the lease the item was sent with (a token wrapping the item's
 * own lease, which operators carry along), or else by the item's source index and ref.
 */
export function createFlights() {
  const byKey = new Map<string, Record>();
  const byToken = new Map<Lease, Record>();
  const byLocator = new Map<string, Record>();
  const forget = (record: Record): void => {
    if (byKey.get(record.key) === record) byKey.delete(record.key);
    byToken.delete(record.token);
    if (record.locator !== undefined && byLocator.get(record.locator) === record)
      byLocator.delete(record.locator);
  };
  return {
    /** Adds `item` to the waiters of the flight of `key`; false when there is none. */
    join(key: string, item: ImageItem): boolean {
      const record = byKey.get(key);
      record?.waiters.push(item);
      return record !== undefined;
    },
    /** Records `item` as the flight of `key`; returns the item to send, carrying its token lease. */
    start(key: string, item: ImageItem): ImageItem {
      const own = item.lease;
      const token: Lease = { release: () => own?.release() };
      const record: Record = { key, waiters: [], token, locator: locatorOf(item) };
      byKey.set(key, record);
      byToken.set(token, record);
      if (record.locator !== undefined) byLocator.set(record.locator, record);
      return { ...item, lease: token };
    },
    /** The flight an outcome ends, if any, which is forgotten. */
    settle(outcome: Outcome): Flight | undefined {
      const record =
        (outcome.lease === undefined ? undefined : byToken.get(outcome.lease)) ??
        byLocator.get(locatorOf(outcome) ?? '');
      if (record !== undefined) forget(record);
      return record;
    },
    /** Every waiter of every flight; forgets them all. */
    drain(): ImageItem[] {
      const waiters = [...byToken.values()].flatMap((record) => record.waiters);
      byKey.clear();
      byToken.clear();
      byLocator.clear();
      return waiters;
    },
  };
}

function locatorOf(value: { readonly ref: string; readonly index?: number }): string | undefined {
  return value.index === undefined ? undefined : `${value.index}\u0000${value.ref}`;
}
