import { describe, expect, it } from 'vitest';
import { parseFaults } from '../../src/cli/serve.js';

describe('serve --faults', () => {
  it('parses a JSON object and refuses anything else', () => {
    expect(parseFaults('{"stall":true,"latencyMs":[1,2]}')).toEqual({ stall: true, latencyMs: [1, 2] });
    expect(() => parseFaults('stall')).toThrow(TypeError);
    expect(() => parseFaults('[1]')).toThrow(TypeError);
    expect(() => parseFaults('null')).toThrow(TypeError);
  });
});
