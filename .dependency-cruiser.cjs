/**
 * Which folder of src/ may import which, checked by `npm run lint` (dependency-cruiser over src/ only,
 * a few seconds). docs/architecture.md draws the same picture.
 *
 * Layers, lowest first; a layer imports only the layers below it:
 *
 *   generated/                   code generated from proto/ and wasm/
 *   errors, model, outputs,      the item and outcome types, the one error family, output mapping
 *   labels (src/*.ts)
 *   imaging/                     pure image code
 *   telemetry/                   OpenTelemetry spans and metrics (through @opentelemetry/api only)
 *   internal/<concern>/          shared machinery, never exported by path; the folders below
 *   transport/, operators/,      the public entry points and what they are built from
 *   sources/, nest/, testing/
 *   cli/                         the command-line program: the only code that prints or exits
 *
 * `transport/contracts.ts` holds plain types and may be imported from internal/ and telemetry/.
 */

/**
 * The folders of src/internal/ and the other internal folders each may import (a folder always
 * imports itself). Everything in internal/ may also import the base layer, generated/, imaging/,
 * telemetry/ and transport/contracts.ts (see the `internal-stays-internal` rule).
 */
const INTERNAL = {
  core: [], // argument validation, abortable work: imported by everything, imports nothing
  secrets: [], // scrubbing secrets from text; errors.ts imports it, so it imports nothing
  'node-only': [], // package imports (#node-fs, #sharp ...) and their browser stub
  retry: ['core'], // the one retry policy and backoff
  work: ['core'], // per-item work with bounded concurrency, the pixel budget of resize
  flow: ['core'], // credit windows of sources, the stall watch
  input: ['core', 'secrets'], // reading inputs: files, directory walks, HTTP GET, buffers, size caps
  journal: ['core', 'node-only'], // the journal's record format, file I/O and sync timing
  dedupe: ['core'], // dedupe's cache and in-flight bookkeeping
  progress: ['core'], // progress counters and snapshots
  health: ['core'], // the health probe image and its judgement
  classify: ['core', 'retry'], // the classify session: state, step, shell, retry of items
  tokens: ['core', 'retry', 'secrets'], // token state, manager, requests to an OAuth issuer
  gateway: ['core'], // the browser gateway's wire protocol (Node-free), per-connection limits, the shared hub
  via: ['core', 'retry', 'gateway'], // classifyVia's session with a gateway: state, step, shell
};

const BASE = '^src/(errors|model|outputs|labels)\\.ts$';

const internalFolderRules = Object.entries(INTERNAL).map(([folder, allowed]) => ({
  name: `internal-${folder}`,
  comment: `src/internal/${folder}/ may import only ${allowed.length ? allowed.join(', ') : 'no other'} internal folder(s)`,
  severity: 'error',
  from: { path: `^src/internal/${folder}/` },
  to: {
    path: '^src/internal/',
    pathNot: [`^src/internal/(${[folder, ...allowed].join('|')})/`],
  },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Modules must not import each other in a circle, directly or through others.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'internal-folders-known',
      comment: 'Every folder of src/internal/ is listed in .dependency-cruiser.cjs with what it may import.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/internal/', pathNot: [`^src/internal/(${Object.keys(INTERNAL).join('|')})/`] },
    },
    ...internalFolderRules,
    {
      name: 'internal-stays-internal',
      comment:
        'src/internal/ builds on the base layer, generated/, imaging/, telemetry/ and transport/contracts.ts; ' +
        'never on the entry points (operators, sources, transport, testing, nest, cli) it serves.',
      severity: 'error',
      from: { path: '^src/internal/' },
      to: {
        path: '^src/',
        pathNot: [
          '^src/internal/',
          BASE,
          '^src/generated/',
          '^src/imaging/',
          '^src/telemetry/',
          '^src/transport/contracts\\.ts$',
        ],
      },
    },
    {
      name: 'base-stays-base',
      comment: 'errors, model, outputs and labels import only each other, generated/ and internal/secrets/.',
      severity: 'error',
      from: { path: BASE },
      to: { path: '^src/', pathNot: [BASE, '^src/generated/', '^src/internal/secrets/'] },
    },
    {
      name: 'imaging-is-pure',
      comment: 'imaging/ imports only itself, generated/, errors.ts and the node-only package imports.',
      severity: 'error',
      from: { path: '^src/imaging/' },
      to: {
        path: '^src/',
        pathNot: ['^src/imaging/', '^src/generated/', '^src/errors\\.ts$', '^src/internal/node-only/'],
      },
    },
    {
      name: 'only-cli-imports-cli',
      comment: 'The command-line program is a leaf: no library code imports it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'library-without-testing',
      comment:
        'The embedded server and test helpers are for tests and the CLI; the library never imports them.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(cli|testing)/' },
      to: { path: '^src/testing/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.d.ts'],
    },
  },
};
