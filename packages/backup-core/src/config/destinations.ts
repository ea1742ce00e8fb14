import { defaultRetentionPolicy } from '../prune/policy.js';
import { isMapping, unknownKey, valueAt } from './file-shape.js';
import { describeType, fail, ok, type Parsed } from './parsed.js';
import { type ProblemList, quote } from './problems.js';
import { type RetentionPolicy, retentionExpected, retentionFromFile, retentionValue } from './retention.js';
import { targetNameExpected, targetNameValue } from './target-name.js';
import type { DestinationConfig } from './types.js';
import { httpUrlValue, secretFileValue, wholeNumberIn } from './values.js';
import type { Variables } from './variables.js';

/**
 * Offsite destinations (S3-compatible buckets): `destinations:` in the config file, and one more
 * named `s3` from the BACKUP_S3_* variables. One table of fields, read the same way from a
 * variable (text) and from a file entry (text, or a YAML boolean/number/mapping).
 */

/** The name of the destination the BACKUP_S3_* variables describe. */
export const envDestinationName = 's3';

export const checksumModes = ['WHEN_REQUIRED', 'WHEN_SUPPORTED'] as const;
export const sseModes = ['AES256', 'aws:kms'] as const;
/** S3's limit; some providers allow fewer (the runbook lists them). */
export const defaultMaxParts = 10_000;

interface Field<T> {
  env: string;
  expected: string;
  parse: (text: string, base: string) => Parsed<T>;
  /** For file values that are not text (booleans, numbers, mappings). */
  fromFile?: (raw: unknown, base: string) => Parsed<T>;
}

function field<T>(definition: Field<T>): Field<T> {
  return definition;
}

function booleanValue(text: string): Parsed<boolean> {
  const lower = text.toLowerCase();
  if (['true', '1', 'yes'].includes(lower)) return ok(true);
  if (['false', '0', 'no'].includes(lower)) return ok(false);
  return fail('is not true or false');
}

/** S3's bucket naming rules (the strictest common subset: AWS, R2, B2, MinIO accept these). */
function bucketValue(text: string): Parsed<string> {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(text))
    return fail('is not 3 to 63 of a-z 0-9 . - starting and ending with a letter or digit');
  return ok(text);
}

