import { describe, expect, it } from 'vitest';
import { AthenaError } from '../src/errors.js';
import {
  Classification,
  ClassificationError,
  ClassificationOutput,
  ClassifyResponse,
  ErrorCode,
} from '../src/generated/athena/models.js';
import { imageItem, toFailure, type Classified, type ItemFailure, type Outcome } from '../src/model.js';
import {
  errorCodeName,
  failureCodeName,
  fromClassificationError,
  hasOutputErrors,
  outputErrorSummary,
  outputToOutcome,
  processClassificationOutputs,
} from '../src/outputs.js';

const success = (correlationId: string, weights: Record<string, number>) =>
  ClassificationOutput.create({
    correlationId,
    classifications: Object.entries(weights).map(([label, weight]) =>
      Classification.create({ label, weight }),
    ),
  });
const failure = (correlationId: string, code: number, message = '', details = '') =>
  ClassificationOutput.create({
    correlationId,
    error: ClassificationError.create({ code, message, details }),
  });
/** Through the wire and back, as the client receives it. */
const roundTrip = (response: ClassifyResponse) =>
  ClassifyResponse.decode(ClassifyResponse.encode(response).finish());

describe('errorCodeName', () => {
  it('names every documented code without its prefix', () => {
    expect([0, 2, 3, 4, 5, 6].map((code) => errorCodeName(code))).toEqual([
      'UNSPECIFIED',
      'IMAGE_TOO_LARGE',
      'MODEL_ERROR',
      'AFFILIATE_NOT_PERMITTED',
      'DEPLOYMENT_ID_INVALID',
      'CORRELATION_ID_INVALID',
    ]);
  });

  it('keeps numbers it does not know', () => {
    expect(errorCodeName(1)).toBe('UNKNOWN_1');
    expect(errorCodeName(42)).toBe('UNKNOWN_42');
    expect(errorCodeName(ErrorCode.UNRECOGNIZED)).toBe('UNKNOWN_-1');
  });
});

describe('fromClassificationError', () => {
  it('keeps the code name, number, message and details', () => {
    const error = fromClassificationError(
      ClassificationError.create({
        code: ErrorCode.ERROR_CODE_MODEL_ERROR,
        message: 'model failed',
        details: 'gpu 3',
      }),
    );
    expect(error).toBeInstanceOf(AthenaError);
    expect([error.code, error.serviceCode, error.message, error.details]).toEqual([
      'MODEL_ERROR',
      3,
      'model failed',
      'gpu 3',
    ]);
  });

  it('gives an unknown number the code UNKNOWN and a message naming it', () => {
    const error = fromClassificationError(ClassificationError.create({ code: 42 as ErrorCode }));
    expect([error.code, error.serviceCode, error.message, error.details]).toEqual([
      'UNKNOWN',
      42,
      'The service reported UNKNOWN_42',
      undefined,
    ]);
  });
});

