/**
 * One fault scenario's client in a process of its own (so its peak RSS is its own): reads a
 * {@link FaultJob} as the first JSON line on stdin; when the source reaches `holdAt` it prints `hold`
 * on stderr and waits for a `go` line on stdin; prints the {@link FaultRun} as JSON on stdout.
 */
import { createInterface } from 'node:readline';
import { runFaultClient, type FaultJob } from './faults-client.js';

const lines = createInterface({ input: process.stdin });
let job: FaultJob | undefined;
let go: (() => void) | undefined;
const started = new Promise<FaultJob>((resolve) => {
  lines.on('line', (line) => {
    if (job === undefined) resolve((job = JSON.parse(line) as FaultJob));
    else if (line.trim() === 'go') go?.();
  });
});
const hold = (): Promise<void> =>
  new Promise<void>((resolve) => {
    go = resolve;
    process.stderr.write('hold\n');
  });
const result = await runFaultClient(await started, hold);
lines.close();
process.stdout.write(JSON.stringify(result), () => process.exit(0));
