// Offsite copies, a subpath of its own (`@pgbackup/backup-core/offsite`): the AWS SDK takes longer
// to load than the rest of the package together, and most processes (backupctl listing local
// backups, the dashboard's pages) never talk to a bucket.
export { type FetchedBackup, fetchBackup } from './fetch-backup.js';
export {
  DEFAULT_INCOMPLETE_UPLOAD_AGE_MS,
  type MultipartSweepResult,
  sweepIncompleteUploads,
} from './multipart-sweep.js';
export { pickPartSize } from './part-size.js';
export {
  bucketGlobalsSource,
  chooseDrillBackup,
  type DrillChoice,
  remoteDrillSource,
} from './remote-drill.js';
export {
  type CopyResult,
  type RemoteEntry,
  type RemoteListing,
  RemoteStore,
  type UploadProgress,
} from './remote-store.js';
export {
  type RemoteVerifyOptions,
  type RemoteVerifyResult,
  verifyRemoteBackup,
} from './remote-verify.js';
export { createS3Client } from './s3-client.js';
export { classifyS3Error, describeDestination } from './s3-errors.js';
export {
  DEFAULT_LISTING_TIMEOUT_MS,
  type DestinationListing,
  listBackupsEverywhere,
  type PlacedBackup,
  type UnionListing,
} from './union-catalog.js';
