import {
  ClassificationOutput,
  ErrorCode,
  HashType,
  ImageFormat,
  type ClassificationInput,
} from '../generated/athena/models.js';
import { classifyBgr, type LabelWeight } from './classifier.js';
import { decodeInput } from './decode.js';
import { KNOWN_MD5_LABEL, KNOWN_SHA1_LABEL } from './labels.js';
import { checkAffiliate, checkCorrelationId, imageProblem, type InputProblem } from './validation.js';

/** What answering one input needs to know. */
export interface AnswerContext {
  /** Permitted affiliates; `undefined` permits every non-empty one. */
  readonly affiliates: ReadonlySet<string> | undefined;
  /** Known hashes, lowercase hex. */
  readonly knownHashes: ReadonlySet<string>;
  /** Leave the UnknownCSAM labels out (and skip decoding) when a hash matches. */
  readonly omitUnknownOnKnownMatch: boolean;
}

/** Per-input decisions made before answering (drawn in input order, so seeded runs repeat). */
export interface AnswerPlan {
  /** Set when the request's deployment id is invalid: every input fails with it. */
  readonly deploymentProblem?: InputProblem;
  /** An injected error, given to the input if it passes validation. */
  readonly injected?: InputProblem;
}

/**
 * Answers one input: validation in the order deployment id (when `deploymentProblem` is given),
 * correlation id, affiliate, then image data; then the injected error of `plan`, if any; else the
 * benign labels plus the KnownCSAM labels for the hash types sent. Never throws: an unexpected
 * failure becomes a `MODEL_ERROR` output.
 *
 * An input without data is a hash-only lookup: it gets only the KnownCSAM labels, or an
 * `UNSPECIFIED` error when it carries no hashes either.
 */
export async function answerInput(
  input: ClassificationInput,
  ctx: AnswerContext,
  plan: AnswerPlan = {},
): Promise<ClassificationOutput> {
  const problem =
    plan.deploymentProblem ??
    checkCorrelationId(input.correlationId) ??
    checkAffiliate(input.affiliate, ctx.affiliates);
  if (problem !== undefined) return failed(input, problem);
  try {
    const known = knownLabels(input, ctx.knownHashes);
    const matched = known.some((k) => k.weight === 1);
    if (input.data.length === 0) {
      if (known.length > 0) return answered(input, known);
      return failed(input, imageProblem(ErrorCode.ERROR_CODE_UNSPECIFIED, 'no image data and no hashes'));
    }
    if (matched && ctx.omitUnknownOnKnownMatch) return answered(input, known);
    if (input.format === ImageFormat.IMAGE_FORMAT_UNSPECIFIED) {
      return failed(
        input,
        imageProblem(ErrorCode.ERROR_CODE_UNSPECIFIED, 'format is required when data is present'),
      );
    }
    const decoded = await decodeInput(input);
    if (!decoded.ok) return failed(input, decoded.problem);
    if (plan.injected !== undefined) return failed(input, plan.injected);
    return answered(input, [...classifyBgr(decoded.bgr), ...known]);
  } catch {
    return failed(input, { code: ErrorCode.ERROR_CODE_MODEL_ERROR, message: 'Model error' });
  }
}

/** One `KnownCSAM-*` label per hash type sent (MD5 first): 1.0 on a match, 0.0 otherwise. */
function knownLabels(input: ClassificationInput, knownHashes: ReadonlySet<string>): LabelWeight[] {
  const out: LabelWeight[] = [];
  for (const [type, label] of [
    [HashType.HASH_TYPE_MD5, KNOWN_MD5_LABEL],
    [HashType.HASH_TYPE_SHA1, KNOWN_SHA1_LABEL],
  ] as const) {
    const values = input.hashes.filter((h) => h.type === type);
    if (values.length === 0) continue;
    const match = values.some((h) => knownHashes.has(h.value.toLowerCase()));
    out.push({ label, weight: match ? 1 : 0 });
  }
  return out;
}

function answered(input: ClassificationInput, labels: readonly LabelWeight[]): ClassificationOutput {
  return ClassificationOutput.fromPartial({
    correlationId: input.correlationId,
    classifications: labels.map((l) => ({ label: l.label, weight: l.weight })),
  });
}

function failed(input: ClassificationInput, problem: InputProblem): ClassificationOutput {
  return ClassificationOutput.fromPartial({
    correlationId: input.correlationId,
    error: { code: problem.code, message: problem.message, details: problem.details ?? '' },
  });
}
