#!/usr/bin/env node
/**
 * The `athena-rx` command: classify images, list deployments, classify one image, check the service's
 * health, share runs among workers over a Redis queue (enqueue, worker, results), or run the embedded
 * server. The only module of the package that prints or exits.
 */
import { logVerbosity, setLogVerbosity } from '@grpc/grpc-js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { firstValueFrom, ReplaySubject } from 'rxjs';
import { AthenaError } from '../errors.js';
import { cpuCount } from '../internal/core/validate.js';
import { DEFAULT_BROTLI_QUALITY } from '../operators/compress.js';
import { LIBRARY_VERSION } from '../transport/version.js';
import { classifyCommand } from './classify.js';
import { classifyOne } from './classify-one.js';
import { connect, type Connection } from './connect.js';
import { listDeployments } from './deployments.js';
import { healthCommand } from './health.js';
import { serve, type ServeOptions } from './serve.js';
import { runTestCases } from './testcases.js';
import { resolveSettings, type ConnectionFlags, type ConnectionSettings } from './settings.js';
import { openJournal } from '../sources/openJournal.js';
import { checkOutput, openOutput } from './output.js';
import { explainFatal, formatFatal } from './fatal.js';
import { resolveInputs } from './input-list.js';
import { progressMode } from './progress-view.js';
import { followParent, listenForInterrupts } from './interrupts.js';
import { CLI_BATCH_SIZE, CLI_MAX_PIXELS_IN_FLIGHT, CLI_WINDOW, cliConcurrency } from './defaults.js';

