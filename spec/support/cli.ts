/** Running the built `athena-rx` command in tests: plain pipes, a pseudo-terminal, and the screen it leaves. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const root = new URL('../..', import.meta.url).pathname;
export const bin = join(root, 'dist/cli/bin.js');
export const samples = join(root, 'samples');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with pipes for stdin, stdout and stderr; `input` is written to its stdin. */
export function runCli(args: string[], env: Record<string, string> = {}, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input ?? '');
  });
}

/** Starts `athena-rx serve` in its own process and resolves with its address once it listens. */
export function startServe(args: string[]): Promise<{ child: ChildProcess; address: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /listening on (\S+)/.exec(text);
      if (match?.[1]) resolve({ child, address: match[1] });
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${text}`)));
  });
}

function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs the CLI in a pseudo-terminal of `columns` x 50 (util-linux `script`): stdout and stderr are
 * the same terminal, as in an interactive shell. With `pipeTo`, stdout goes through that shell
 * command (`head -1`, say) and the CLI's exit code is printed on the terminal as `exit <code>`.
 * Resolves with the exit code and everything the terminal received.
 */
export function runInTerminal(
  args: string[],
  options: { columns?: number; pipeTo?: string } = {},
): Promise<{ code: number | null; raw: string }> {
  const cli = [process.execPath, bin, ...args].map(quote).join(' ');
  const command =
    `stty cols ${options.columns ?? 200} rows 50; ` +
    (options.pipeTo === undefined ? cli : `{ ${cli}; echo "exit $?" >&2; } | ${options.pipeTo}`);
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', TERM: 'xterm' },
    });
    let raw = '';
    child.stdout.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, raw });
    });
  });
}

/**
 * What a terminal shows after `raw`: carriage returns go back to the line's start, `ESC[2K` clears
 * the line, newlines open a new line; other escape sequences are dropped. Lines are not wrapped.
 */
export function renderScreen(raw: string): string[] {
  const lines: string[] = [''];
  let col = 0;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] ?? '';
    if (ch === '\x1b') {
      // eslint-disable-next-line no-control-regex -- terminal escape sequences are what is checked
      const escape = /^\x1b\[[0-9;?]*[A-Za-z]/.exec(raw.slice(i, i + 16));
      if (escape) {
        if (escape[0] === '\x1b[2K') lines[lines.length - 1] = '';
        i += escape[0].length - 1;
        continue;
      }
    }
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      lines.push('');
      col = 0;
    } else {
      const line = lines[lines.length - 1] ?? '';
      lines[lines.length - 1] = line.slice(0, col).padEnd(col) + ch + line.slice(col + 1);
      col++;
    }
  }
  return lines.map((line) => line.trimEnd()).filter((line, i, all) => line !== '' || i < all.length - 1);
}
