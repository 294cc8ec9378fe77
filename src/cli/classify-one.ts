import { lastValueFrom, toArray } from 'rxjs';
import { classifyEach } from '../operators/classifyEach.js';
import { compress } from '../operators/compress.js';
import { correlate } from '../operators/correlate.js';
import { hashImage } from '../operators/hashImage.js';
import { resize } from '../operators/resize.js';
import { fromFiles } from '../sources/fromFiles.js';
import type { Connection } from './connect.js';
import type { OutputFormat } from './format.js';
import { createResultWriter } from './results.js';

/** `athena-rx classify-one`: one image through the unary ClassifySingle call. Exit code 0 or 2. */
export async function classifyOne(
  file: string,
  options: { affiliate: string; format: OutputFormat; deadlineMs: number },
  connection: Connection,
  out: NodeJS.WritableStream,
): Promise<number> {
  const outcomes = await lastValueFrom(
    fromFiles([file]).pipe(
      hashImage(),
      resize(),
      compress(),
      correlate(),
      classifyEach(connection.client, { affiliate: options.affiliate, deadlineMs: options.deadlineMs }),
      toArray(),
    ),
  );
  const writer = createResultWriter(options.format, out);
  for (const outcome of outcomes) writer.write(outcome);
  writer.end();
  return outcomes.every((o) => o.ok) ? 0 : 2;
}
