import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
} from '@aws-sdk/client-s3';
import { targetPrefix } from './remote-layout.js';
import type { RemoteStore } from './remote-store.js';

/** Uploads started longer ago than this are abandoned: no copy of ours runs for a day. */
export const DEFAULT_INCOMPLETE_UPLOAD_AGE_MS = 24 * 3600_000;

export type MultipartSweepResult =
  | { supported: true; aborted: Array<{ key: string; uploadId: string; initiated: string }>; kept: number }
  /** The endpoint does not implement ListMultipartUploads (s3rver, some small stores). */
  | { supported: false; reason: string };

/**
 * Aborts incomplete multipart uploads under a target's prefix that started more than `olderThanMs`
 * ago: what a worker killed mid-upload leaves (file-upload.ts aborts the uploads that fail while it
 * runs; a dead process aborts nothing), invisible in listings but billed. The bucket lifecycle
 * rule AbortIncompleteMultipartUpload is the backstop (docs/runbooks/offsite-copies.md).
 *
 * An endpoint that answers NotImplemented or MethodNotAllowed to ListMultipartUploads gives
 * `supported: false` instead of an error: the caller says so once and carries on, since copies
 * and prunes work without the sweep. Any other error is thrown (classified, naming the destination).
 */
export async function sweepIncompleteUploads(
  store: RemoteStore,
  options: { target: string; now?: Date; olderThanMs?: number; signal?: AbortSignal },
): Promise<MultipartSweepResult> {
  const { destination, client } = store;
  const cutoff =
    (options.now ?? new Date()).getTime() - (options.olderThanMs ?? DEFAULT_INCOMPLETE_UPLOAD_AGE_MS);
  const prefix = targetPrefix(destination, options.target);
  const aborted: Array<{ key: string; uploadId: string; initiated: string }> = [];
  let kept = 0;
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  // No paginator exists for this command: markers by hand, up to 1,000 uploads per page.
  for (;;) {
    options.signal?.throwIfAborted();
    let page: ListMultipartUploadsCommandOutput;
    try {
      page = await client.send(
        new ListMultipartUploadsCommand({
          Bucket: destination.bucket,
          Prefix: prefix,
          ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
          ...(uploadIdMarker === undefined ? {} : { UploadIdMarker: uploadIdMarker }),
        }),
      );
    } catch (error) {
      const unsupported = notImplemented(error);
      if (unsupported) return { supported: false, reason: unsupported };
      throw store.classify(error, 'list incomplete multipart uploads');
    }
    for (const upload of page.Uploads ?? []) {
      if (!upload.Key || !upload.UploadId) continue;
      const initiated = upload.Initiated?.getTime();
      if (initiated === undefined || initiated > cutoff) {
        kept++;
        continue;
      }
      try {
        await client.send(
          new AbortMultipartUploadCommand({
            Bucket: destination.bucket,
            Key: upload.Key,
            UploadId: upload.UploadId,
          }),
        );
      } catch (error) {
        // Completed or aborted by someone else since the listing: nothing left to do.
        if ((error as { name?: string }).name === 'NoSuchUpload') continue;
        throw store.classify(error, `abort the incomplete upload of ${upload.Key}`);
      }
      aborted.push({
        key: upload.Key,
        uploadId: upload.UploadId,
        initiated: new Date(initiated).toISOString(),
      });
    }
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
    if (keyMarker === undefined && uploadIdMarker === undefined) break;
  }
  return { supported: true, aborted, kept };
}

/** The error's name and status when the endpoint does not implement the operation. */
function notImplemented(error: unknown): string | undefined {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'NotImplemented' || e.name === 'MethodNotAllowed' || status === 501 || status === 405)
    return `the endpoint does not implement ListMultipartUploads (${e.name ?? 'Error'}, HTTP ${status ?? '?'})`;
  return undefined;
}
