/**
 * Where the decoders' WebAssembly comes from: the `wasm` option of the browser `resize` (a compiled
 * module, the bytes, or a URL per decoder), its validation, and its compilation on the page, once
 * per subscription, into modules every worker of the pool instantiates without fetching again.
 */
import { AthenaError } from '../errors.js';
import type { DecoderModules } from './protocol.js';
import { wasmApi } from './web.js';

/** A `WebAssembly.Module`, the `.wasm` bytes, or the URL they are served at. */
export type WasmSource = object | ArrayBuffer | ArrayBufferView | string | URL;

/** The `.wasm` of each decoder (`@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm` and so on). */
export interface DecoderWasm {
  readonly jpeg?: WasmSource;
  readonly png?: WasmSource;
  readonly webp?: WasmSource;
}

const NAMES = ['jpeg', 'png', 'webp'] as const;

/** Validates the `wasm` option; throws TypeError. */
export function wasmOption(value: unknown): DecoderWasm {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null)
    throw new TypeError('wasm must be an object { jpeg, png, webp }');
  for (const name of Object.keys(value)) {
    if (!(NAMES as readonly string[]).includes(name))
      throw new TypeError(`wasm has no decoder named ${name}`);
    const source = (value as Record<string, unknown>)[name];
    if (
      source !== undefined &&
      typeof source !== 'string' &&
      (typeof source !== 'object' || source === null)
    ) {
      throw new TypeError(`wasm.${name} must be a WebAssembly.Module, bytes or a URL`);
    }
  }
  return value as DecoderWasm;
}

/** Compiles (fetching where a URL is given) the decoders of `wasm`; those not given stay out. */
export async function compileDecoders(wasm: DecoderWasm): Promise<DecoderModules> {
  const entries = await Promise.all(
    NAMES.map(async (name) => [name, wasm[name] === undefined ? undefined : await compile(name, wasm[name])]),
  );
  return Object.fromEntries(entries.filter(([, module]) => module !== undefined)) as DecoderModules;
}

async function compile(name: string, source: WasmSource): Promise<object> {
  const api = wasmApi();
  if (!api) throw new AthenaError('UNIMPLEMENTED', 'WebAssembly is not available here');
  if (source instanceof api.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return api.compile(source);
  const response = await fetch(String(source));
  if (!response.ok) {
    throw new AthenaError(
      'HTTP_ERROR',
      `The ${name} decoder's WebAssembly answered HTTP ${response.status}`,
      {
        details: String(response.status),
      },
    );
  }
  return api.compile(await response.arrayBuffer());
}
