import { type Logger, pino } from 'pino';
import { redactSecrets } from './redact.js';

export type { Logger };

/** Keys whose values never reach a log line, at any depth pino's redaction supports. */
export const redactedPaths = [
  'password',
  '*.password',
  '*.*.password',
  'connection.password',
  'PGPASSWORD',
  '*.PGPASSWORD',
  'env.PGPASSWORD',
  'key',
  '*.key',
  'url',
  '*.url',
];

/**
 * Path redaction only knows key names; a URL inside a message or an `err` text (ioredis and pg
 * quote what they were given) is caught by passing every string through redactSecrets.
 */
function redactStrings(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redactStrings(item, depth + 1));
  if (value instanceof Error) {
    return {
      type: value.name,
      message: redactSecrets(value.message),
      stack: redactSecrets(value.stack ?? ''),
    };
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactStrings(v, depth + 1)]));
}

/** Structured JSON logs; secrets are censored at the logger, whatever a caller passes in. */
export function createLogger(
  options: { level?: string; name?: string; destination?: pino.DestinationStream } = {},
): Logger {
  return pino(
    {
      name: options.name ?? 'pgbackup',
      level: options.level ?? 'info',
      redact: { paths: redactedPaths, censor: '***' },
      formatters: { log: (object) => redactStrings(object) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          const redacted = args.map((arg) => (typeof arg === 'string' ? redactSecrets(arg) : arg));
          return method.apply(this, redacted as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? process.stdout,
  );
}

/** A logger that drops everything (libraries default to it when the caller passes none). */
export const silentLogger: Logger = pino({ level: 'silent' });
