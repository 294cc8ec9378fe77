import { readFile, stat } from 'node:fs/promises';
import { AthenaError } from '../errors.js';

/** Reads a whole stream as UTF-8 text. */
async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream) text += String(chunk);
  return text;
}

/** The entries of an input list: one path or URL per line; blank lines and `#` comments skipped. */
export function parseInputList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * The command's inputs: its arguments, with `-` replaced by the list read from standard input,
 * followed by the list in `fromFile` (`-` for standard input as well; standard input is read once). Throws
 * `READ_FAILED` when the list file cannot be read.
 */
export async function resolveInputs(
  args: readonly string[],
  fromFile: string | undefined,
  stdin: NodeJS.ReadableStream,
): Promise<string[]> {
  let stdinRead = false;
  // Standard input is read at most once, however often `-` is given.
  const fromStdin = async (): Promise<string[]> => {
    if (stdinRead) return [];
    stdinRead = true;
    return parseInputList(await readAll(stdin));
  };
  const inputs: string[] = [];
  for (const arg of args) {
    if (arg === '-') inputs.push(...(await fromStdin()));
    else inputs.push(arg);
  }
  if (fromFile !== undefined) {
    if (fromFile === '-') inputs.push(...(await fromStdin()));
    else {
      const text = await readFile(fromFile, 'utf8').catch((error: unknown) => {
        throw new AthenaError('READ_FAILED', `cannot read the input list ${fromFile}`, { cause: error });
      });
      inputs.push(...parseInputList(text));
    }
  }
  return inputs;
}

/** Splits command-line inputs into URLs, directories and files (missing paths stay files: they fail per item). */
export async function sortInputs(
  inputs: readonly string[],
): Promise<{ urls: string[]; dirs: string[]; files: string[] }> {
  const urls: string[] = [];
  const dirs: string[] = [];
  const files: string[] = [];
  for (const input of inputs) {
    if (/^https?:\/\//i.test(input)) urls.push(input);
    else if (
      await stat(input).then(
        (s) => s.isDirectory(),
        () => false,
      )
    )
      dirs.push(input);
    else files.push(input);
  }
  return { urls, dirs, files };
}
