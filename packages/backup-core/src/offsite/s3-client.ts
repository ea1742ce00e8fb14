import { S3Client } from '@aws-sdk/client-s3';
import type { DestinationConfig } from '../config/types.js';

const quiet = (): void => undefined;
const silentSdkLogger = { debug: quiet, info: quiet, warn: quiet, error: quiet };

/**
 * A client for one destination. Without `credentials` the SDK's default chain applies
 * (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profiles, web identity, instance metadata).
 */
export function createS3Client(destination: DestinationConfig): S3Client {
  return new S3Client({
    // Always set: SigV4 signs with it, and without one the SDK asks the instance metadata service.
    region: destination.region,
    ...(destination.endpoint === undefined ? {} : { endpoint: destination.endpoint }),
    forcePathStyle: destination.forcePathStyle,
    ...(destination.credentials === undefined ? {} : { credentials: destination.credentials }),
    requestChecksumCalculation: destination.checksums,
    responseChecksumValidation: destination.checksums,
    // Per request (each part is one): a dead endpoint fails within seconds, not the OS's minutes.
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 300_000 },
    maxAttempts: 3,
    // The SDK's default logger drops everything but prints "An error was encountered in a
    // non-retryable streaming request." to the console for each failed streamed part; those are
    // retried and reported as BackupErrors by file-upload.ts, and a library prints nothing.
    logger: silentSdkLogger,
  });
}
