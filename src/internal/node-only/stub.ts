/**
 * What the package's `#` imports of Node-only modules (`node:crypto`, `node:zlib`, sharp) resolve to
 * outside Node, through the `default` condition of package.json `imports`: a browser bundle then
 * builds with nothing marked external, and loading one of them fails with this error instead.
 */
import { AthenaError } from '../../errors.js';

throw new AthenaError(
  'UNIMPLEMENTED',
  'this needs Node.js (node:crypto, node:zlib, node:fs or sharp); outside Node give hashImage a `hash`, compress a `brotli`, resize a `prepare` and journal an `open` and `facts` function',
);
