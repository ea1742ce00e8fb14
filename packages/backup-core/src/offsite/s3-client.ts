import { S3Client } from '@aws-sdk/client-s3';
import type { DestinationConfig } from '../config/types.js';

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
  });
}
