/**
 * The intake of the classify core: each input value becomes its outcome at once (a failure or a
 * classified value passing through, an image that cannot be sent) or pending images, taken in as one
 * unit that waits for slots of the window and is written as one request.
 */
import { AthenaError } from '../../errors.js';
import { toFailure, type ImageItem } from '../../model.js';
import { release, type Draft } from './draft.js';
import { checkItem, toClassificationInput } from './request.js';
import type { ClassifyInput } from './state.js';

export function intake(d: Draft, value: ClassifyInput): void {
  if (value.kind === 'failure' || value.kind === 'classified') {
    release(d, { seq: d.nextSeq++, outcome: value, slot: false });
    return;
  }
  const items = value.kind === 'batch' ? value.items : [value];
  const unit: string[] = [];
  for (const item of items) {
    const seq = d.nextSeq++;
    const source = item.lease?.source;
    if (typeof source?.unread === 'function') d.unread = () => source.unread();
    const problem = checkItem(item) ?? duplicate(d, item);
    if (problem !== undefined) {
      release(d, { seq, outcome: toFailure(item, 'validate', problem), slot: false });
      continue;
    }
    const input = toClassificationInput(item, d.config.affiliate);
    const id = input.correlationId;
    d.entries.set(id, {
      id,
      seq,
      item,
      input,
      phase: { tag: 'waiting' },
      attempt: 1,
      firstWriteAt: undefined,
    });
    unit.push(id);
  }
  if (unit.length > 0) d.waiting.push(unit);
}

/** A correlation id already pending in this subscription (in this value or before) cannot be sent twice. */
function duplicate(d: Draft, item: ImageItem): AthenaError | undefined {
  const id = item.correlationId as string;
  if (!d.entries.has(id)) return undefined;
  return new AthenaError(
    'DUPLICATE_ID',
    `${item.ref}: correlation id ${JSON.stringify(id)} is already in flight; ids must be unique`,
  );
}
