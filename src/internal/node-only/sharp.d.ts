/** Types of the package import `#sharp` (package.json `imports`): sharp in Node, `stub.ts` elsewhere. */
export { default } from 'sharp';