// grpc-js logs to stderr on its own (a failed bind, for one); the fatal error explains it instead.
setLogVerbosity(logVerbosity.NONE);
// Node warns that TLS server names cannot be IP addresses; that is noise for an --address of an IP.
process.noDeprecation = true;

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/** A size in bytes: a whole number, optionally with k, m or g (powers of 1024), as in `64m`. */
function byteSize(min: number, max: number) {
  return (value: string): number => {
    const match = /^(\d+)\s*([kmg]?)(?:i?b)?$/i.exec(value.trim());
    const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match?.[2] ?? '').toLowerCase()] ?? 1;
    const n = match === null ? Number.NaN : Number(match[1]) * unit;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a size in bytes from ${min} to ${max} (k, m, g allowed)`);
    }
    return n;
  };
}

function tolerance(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError('expected a number of at least 0, e.g. 1e-4');
  }
  return n;
}

function connectionOptions(command: Command): Command {
  return command
    .option('--address <host:port>', 'service address (env ATHENA_ADDRESS; default the public service)')
    .option('--insecure', 'plaintext HTTP/2 instead of TLS (loopback addresses only with credentials)')
    .option('--root-certs <file>', 'PEM certificates to trust (a private CA)')
    .option('--client-id <id>', 'OAuth client id (env ATHENA_CLIENT_ID)')
    .option('--client-secret <secret>', 'OAuth client secret (env ATHENA_CLIENT_SECRET; prefer the variable)')
    .option('--token-url <url>', 'OAuth token URL (env ATHENA_TOKEN_URL)')
    .option('--audience <audience>', 'OAuth audience (env ATHENA_AUDIENCE; default crisp-athena-live)')
    .option('--token <token>', 'a static bearer token (env ATHENA_TOKEN; prefer the variable)')
    .option('--local', 'start the embedded server in this process and use it');
}

/** `--redis`, required, or from ATHENA_REDIS_URL (better for a URL with a password). */
function redisOption(): Option {
  return new Option(
    '--redis <url>',
    'Redis URL, redis:// or rediss:// (env ATHENA_REDIS_URL; prefer the variable)',
  )
    .env('ATHENA_REDIS_URL')
    .makeOptionMandatory();
}

/** Collects a repeatable option's values. */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

type Flags = ConnectionFlags & { local?: boolean; rootCerts?: string };

/** Settings, the affiliate (required except with --local) and an open connection, for the classify commands. */
async function connectForClassify(
  flags: Flags,
): Promise<{ settings: ConnectionSettings; affiliate: string; connection: Connection }> {
  const settings = resolveSettings(flags, process.env);
  const affiliate = settings.affiliate ?? (flags.local ? 'athena-rx-local' : undefined);
  if (!affiliate)
    throw new AthenaError('INVALID_INPUT', 'an affiliate is required: --affiliate or ATHENA_AFFILIATE');
  const connection = await connect(settings, { local: flags.local, rootCertsFile: flags.rootCerts });
  if (!flags.local) await probe(connection);
  return { settings, affiliate, connection };
}

/** Errors of the first call that no later call can avoid: the connection and the credentials. */
const UNRECOVERABLE = new Set(['UNAVAILABLE', 'UNAUTHENTICATED', 'OAUTH_ERROR', 'INSECURE_TRANSPORT']);

/**
 * One ListDeployments call before the run, so that a wrong address, TLS against a plaintext server
 * or a refused certificate fails at once with its cause, instead of after the classify stream's
 * reconnects. Other answers (a service without ListDeployments, say) let the run go ahead.
 */
async function probe(connection: Connection): Promise<void> {
  try {
    await firstValueFrom(connection.client.listDeployments());
  } catch (error) {
    if (!UNRECOVERABLE.has(AthenaError.from(error).code)) return;
    await connection.close();
    throw error;
  }
}

function fail(error: unknown): number {
  process.stderr.write(formatFatal(explainFatal(error)));
  return 1;
}

export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('athena-rx')
    .description('Classify images with an Athena-compatible image-classification service.')
    .version(LIBRARY_VERSION)
    .showHelpAfterError();

  connectionOptions(program.command('classify'))
    .description('classify files, directories and URLs; one result per image on stdout')
    .argument('[inputs...]', 'image files, directories or http(s) URLs; - reads a list from stdin')
    .option('--from-file <file>', 'read inputs from a file, one path or URL per line (- for stdin)')
    .option('--deployment <id>', 'deployment id (env ATHENA_DEPLOYMENT_ID; default a fresh one)')
    .option('--affiliate <affiliate>', 'affiliate (env ATHENA_AFFILIATE; required except with --local)')
    .addOption(
      new Option('--concurrency <n>', 'images decoded and resized at once')
        .argParser(integer(1, 64))
        .default(cliConcurrency(), 'twice the CPU cores'),
    )
    .addOption(
      new Option(
        '--max-pixels-in-flight <n>',
        "most decoder memory at once over the images being resized, in pixels' worth (3 bytes)",
      )
        .argParser(integer(1, 10_000_000_000))
        .default(CLI_MAX_PIXELS_IN_FLIGHT, String(CLI_MAX_PIXELS_IN_FLIGHT)),
    )
    .option(
      '--max-bytes <size>',
      'largest file or download read, in bytes or with k, m, g (default: 256m); larger inputs fail',
      byteSize(1, 2 ** 32),
    )
    .option('--window <n>', 'images read and not yet answered', integer(1, 10_000), CLI_WINDOW)
    .option('--max-in-flight <n>', 'images sent and not yet answered', integer(1, 10_000), 256)
    .option('--batch-size <n>', 'images per request', integer(1, 1000), CLI_BATCH_SIZE)
    .option('--quality <n>', 'Brotli quality', integer(0, 11), DEFAULT_BROTLI_QUALITY)
    .addOption(new Option('--resize <mode>', 'preparation mode').choices(['exact', 'fast']).default('exact'))
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'jsonl', 'csv']).default('table'),
    )
    .option('--output <file>', 'write results to a file instead of stdout (never over existing results)')
    .option(
      '--resume',
      'with --format jsonl --output: continue the run the file records, skipping what is done',
    )
    .option('--force', 'overwrite an existing --output file')
    .option('-r, --recursive', 'walk directories recursively')
    .option('--progress', 'show the progress bar even when standard error is not a terminal')
    .option('--no-progress', 'show no progress')
    .option('--fail-on-known-match', 'exit with code 3 when any image matched a known hash')
    .option(
      '--trace-images',
      'with an OpenTelemetry SDK registered (node --import), a span per image from read to outcome',
    )
    .action(async (args: string[], flags: Flags & Record<string, unknown>) => {
      // Ctrl-C from now on is the command's to handle; one pressed before the run starts still counts.
      const interrupt = new ReplaySubject<void>(2);
      const stopListening = listenForInterrupts(() => interrupt.next());
      try {
        const inputs = await resolveInputs(args, flags.fromFile as string | undefined, process.stdin);
        if (inputs.length === 0 && flags.fromFile === undefined) {
          throw new AthenaError('NO_INPUT', 'no inputs given');
        }
        const outputFile = flags.output as string | undefined;
        const format = flags.format as 'table' | 'jsonl' | 'csv';
        const journalPath = format === 'jsonl' ? outputFile : undefined;
        if (flags.resume === true && journalPath === undefined) {
          throw new AthenaError('INVALID_INPUT', '--resume needs --format jsonl and --output <file>');
        }
        if (flags.resume === true && flags.force === true) {
          throw new AthenaError('INVALID_INPUT', '--resume appends to --output; --force would overwrite it');
        }
        if (outputFile !== undefined && flags.resume !== true)
          await checkOutput(outputFile, flags.force === true);
        // A journal is checked (and a torn last line cut off) before anything connects or is read.
        const previous = flags.resume === true && journalPath ? await openJournal(journalPath) : undefined;
        // Opened here so that a file that cannot be written fails at once; the journal appends to it.
        const output = await openOutput(outputFile, previous !== undefined);
        if (journalPath !== undefined) await output.close();
        const { settings, affiliate, connection } = await connectForClassify(flags).catch(
          async (error: unknown) => {
            await output.close();
            throw error;
          },
        );
        try {
          setExitCode(
            await classifyCommand(
              inputs,
              {
                ...(settings.deployment === undefined ? {} : { deployment: settings.deployment }),
                affiliate,
                concurrency: flags.concurrency as number,
                ...(flags.maxPixelsInFlight === undefined
                  ? {}
                  : { maxPixelsInFlight: flags.maxPixelsInFlight as number }),
                ...(flags.maxBytes === undefined ? {} : { maxBytes: flags.maxBytes as number }),
                window: flags.window as number,
                maxInFlight: flags.maxInFlight as number,
                batchSize: flags.batchSize as number,
                quality: flags.quality as number,
                resize: flags.resize as 'exact' | 'fast',
                format,
                ...(journalPath === undefined
                  ? {}
                  : { journal: { path: journalPath, ...(previous ? { previous } : {}) } }),
                recursive: flags.recursive === true,
                drainMs: 10_000,
                progress: progressMode(flags.progress as boolean | undefined, process.stderr.isTTY === true),
                failOnKnownMatch: flags.failOnKnownMatch === true,
                telemetry: { traceImages: flags.traceImages === true },
              },
              connection,
              {
                out: journalPath === undefined ? output.stream : process.stdout,
                err: process.stderr,
                interrupt,
              },
            ),
          );
        } finally {
          await output.close();
          await connection.close();
        }
      } catch (error) {
        setExitCode(fail(error));
      } finally {
        stopListening();
      }
    });

  program
    .command('enqueue')
    .description('share a run among workers: put its inputs in a Redis queue as chunks of references')
    .argument('[inputs...]', 'image files, directories or http(s) URLs on storage every worker sees')
    .addOption(redisOption())
    .requiredOption('--run <id>', 'the run id (letters, digits, _ . -); enqueueing a run again adds nothing')
    .option('--from-file <file>', 'read inputs from a file, one path or URL per line (- for stdin)')
    .option('--chunk-size <n>', 'references per job', integer(1, 10_000), 100)
    .option('--attempts <n>', 'tries of a chunk before it fails for good', integer(1, 100), 3)
    .option('--no-recursive', 'do not walk subdirectories')
    .option('--queue <name>', 'BullMQ queue name', 'athena-rx')
    .action(async (args: string[], flags: Record<string, unknown>) => {
      try {
        const inputs = await resolveInputs(args, flags.fromFile as string | undefined, process.stdin);
        if (inputs.length === 0) throw new AthenaError('NO_INPUT', 'no inputs given');
        const { enqueueCommand } = await import('./queue.js');
        setExitCode(
          await enqueueCommand(
            inputs,
            {
              redis: flags.redis as string,
              run: flags.run as string,
              chunkSize: flags.chunkSize as number,
              attempts: flags.attempts as number,
              recursive: flags.recursive !== false,
              queue: flags.queue as string,
            },
            process.stdout,
          ),
        );
      } catch (error) {
        setExitCode(fail(error));
      }
    });

  connectionOptions(program.command('worker'))
    .description('classify the chunks of shared runs from a Redis queue until SIGTERM (which drains)')
    .addOption(redisOption())
    .option('--chunks <k>', 'chunks held at once', integer(1, 1000), 2)
    .option('--deployment <id>', "the worker's own deployment id (default a fresh one; never share one)")
    .option('--affiliate <affiliate>', 'affiliate (env ATHENA_AFFILIATE; required except with --local)')
    .addOption(
      new Option('--concurrency <n>', 'images decoded and resized at once')
        .argParser(integer(1, 64))
        .default(cpuCount(), 'CPU cores'),
    )
    .option('--max-in-flight <n>', 'images sent and not yet answered', integer(1, 10_000), 256)
    .option('--batch-size <n>', 'images per request', integer(1, 1000), 32)
    .option('--quality <n>', 'Brotli quality', integer(0, 11), DEFAULT_BROTLI_QUALITY)
    .addOption(new Option('--resize <mode>', 'preparation mode').choices(['exact', 'fast']).default('exact'))
    .option('--until-idle', 'stop once the queue has no chunk left')
    .option('--lock-duration <ms>', "a chunk's lease unless renewed", integer(100, 3_600_000), 30_000)
    .option(
      '--stalled-interval <ms>',
      'how often lapsed leases are looked for',
      integer(100, 3_600_000),
      30_000,
    )
    .option('--queue <name>', 'BullMQ queue name', 'athena-rx')
    .action(async (flags: Flags & Record<string, unknown>) => {
      const stop = new ReplaySubject<void>(1);
      const onSignal = (): void => stop.next();
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      try {
        const { workerCommand } = await import('./queue.js');
        const { settings, affiliate, connection } = await connectForClassify(flags);
        try {
          setExitCode(
            await workerCommand(
              {
                redis: flags.redis as string,
                queue: flags.queue as string,
                affiliate,
                ...(settings.deployment === undefined ? {} : { deploymentId: settings.deployment }),
                chunks: flags.chunks as number,
                concurrency: flags.concurrency as number,
                maxInFlight: flags.maxInFlight as number,
                batchSize: flags.batchSize as number,
                quality: flags.quality as number,
                resize: flags.resize as 'exact' | 'fast',
                untilIdle: flags.untilIdle === true,
                lockDurationMs: flags.lockDuration as number,
                stalledIntervalMs: flags.stalledInterval as number,
              },
              connection,
              { err: process.stderr, stop },
            ),
          );
        } finally {
          await connection.close();
        }
      } catch (error) {
        setExitCode(fail(error));
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    });

  program
    .command('results')
    .description("a shared run's results: one per image on stdout, as they land with --follow")
    .addOption(redisOption())
    .requiredOption('--run <id>', 'the run id')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'jsonl', 'csv']).default('table'),
    )
    .option('--follow', 'keep reading until every image of the run has its result')
    .option('--fail-on-known-match', 'exit with code 3 when any image matched a known hash')
    .option('--queue <name>', 'BullMQ queue name', 'athena-rx')
    .action(async (flags: Record<string, unknown>) => {
      try {
        const { resultsCommand } = await import('./queue.js');
        setExitCode(
          await resultsCommand(
            {
              redis: flags.redis as string,
              run: flags.run as string,
              format: flags.format as 'table' | 'jsonl' | 'csv',
              follow: flags.follow === true,
              failOnKnownMatch: flags.failOnKnownMatch === true,
              queue: flags.queue as string,
            },
            { out: process.stdout, err: process.stderr },
          ),
        );
      } catch (error) {
        setExitCode(fail(error));
      }
    });

  connectionOptions(program.command('deployments'))
    .description('list active deployments with their backlog')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'jsonl']).default('table'))
    .action(async (flags: Flags & { format: 'table' | 'jsonl' }) => {
      try {
        const connection = await connect(resolveSettings(flags, process.env), {
          local: flags.local,
          rootCertsFile: flags.rootCerts,
        });
        try {
          setExitCode(await listDeployments(connection.client, flags.format, process.stdout));
        } finally {
          await connection.close();
        }
      } catch (error) {
        setExitCode(fail(error));
      }
    });

  connectionOptions(program.command('health'))
    .description('check that the service answers: connection, token and, with --deep, one classification')
    .option('--deep', 'also classify a small built-in image with ClassifySingle and check the answer')
    .option('--affiliate <affiliate>', 'affiliate of the --deep request (env ATHENA_AFFILIATE)')
    .option('--timeout <ms>', 'bound of the whole check', integer(1, 3_600_000), 10_000)
    .addOption(new Option('--format <format>', 'report format').choices(['table', 'json']).default('table'))
    .action(async (flags: Flags & { deep?: boolean; timeout: number; format: 'table' | 'json' }) => {
      try {
        const settings = resolveSettings(flags, process.env);
        const connection = await connect(settings, { local: flags.local, rootCertsFile: flags.rootCerts });
        try {
          setExitCode(
            await healthCommand(
              connection,
              {
                deep: flags.deep === true,
                affiliate: settings.affiliate,
                timeoutMs: flags.timeout,
                format: flags.format,
              },
              process.stdout,
            ),
          );
        } finally {
          await connection.close();
        }
      } catch (error) {
        setExitCode(fail(error));
      }
    });

  connectionOptions(program.command('classify-one'))
    .description('classify one image with the unary ClassifySingle call')
    .argument('<file>', 'image file')
    .option('--affiliate <affiliate>', 'affiliate (env ATHENA_AFFILIATE; required except with --local)')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'jsonl', 'csv']).default('table'),
    )
    .option('--deadline <ms>', 'deadline of the call', integer(1, 3_600_000), 120_000)
    .action(async (file: string, flags: Flags & { format: 'table' | 'jsonl' | 'csv'; deadline: number }) => {
      try {
        const { affiliate, connection } = await connectForClassify(flags);
        try {
          setExitCode(
            await classifyOne(
              file,
              { affiliate, format: flags.format, deadlineMs: flags.deadline },
              connection,
              process.stdout,
            ),
          );
        } finally {
          await connection.close();
        }
      } catch (error) {
        setExitCode(fail(error));
      }
    });

  connectionOptions(program.command('testcases'))
    .description('run a test-case set (DIR/expected_outputs.json) and compare every label')
    .argument('<dir>', 'folder holding expected_outputs.json and its images')
    .option('--affiliate <affiliate>', 'affiliate (env ATHENA_AFFILIATE; required except with --local)')
    .option('--deployment <id>', 'deployment id of the Classify stream (default: a new one)')
    .option('--single', 'also send every image through the unary ClassifySingle call')
    .option('--tolerance <t>', 'largest accepted difference per label', tolerance, 1e-4)
    .addOption(new Option('--format <format>', 'report format').choices(['table', 'jsonl']).default('table'))
    .option('--deadline <ms>', 'deadline of each ClassifySingle call', integer(1, 3_600_000), 120_000)
    .action(
      async (
        dir: string,
        flags: Flags & {
          deployment?: string;
          single?: boolean;
          tolerance: number;
          format: 'table' | 'jsonl';
          deadline: number;
        },
      ) => {
        try {
          const { affiliate, connection } = await connectForClassify(flags);
          try {
            setExitCode(
              await runTestCases(
                dir,
                {
                  affiliate,
                  tolerance: flags.tolerance,
                  single: flags.single === true,
                  format: flags.format,
                  deadlineMs: flags.deadline,
                  ...(flags.deployment === undefined ? {} : { deploymentId: flags.deployment }),
                },
                connection,
                process.stdout,
              ),
            );
          } finally {
            await connection.close();
          }
        } catch (error) {
          setExitCode(fail(error));
        }
      },
    );

  program
    .command('serve')
    .description(
      'run the embedded Athena-compatible server (plaintext or TLS, optional OAuth issuer) for local development',
    )
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port to bind (0: any free port)', integer(0, 65535), 50051)
    .option('--known-hashes <file>', 'MD5/SHA1 hex digests, one per line, that match as known')
    .option('--token <token...>', 'accepted bearer tokens (default: no authentication)')
    .option('--affiliate <affiliate...>', 'permitted affiliates (default: any)')
    .option('--faults <json>', 'faults active from the start, as JSON, e.g. \'{"latencyMs":50}\'')
    .option('--tls-cert <file>', 'serve TLS with this PEM certificate (chain); needs --tls-key')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option('--tls-self-signed <dir>', 'write a fresh CA (DIR/ca.pem) and a localhost certificate; serve TLS')
    .option('--oauth-client <id:secret>', 'run the OAuth issuer for this client (repeatable)', collect)
    .option('--oauth-port <port>', 'port of the OAuth issuer (default: any free port)', integer(0, 65535))
    .option('--oauth-audience <audience>', 'audience the server accepts (default crisp-athena-live)')
    .option(
      '--token-ttl <seconds>',
      'lifetime of issued access tokens (default 3600)',
      integer(1, 31_536_000),
    )
    .option('--log <file>', 'append one JSON line per request and per output to this file')
    .action(async (flags: ServeOptions) => {
      try {
        setExitCode(await serve(flags, process.stdout));
      } catch (error) {
        setExitCode(fail(error));
      }
    });

  return program;
}

// Started by `bin` with the allocator settings: a parent that is gone ends this run too.
followParent();

// A reader that goes away (`| head`) is no error: output simply ends. `classify` also stops its work.
process.stdout.on('error', (error: Error & { code?: string }) => {
  if (error.code !== 'EPIPE') process.exitCode = fail(error);
});

const program = buildProgram((code) => {
  process.exitCode = code;
});
program.parseAsync(process.argv).then(
  () => {
    // Open handles (sharp's threadpool, timers) must not keep a finished command alive.
    setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
  },
  (error: unknown) => {
    process.exitCode = fail(error);
  },
);
