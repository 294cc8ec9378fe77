/**
 * The memory run in a process of its own: reads a {@link MemoryJob} as JSON on stdin, prints the
 * {@link MemoryResult} as JSON on stdout, progress on stderr.
 */
import { measureMemory, type MemoryJob } from './memory.js';

let input = '';
for await (const chunk of process.stdin) input += String(chunk);
const job = JSON.parse(input) as MemoryJob;
const result = await measureMemory(job, (done) => process.stderr.write(`   ${done} of ${job.images}\n`));
process.stdout.write(JSON.stringify(result));
