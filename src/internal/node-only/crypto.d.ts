/** Types of the package import `#node-crypto` (package.json `imports`): `node:crypto` in Node, `stub.ts` elsewhere. */
export * from 'node:crypto';