/** Stored without leading or trailing slashes; keys are `<prefix>/<target>/<file>`. */
function prefixValue(text: string): Parsed<string> {
  const trimmed = text.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return ok('');
  const segments = trimmed.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..'))
    return fail('has an empty, . or .. segment');
  if (!/^[A-Za-z0-9!_.*'()/-]+$/.test(trimmed))
    return fail("has a character other than A-Z a-z 0-9 / ! _ . * ' ( ) -");
  return ok(trimmed);
}

function textValue(pattern: RegExp, problem: string): (text: string) => Parsed<string> {
  return (text) => (pattern.test(text) ? ok(text) : fail(problem));
}

function upperChoice<T extends string>(choices: readonly T[]): (text: string) => Parsed<T> {
  return (text) => {
    const found = choices.find((choice) => choice.toLowerCase() === text.toLowerCase());
    return found === undefined ? fail('is not one of the accepted values') : ok(found);
  };
}

export const destinationFields = {
  bucket: field({
    env: 'BACKUP_S3_BUCKET',
    expected: 'a bucket name, for example pg-backups',
    parse: bucketValue,
  }),
  endpoint: field({
    env: 'BACKUP_S3_ENDPOINT',
    expected: 'an http(s) URL of an S3-compatible service, for example http://minio:9000 (unset for AWS)',
    parse: httpUrlValue,
  }),
  region: field({
    env: 'BACKUP_S3_REGION',
    expected: 'a region name, for example us-east-1 (auto for R2)',
    parse: textValue(/^[A-Za-z0-9-]{1,64}$/, 'is not a region name'),
  }),
  prefix: field({
    env: 'BACKUP_S3_PREFIX',
    expected: 'a key prefix, for example pgbackup/prod',
    parse: prefixValue,
  }),
  forcePathStyle: field({
    env: 'BACKUP_S3_FORCE_PATH_STYLE',
    expected: 'true or false',
    parse: booleanValue,
    fromFile: (raw) => (typeof raw === 'boolean' ? ok(raw) : fail(`is ${describeType(raw)}`)),
  }),
  storageClass: field({
    env: 'BACKUP_S3_STORAGE_CLASS',
    expected: 'an S3 storage class, for example STANDARD_IA',
    parse: textValue(/^[A-Z_]{1,40}$/, 'is not an upper-case storage class name'),
  }),
  serverSideEncryption: field({
    env: 'BACKUP_S3_SSE',
    expected: `one of ${sseModes.join(', ')}`,
    parse: upperChoice(sseModes),
  }),
  kmsKeyId: field({
    env: 'BACKUP_S3_SSE_KMS_KEY_ID',
    expected: 'a KMS key id or ARN',
    parse: textValue(/^[A-Za-z0-9:/_-]{1,2048}$/, 'is not a KMS key id or ARN'),
  }),
  checksums: field({
    env: 'BACKUP_S3_CHECKSUMS',
    expected: `one of ${checksumModes.join(', ')} (default WHEN_REQUIRED with an endpoint, else WHEN_SUPPORTED)`,
    parse: upperChoice(checksumModes),
  }),
  maxParts: field({
    env: 'BACKUP_S3_MAX_PARTS',
    expected: 'a whole number from 1 to 10000, for example 10000 (1000 for providers with that limit)',
    parse: wholeNumberIn(1, defaultMaxParts),
    fromFile: (raw) =>
      typeof raw === 'number'
        ? wholeNumberIn(1, defaultMaxParts)(String(raw))
        : fail(`is ${describeType(raw)}`),
  }),
  retention: field<RetentionPolicy>({
    env: 'BACKUP_S3_RETENTION',
    expected: retentionExpected,
    parse: retentionValue,
    fromFile: retentionFromFile,
  }),
  accessKeyId: field({
    env: 'BACKUP_S3_ACCESS_KEY_ID',
    expected: 'an access key id, with BACKUP_S3_SECRET_ACCESS_KEY_FILE',
    parse: textValue(/^[A-Za-z0-9+/=_-]{1,128}$/, 'is not an access key id'),
  }),
  secretAccessKeyFile: field({
    env: 'BACKUP_S3_SECRET_ACCESS_KEY_FILE',
    expected: 'a readable file holding the secret access key, for example /run/secrets/s3_secret_key',
    parse: secretFileValue,
  }),
};

type Fields = typeof destinationFields;
type FieldKey = keyof Fields;
type FieldValues = { [K in FieldKey]?: Fields[K] extends Field<infer T> ? T : never };
const fieldKeys = Object.keys(destinationFields) as FieldKey[];
const entryKeys = ['name', ...fieldKeys];

/** The BACKUP_S3_* variables, when BACKUP_S3_BUCKET (or any other of them) is set. */
export function readEnvDestination(
  vars: Variables,
  cwd: string,
  globalRetention: RetentionPolicy,
  problems: ProblemList,
): DestinationConfig | undefined {
  const values: FieldValues = {};
  let any = false;
  const before = problems.count;
  for (const key of fieldKeys) {
    const definition: Field<unknown> = destinationFields[key];
    const variable = vars.get(definition.env);
    if (!variable) continue;
    any = true;
    const parsed = definition.parse(variable.text, cwd);
    if (parsed.ok) (values as Record<string, unknown>)[key] = parsed.value;
    else
      problems.addIssues(parsed.issues, {
        where: variable.name,
        value: quote(variable.text),
        source: variable.source,
        expected: definition.expected,
      });
  }
  if (!any) return undefined;
  if (problems.count > before) return undefined;
  return complete(envDestinationName, values, globalRetention, problems, {
    where: (key) => destinationFields[key].env,
    source: 'env',
  });
}

/** `destinations:` of the config file. */
export function readFileDestinations(
  raw: unknown,
  label: string,
  base: string,
  globalRetention: RetentionPolicy,
  problems: ProblemList,
): DestinationConfig[] {
  if (!Array.isArray(raw)) {
    problems.add({
      where: `${label}: destinations`,
      problem: `is ${describeType(raw)}; expected a list of {name, bucket, ...} entries`,
      source: 'file',
    });
    return [];
  }
  const destinations: DestinationConfig[] = [];
  raw.forEach((entry: unknown, index) => {
    const at = (key?: string) => `${label}: destinations[${index}]${key ? `.${key}` : ''}`;
    if (!isMapping(entry)) {
      problems.add({
        where: at(),
        problem: 'is not a mapping; expected {name: offsite, bucket: ...}',
        source: 'file',
      });
      return;
    }
    const before = problems.count;
    for (const key of Object.keys(entry)) {
      if (!entryKeys.includes(key)) problems.add(unknownKey(label, ['destinations', index, key], entryKeys));
    }
    const name =
      typeof entry.name === 'string'
        ? targetNameValue(entry.name.trim())
        : fail<string>(`is ${entry.name === undefined ? 'missing' : describeType(entry.name)}`);
    if (!name.ok)
      problems.addIssues(name.issues, {
        where: at('name'),
        ...(entry.name === undefined ? {} : { value: quote(entry.name) }),
        source: 'file',
        expected: targetNameExpected,
      });
    const values: FieldValues = {};
    for (const key of fieldKeys) {
      const rawValue = entry[key];
      if (rawValue === undefined) continue;
      const definition: Field<unknown> = destinationFields[key];
      const parsed =
        typeof rawValue === 'string' && rawValue.trim() !== ''
          ? definition.parse(rawValue.trim(), base)
          : definition.fromFile && typeof rawValue !== 'string'
            ? definition.fromFile(rawValue, base)
            : fail(typeof rawValue === 'string' ? 'is empty' : `is ${describeType(rawValue)}`);
      if (parsed.ok) (values as Record<string, unknown>)[key] = parsed.value;
      else
        problems.addIssues(
          parsed.issues,
          { where: at(key), value: quote(rawValue), source: 'file', expected: definition.expected },
          (inner) => quote(valueAt(rawValue, inner)),
        );
    }
    if (problems.count > before || !name.ok) return;
    if (destinations.some((other) => other.name === name.value)) {
      problems.add({
        where: at('name'),
        value: quote(name.value),
        problem: 'is the name of an earlier destination; expected unique names',
        source: 'file',
      });
      return;
    }
    const destination = complete(name.value, values, globalRetention, problems, {
      where: (key) => at(key),
      source: 'file',
    });
    if (destination) destinations.push(destination);
  });
  return destinations;
}

/** Fills in defaults and checks the fields that go together. */
function complete(
  name: string,
  values: FieldValues,
  globalRetention: RetentionPolicy,
  problems: ProblemList,
  place: { where: (key: FieldKey) => string; source: 'env' | 'file' },
): DestinationConfig | undefined {
  const before = problems.count;
  const problem = (key: FieldKey, text: string) =>
    problems.add({ where: place.where(key), problem: text, source: place.source });
  if (values.bucket === undefined)
    problem('bucket', `is missing; expected ${destinationFields.bucket.expected}`);
  if ((values.accessKeyId === undefined) !== (values.secretAccessKeyFile === undefined)) {
    problem(
      values.accessKeyId === undefined ? 'secretAccessKeyFile' : 'accessKeyId',
      `is set without ${values.accessKeyId === undefined ? 'the access key id' : 'the secret access key file'}; expected both, or neither (the SDK's default credential chain)`,
    );
  }
  if (values.kmsKeyId !== undefined && values.serverSideEncryption !== 'aws:kms')
    problem('kmsKeyId', 'is set without server-side encryption aws:kms; expected both');
  if (values.retention?.untilCopied)
    problem(
      'retention',
      'is 0 (keep only until copied), which is for the local backup directory; expected daily=N,weekly=N,monthly=N for a destination',
    );
  if (problems.count > before || values.bucket === undefined) return undefined;
  const custom = values.endpoint !== undefined;
  return {
    name,
    bucket: values.bucket,
    ...(values.endpoint === undefined ? {} : { endpoint: values.endpoint }),
    region: values.region ?? 'us-east-1',
    prefix: values.prefix ?? '',
    // Custom endpoints (MinIO, s3rver, most self-hosted stores) have no wildcard DNS for
    // `<bucket>.<host>`; AWS prefers virtual-hosted style.
    forcePathStyle: values.forcePathStyle ?? custom,
    ...(values.storageClass === undefined ? {} : { storageClass: values.storageClass }),
    ...(values.serverSideEncryption === undefined
      ? {}
      : { serverSideEncryption: values.serverSideEncryption }),
    ...(values.kmsKeyId === undefined ? {} : { kmsKeyId: values.kmsKeyId }),
    // Many S3-compatible stores reject the SDK's default CRC32 headers (B2, older R2, OVH):
    // checksums only where an operation requires one, unless the operator asks for more.
    checksums: values.checksums ?? (custom ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED'),
    maxParts: values.maxParts ?? defaultMaxParts,
    // A local retention of 0 says nothing about the bucket, which then keeps the default policy.
    retention: {
      ...(values.retention ?? (globalRetention.untilCopied ? defaultRetentionPolicy : globalRetention)),
    },
    ...(values.accessKeyId !== undefined && values.secretAccessKeyFile !== undefined
      ? { credentials: { accessKeyId: values.accessKeyId, secretAccessKey: values.secretAccessKeyFile } }
      : {}),
  };
}

/** A target's own `destinations:` list: names of configured destinations. */
export function targetDestinationsValue(raw: unknown): Parsed<string[]> {
  if (!Array.isArray(raw)) return fail(`is ${describeType(raw)}`);
  const names: string[] = [];
  for (const [index, item] of raw.entries()) {
    if (typeof item !== 'string' || !targetNameValue(item).ok)
      return fail(`has ${quote(item)}, which is not a destination name`, { path: [index] });
    names.push(item);
  }
  return ok(names);
}

export const targetDestinationsExpected = 'a list of destination names, for example [offsite] ([] for none)';
