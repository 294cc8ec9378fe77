/** Types of the package import `#node-zlib` (package.json `imports`): `node:zlib` in Node, `stub.ts` elsewhere. */
export * from 'node:zlib';
