/** Labels the embedded server gives (PROTOCOL.md, "Labels": the benign test model). */

/** The six benign category labels; their weights sum to about 1. */
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

/** Uncertainty of the category weights (natural-log entropy; may exceed 1, at most ln 6). */
export const ENTROPY_LABEL = 'UnknownCSAM-Entropy';

/** Overall probability, in 0..1 (small for the benign model). */
export const PCSAM_LABEL = 'UnknownCSAM-PCSAM';

/** Given when an input carries an MD5 hash: 1.0 on a known-hash match, 0.0 otherwise. */
export const KNOWN_MD5_LABEL = 'KnownCSAM-MD5';

/** Given when an input carries a SHA1 hash: 1.0 on a known-hash match, 0.0 otherwise. */
export const KNOWN_SHA1_LABEL = 'KnownCSAM-SHA1';

/** Side of the square model input in pixels. */
export const MODEL_SIZE = 448;

/** Bytes of one model input: 448 x 448 x 3 (B,G,R), uint8, row-major. */
export const MODEL_INPUT_BYTES = MODEL_SIZE * MODEL_SIZE * 3;
