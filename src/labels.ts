/** Labels of the Athena service (PROTOCOL.md, "Labels"). Any label may be missing from an output. */

/** The live model's category labels; their weights sum to about 1. */
export const LIVE_LABELS = [
  'UnknownCSAM-classA',
  'UnknownCSAM-classB',
  'UnknownCSAM-classC',
  'UnknownCSAM-adult',
  'UnknownCSAM-indicative',
  'UnknownCSAM-distraction',
] as const;

/** The benign test model's category labels; their weights sum to about 1. */
export const BENIGN_LABELS = [
  'UnknownCSAM-Lakeside',
  'UnknownCSAM-Mountains',
  'UnknownCSAM-Trees',
  'UnknownCSAM-Seashore',
  'UnknownCSAM-Ducks',
  'UnknownCSAM-Goose',
] as const;

/** One of {@link BENIGN_LABELS}. */
export type BenignLabel = (typeof BENIGN_LABELS)[number];

/** One of {@link LIVE_LABELS}. */
export type LiveLabel = (typeof LIVE_LABELS)[number];

/** Uncertainty of the category weights (may exceed 1). Both models give it. */
export const ENTROPY_LABEL = 'UnknownCSAM-Entropy';

/** Overall probability, usually in 0..1. Both models give it. */
export const PCSAM_LABEL = 'UnknownCSAM-PCSAM';

/** Given when an input carries an MD5 hash: 1.0 on a known-hash match, 0.0 otherwise. */
export const KNOWN_MD5_LABEL = 'KnownCSAM-MD5';

/** Given when an input carries a SHA1 hash: 1.0 on a known-hash match, 0.0 otherwise. */
export const KNOWN_SHA1_LABEL = 'KnownCSAM-SHA1';

/** The label with the highest weight among the category labels (Entropy, PCSAM and hash labels left out). */
export function topLabel(labels: Readonly<Record<string, number>>): [string, number] | undefined {
  let best: [string, number] | undefined;
  for (const [label, weight] of Object.entries(labels)) {
    if (/-(Entropy|PCSAM)$/.test(label) || label.startsWith('KnownCSAM-')) continue;
    if (!best || weight > best[1]) best = [label, weight];
  }
  return best;
}

/**
 * The known-hash labels (`KnownCSAM-*`) with a weight of 1: the image's hash is on a list of known
 * material. For this service it is the most important result there is, so every output marks it.
 */
export function knownMatches(labels: Readonly<Record<string, number>>): string[] {
  return Object.entries(labels)
    .filter(([label, weight]) => label.startsWith('KnownCSAM-') && weight >= 1)
    .map(([label]) => label)
    .sort();
}
