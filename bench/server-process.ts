/**
 * The embedded Athena server in a process of its own, for when the built CLI is not available:
 * prints `listening on <address>` and runs until SIGTERM or SIGINT (or its parent goes away).
 */
import { startAthenaServer } from '../src/testing/server.js';

const server = await startAthenaServer({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening on ${server.address}\n`);
const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.once('disconnect', stop);
