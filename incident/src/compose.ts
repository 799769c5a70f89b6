import { spawnSync } from 'node:child_process';

export interface ComposeCommand {
  /** The executable and the arguments before a Compose subcommand: `docker compose` or `docker-compose`. */
  file: string;
  prefix: string[];
  /** Compose v2 (the plugin): takes `logs --since`, which v1 does not. */
  v2: boolean;
}

let found: ComposeCommand | undefined;

/**
 * The Compose of this machine: the v2 plugin (`docker compose`) when `docker compose version` answers, otherwise the
 * standalone v1 (`docker-compose`, e.g. Debian's 1.29). Both read the project from the working directory and
 * `COMPOSE_PROJECT_NAME`, so the incident tools act on the stack the README starts. Probed once per process.
 */
export function composeCommand(): ComposeCommand {
  found ??= spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0
    ? { file: 'docker', prefix: ['compose'], v2: true }
    : { file: 'docker-compose', prefix: [], v2: false };
  return found;
}
