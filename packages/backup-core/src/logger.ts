import { type Logger, pino } from 'pino';

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

/** Structured JSON logs; secrets are censored at the logger, whatever a caller passes in. */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'pgbackup',
    level: options.level ?? 'info',
    redact: { paths: redactedPaths, censor: '***' },
  });
}

/** A logger that drops everything (libraries default to it when the caller passes none). */
export const silentLogger: Logger = pino({ level: 'silent' });
