import { AthenaError } from '../errors.js';
import { toFailure, type ImageItem, type ItemFailure } from '../model.js';
import type { Entry, PendingTable } from './classify-pending.js';
import { checkItem, toClassificationInput } from './classify-request.js';

/** The items of one input value after their checks. */
export interface Intake {
  /** Entries now pending, to be written together as one request. */
  readonly unit: Entry[];
  /** Items that cannot be sent, as failures at stage `validate`, with their input positions. */
  readonly rejected: [number, ItemFailure][];
}

/**
 * Checks the items of one input value (a batch, or a lone item as a batch of one) and enters those
 * that may be sent into the pending table; item `i` takes input position `firstSeq + i`. A correlation
 * id already pending (in this value or before) is a `DUPLICATE_ID` failure.
 */
export function intake(
  items: readonly ImageItem[],
  firstSeq: number,
  pending: PendingTable,
  affiliate: string,
): Intake {
  const unit: Entry[] = [];
  const rejected: [number, ItemFailure][] = [];
  items.forEach((item, i) => {
    const seq = firstSeq + i;
    const problem = checkItem(item) ?? duplicate(item, pending);
    if (problem !== undefined) {
      rejected.push([seq, toFailure(item, 'validate', problem)]);
      return;
    }
    const input = toClassificationInput(item, affiliate);
    const entry: Entry = {
      id: input.correlationId,
      item,
      input,
      seq,
      state: 'waiting',
      admitted: false,
      attempt: 1,
      firstSentAt: undefined,
      batch: undefined,
      timer: undefined,
    };
    pending.add(entry);
    unit.push(entry);
  });
  return { unit, rejected };
}

function duplicate(item: ImageItem, pending: PendingTable): AthenaError | undefined {
  const id = item.correlationId as string;
  if (!pending.has(id)) return undefined;
  return new AthenaError(
    'DUPLICATE_ID',
    `${item.ref}: correlation id ${JSON.stringify(id)} is already in flight; ids must be unique`,
  );
}
