/**
 * Deployment ids: checking them, making new ones, and choosing one for a run.
 */
import { randomUUID } from 'node:crypto';
import { type Observable, defer, map, of } from 'rxjs';
import { type Deployment } from '../generated/athena/models.js';
import { MAX_ID_LENGTH } from '../internal/core/limits.js';
import { describe } from '../internal/core/validate.js';

/** The longest deployment id that is safe with the service (it documents 64 as the hard limit). */
export const MAX_DEPLOYMENT_ID_LENGTH = MAX_ID_LENGTH;

/** The default prefix of {@link newDeploymentId}. */
export const DEFAULT_DEPLOYMENT_PREFIX = 'athena-rx';

const UUID_LENGTH = 36;

/**
 * Checks a deployment id as the service would: a string, non-empty, at most
 * {@link MAX_DEPLOYMENT_ID_LENGTH} (63) characters counted
 * in UTF-16 units (the count `classify` and the embedded server use too). Returns the id; throws
 * `TypeError` for a non-string and `RangeError` otherwise.
 */
export function validateDeploymentId(id: unknown): string {
  if (typeof id !== 'string') throw new TypeError(`deploymentId must be a string, got ${describe(id)}`);
  const length = id.length;
  if (length === 0) throw new RangeError('deploymentId must not be empty');
  if (length > MAX_DEPLOYMENT_ID_LENGTH) {
    throw new RangeError(
      `deploymentId must be at most ${MAX_DEPLOYMENT_ID_LENGTH} characters, got ${length}`,
    );
  }
  return id;
}

/**
 * A fresh deployment id, `<prefix>-<uuid>`, unique and within the length limit. The prefix (default
 * `athena-rx`) may be empty (then the id is the bare uuid) and at most 26 characters.
 */
export function newDeploymentId(prefix: string = DEFAULT_DEPLOYMENT_PREFIX): string {
  if (typeof prefix !== 'string') throw new TypeError(`prefix must be a string, got ${describe(prefix)}`);
  const room = MAX_DEPLOYMENT_ID_LENGTH - UUID_LENGTH - 1;
  if (prefix.length > room) throw new RangeError(`prefix must be at most ${room} characters`);
  return prefix === '' ? randomUUID() : `${prefix}-${randomUUID()}`;
}

/** How {@link selectDeployment} picks a deployment. */
export type DeploymentStrategy =
  /** Exactly this deployment id. */
  | { readonly named: string }
  /** The active deployment with the least pending work; a new id when there is none. */
  | 'least-backlog'
  /** A fresh id (the service creates the deployment on first use, which costs some latency). */
  | 'new';

/** What {@link selectDeployment} needs of a client. */
export interface DeploymentLister {
  listDeployments(): Observable<Deployment[]>;
}

export interface SelectDeploymentOptions {
  /** Prefix of new ids (default `athena-rx`). */
  readonly prefix?: string;
}

/**
 * Chooses the deployment id for a run. Cold: `'least-backlog'` lists the deployments on subscribe
 * (and fails as `listDeployments` fails); the others emit at once. Emits one id, then completes.
 * Arguments are checked when called.
 *
 * @example
 * ```ts
 * import { createAthenaClient, selectDeployment } from 'athena-rx/transport';
 *
 * selectDeployment(client, 'least-backlog').subscribe((id) => console.log(`using ${id}`));
 * ```
 */
export function selectDeployment(
  client: DeploymentLister,
  strategy: DeploymentStrategy,
  options: SelectDeploymentOptions = {},
): Observable<string> {
  const prefix = options.prefix ?? DEFAULT_DEPLOYMENT_PREFIX;
  newDeploymentId(prefix); // checks the prefix now rather than on subscribe
  if (typeof strategy === 'object' && strategy !== null && 'named' in strategy) {
    return of(validateDeploymentId(strategy.named));
  }
  if (strategy === 'new') return defer(() => of(newDeploymentId(prefix)));
  if (strategy === 'least-backlog') {
    if (typeof client?.listDeployments !== 'function') {
      throw new TypeError('client must have listDeployments() for the least-backlog strategy');
    }
    return defer(() => client.listDeployments()).pipe(
      map((deployments) => leastBacklog(deployments) ?? newDeploymentId(prefix)),
    );
  }
  throw new RangeError(`strategy must be { named }, 'least-backlog' or 'new', got ${describe(strategy)}`);
}

/** The valid deployment id with the smallest backlog (the first of equals), if any. */
function leastBacklog(deployments: readonly Deployment[]): string | undefined {
  let best: Deployment | undefined;
  for (const deployment of deployments) {
    const id = deployment.deploymentId;
    if (id.length === 0 || id.length > MAX_DEPLOYMENT_ID_LENGTH) continue;
    if (best === undefined || deployment.backlog < best.backlog) best = deployment;
  }
  return best?.deploymentId;
}