describe('outputToOutcome', () => {
  it('keeps every label in order, a 0.0 weight as 0 and a missing label missing', () => {
    const sent = ClassifyResponse.create({
      outputs: [success('c1', { 'KnownCSAM-MD5': 0, 'UnknownCSAM-Trees': 0.75, 'UnknownCSAM-Entropy': 1.5 })],
    });
    const [output] = roundTrip(sent).outputs;
    const outcome = outputToOutcome(output!) as Classified;
    expect(outcome.ok).toBe(true);
    expect(outcome.classifications).toEqual([
      { label: 'KnownCSAM-MD5', weight: 0 },
      { label: 'UnknownCSAM-Trees', weight: 0.75 },
      { label: 'UnknownCSAM-Entropy', weight: 1.5 },
    ]);
    expect(outcome.labels).toEqual({
      'KnownCSAM-MD5': 0,
      'UnknownCSAM-Trees': 0.75,
      'UnknownCSAM-Entropy': 1.5,
    });
    expect('UnknownCSAM-Goose' in outcome.labels).toBe(false);
  });

  it('reads a label sent without a weight as 0', () => {
    const output = { correlationId: 'c', classifications: [{ label: 'KnownCSAM-SHA1' }], error: undefined };
    const outcome = outputToOutcome(output as unknown as ClassificationOutput) as Classified;
    expect(outcome.labels).toEqual({ 'KnownCSAM-SHA1': 0 });
  });

  it('keeps the first weight of a repeated label by name, and both in the list', () => {
    const outcome = outputToOutcome(
      ClassificationOutput.create({
        correlationId: 'c',
        classifications: [
          Classification.create({ label: 'L', weight: 0.25 }),
          Classification.create({ label: 'L', weight: 0.5 }),
        ],
      }),
    ) as Classified;
    expect(outcome.labels).toEqual({ L: 0.25 });
    expect(outcome.classifications).toHaveLength(2);
  });

  it('carries the input item ref, index, meta and lease, but not its bytes', () => {
    const lease = { release: () => undefined };
    const item = imageItem({
      ref: '/inbox/a.png',
      data: new Uint8Array(5),
      correlationId: 'c1',
      index: 7,
      meta: { batch: 'x' },
      lease,
    });
    const outcome = outputToOutcome(success('c1', { A: 0.5 }), item);
    expect(outcome).toEqual({
      kind: 'classified',
      ok: true,
      ref: '/inbox/a.png',
      correlationId: 'c1',
      index: 7,
      meta: { batch: 'x' },
      lease,
      classifications: [{ label: 'A', weight: 0.5 }],
      labels: { A: 0.5 },
    });
  });

  it('uses the correlation id as ref without an item', () => {
    expect(outputToOutcome(success('c9', {})).ref).toBe('c9');
  });

  it('turns an output error into a failure at stage classify, ignoring its classifications', () => {
    const output = failure('c2', ErrorCode.ERROR_CODE_IMAGE_TOO_LARGE, 'too large', '9000000 bytes');
    output.classifications.push(Classification.create({ label: 'A', weight: 1 }));
    const outcome = outputToOutcome(output, { ref: 'b.jpg', correlationId: 'c2' }) as ItemFailure;
    expect(outcome).toMatchObject({
      kind: 'failure',
      ok: false,
      ref: 'b.jpg',
      correlationId: 'c2',
      stage: 'classify',
    });
    expect(outcome.error).toBeInstanceOf(AthenaError);
    expect(outcome.error).toMatchObject({
      code: 'IMAGE_TOO_LARGE',
      message: 'too large',
      details: '9000000 bytes',
      serviceCode: 2,
    });
  });

  it('keeps an unknown error number that came over the wire', () => {
    const [output] = roundTrip(ClassifyResponse.create({ outputs: [failure('c3', 42, 'new')] })).outputs;
    const outcome = outputToOutcome(output!) as ItemFailure;
    expect([outcome.error.code, outcome.error.serviceCode, failureCodeName(outcome)]).toEqual([
      'UNKNOWN',
      42,
      'UNKNOWN_42',
    ]);
  });
});

