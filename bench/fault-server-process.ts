/**
 * The embedded server for the fault runs: listens on the loopback port given as its argument, prints
 * `listening on <address>`, and takes one JSON command a line on stdin, answering each with `ok` or
 * `error <message>` on stdout: `{"faults": {...}}` merges faults (`setFaults`), `{"clear": true}`
 * switches them off, `{"abort": true}` ends every open Classify call. Stops when stdin ends.
 */
import { createInterface } from 'node:readline';
import { startAthenaServer } from '../src/testing/server.js';
import { type AthenaFaults } from '../src/testing/faults.js';

interface Command {
  readonly faults?: AthenaFaults;
  readonly clear?: boolean;
  readonly abort?: boolean;
}

const port = Number(process.argv[2] ?? '0');
const server = await startAthenaServer({ host: '127.0.0.1', port });
process.stdout.write(`listening on ${server.address}\n`);

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === '') return;
  try {
    const command = JSON.parse(line) as Command;
    if (command.faults !== undefined) server.setFaults(command.faults);
    if (command.clear === true) server.clearFaults();
    if (command.abort === true) server.abortStreams();
    process.stdout.write('ok\n');
  } catch (error) {
    process.stdout.write(`error ${error instanceof Error ? error.message : String(error)}\n`);
  }
});
lines.once('close', () => void server.close().then(() => process.exit(0)));
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
