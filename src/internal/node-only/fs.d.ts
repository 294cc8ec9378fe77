/** Types of the package import `#node-fs` (package.json `imports`): `node:fs/promises` in Node, `stub.ts` elsewhere. */
export * from 'node:fs/promises';