describe('hasOutputErrors and outputErrorSummary', () => {
  const clean = ClassifyResponse.create({ outputs: [success('a', { A: 1 }), success('b', { A: 0 })] });
  const mixed = ClassifyResponse.create({
    outputs: [
      success('a', { A: 1 }),
      failure('b', ErrorCode.ERROR_CODE_MODEL_ERROR, 'model'),
      failure('c', ErrorCode.ERROR_CODE_MODEL_ERROR, 'model'),
      failure('d', 42),
      failure('e', ErrorCode.ERROR_CODE_UNSPECIFIED),
    ],
  });

  it('tells a clean response from one with errors', () => {
    expect(hasOutputErrors(clean)).toBe(false);
    expect(hasOutputErrors(mixed)).toBe(true);
    expect(hasOutputErrors(roundTrip(mixed))).toBe(true);
    // an error with an empty message is still an error
    expect(hasOutputErrors(ClassifyResponse.create({ outputs: [failure('x', 0)] }))).toBe(true);
  });

  it('counts a global error', () => {
    const global = ClassifyResponse.create({
      globalError: ClassificationError.create({
        code: ErrorCode.ERROR_CODE_DEPLOYMENT_ID_INVALID,
        message: 'bad',
      }),
    });
    expect(hasOutputErrors(global)).toBe(true);
    expect(outputErrorSummary(global)).toEqual({ DEPLOYMENT_ID_INVALID: 1 });
  });

  it('counts failed outputs by code name, unknown numbers kept', () => {
    expect(outputErrorSummary(clean)).toEqual({});
    expect(outputErrorSummary(roundTrip(mixed))).toEqual({ MODEL_ERROR: 2, UNKNOWN_42: 1, UNSPECIFIED: 1 });
  });

  it('counts failures among outcomes, from any iterable', () => {
    const outcomes: Outcome[] = [
      ...roundTrip(mixed).outputs.map((output) => outputToOutcome(output)),
      toFailure({ ref: 'x' }, 'decode', new AthenaError('DECODE_FAILED', 'bad')),
    ];
    function* each(): Generator<Outcome> {
      yield* outcomes;
    }
    const expected = { MODEL_ERROR: 2, UNKNOWN_42: 1, UNSPECIFIED: 1, DECODE_FAILED: 1 };
    expect(outputErrorSummary(outcomes)).toEqual(expected);
    expect(outputErrorSummary(each())).toEqual(expected);
  });
});

describe('processClassificationOutputs', () => {
  const response = ClassifyResponse.create({
    outputs: [
      success('a', { A: 0.5 }),
      failure('b', ErrorCode.ERROR_CODE_MODEL_ERROR, 'model failed for client secret s3cr3t', 'stack 0x1'),
      success('c', { A: 0 }),
      failure('d', ErrorCode.ERROR_CODE_AFFILIATE_NOT_PERMITTED, "Affiliate ID 'x' is not permitted"),
    ],
  });

  it('returns every output as an outcome, split both ways', () => {
    const items = new Map([['a', { ref: 'a.png', correlationId: 'a', index: 0 }]]);
    const result = processClassificationOutputs(response, { items });
    expect(result.outcomes.map((o) => [o.ref, o.ok])).toEqual([
      ['a.png', true],
      ['b', false],
      ['c', true],
      ['d', false],
    ]);
    expect(result.classified.map((o) => o.correlationId)).toEqual(['a', 'c']);
    expect(result.failed.map((o) => o.error.code)).toEqual(['MODEL_ERROR', 'AFFILIATE_NOT_PERMITTED']);
    expect(result.globalError).toBeUndefined();
  });

  it('throws one error counting failures by code, naming no service message', () => {
    let thrown: unknown;
    try {
      processClassificationOutputs(response, { raiseOnError: true });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AthenaError);
    const error = thrown as AthenaError;
    expect(error.code).toBe('MODEL_ERROR');
    expect(error.serviceCode).toBe(3);
    expect(error.message).toBe('2 of 4 outputs failed (MODEL_ERROR: 1, AFFILIATE_NOT_PERMITTED: 1)');
    expect(error.message).not.toContain('s3cr3t');
    expect(error.details).not.toContain('s3cr3t');
    expect(error.cause).toBeInstanceOf(AggregateError);
    expect((error.cause as AggregateError).errors.map((e: AthenaError) => e.code)).toEqual([
      'MODEL_ERROR',
      'AFFILIATE_NOT_PERMITTED',
    ]);
  });

  it('returns normally with raiseOnError when nothing failed', () => {
    const clean = ClassifyResponse.create({ outputs: [success('a', { A: 1 })] });
    expect(processClassificationOutputs(clean, { raiseOnError: true }).classified).toHaveLength(1);
  });

  it('reports a global error, or throws it with raiseOnError', () => {
    const global = ClassifyResponse.create({
      globalError: ClassificationError.create({ code: 9 as ErrorCode, message: 'batch refused' }),
    });
    const result = processClassificationOutputs(global);
    expect(result.outcomes).toEqual([]);
    expect(result.globalError).toMatchObject({ code: 'UNKNOWN', serviceCode: 9, message: 'batch refused' });
    expect(() => processClassificationOutputs(global, { raiseOnError: true })).toThrow('batch refused');
  });
});
