import type { DestinationConfig } from '../config/types.js';
import { BackupError, type BackupErrorCode } from '../errors.js';

interface ServiceErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

const authNames = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken']);
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

export function describeDestination(destination: DestinationConfig): string {
  return `destination ${destination.name} (bucket ${destination.bucket} at ${destination.endpoint ?? 'AWS S3'})`;
}

/**
 * Turns an SDK error into a BackupError naming the destination. Only an allow-list of fields is
 * kept (name, message, status, request id): an S3 error body can carry the string to sign and
 * the request, and the client holds the credentials; none of it may reach a log or a job.
 */
export function classifyS3Error(error: unknown, destination: DestinationConfig, action: string): BackupError {
  if (error instanceof BackupError) return error;
  const e = (error ?? {}) as ServiceErrorShape;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? 'Error';
  const causeCode = (error as { cause?: { code?: string } })?.cause?.code;
  const networkCode = [e.code, causeCode].find((code) => code !== undefined && networkCodes.has(code));
  let code: BackupErrorCode;
  let what: string;
  if (status === undefined || networkCode !== undefined || name === 'TimeoutError') {
    code = 'S3_UNREACHABLE';
    what = `the endpoint did not answer (${networkCode ?? e.code ?? name})`;
  } else if (authNames.has(name)) {
    code = 'S3_AUTH_FAILED';
    what = `the credentials were refused (${name}); check the access key id and secret`;
  } else if (name === 'NoSuchBucket' || (status === 404 && action === 'check the bucket')) {
    code = 'S3_BUCKET_MISSING';
    what = `the bucket ${destination.bucket} does not exist`;
  } else if (status === 403) {
    code = 'S3_ACCESS_DENIED';
    // HEAD answers have no body: a 403 there may be a bad key as much as a missing permission.
    what = `access denied (${name}); the credentials lack permission for this bucket and prefix, or are wrong`;
  } else if (status >= 500 || status === 429 || name === 'SlowDown') {
    code = 'S3_UNAVAILABLE';
    what = `the service answered ${status} (${name})`;
  } else {
    code = 'S3_REQUEST_FAILED';
    what = `the service refused the request with ${status} (${name}: ${truncate(e.message ?? '')})`;
  }
  return new BackupError(code, `${describeDestination(destination)}: cannot ${action}: ${what}`, {
    details: {
      destination: destination.name,
      name,
      ...(status === undefined ? {} : { httpStatusCode: status }),
      ...(e.$metadata?.requestId === undefined ? {} : { requestId: e.$metadata.requestId }),
    },
  });
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
