import type { DestinationConfig } from '../config/types.js';
import type { Manifest } from '../manifest.js';
import { dataKey } from '../offsite/remote-layout.js';

type WithCopies = Pick<Manifest, 'target' | 'file' | 'copies'>;

/**
 * The manifest without the copies that are not where their destination, as configured now,
 * keeps the backup (same name, another bucket or key prefix). A destination re-pointed at another
 * bucket or prefix under the same name holds none of the old copies: counting them would let a
 * retention of 0 delete local files whose only copies are somewhere no longer configured, and
 * show copies status and the metrics cannot find. A copy whose destination is not configured
 * here at all is left as it is: this process cannot judge it, and no target here copies to it.
 */
export function currentCopies<M extends WithCopies>(
  manifest: M,
  destinations: readonly DestinationConfig[],
): M {
  if (!manifest.copies?.length) return manifest;
  const copies = manifest.copies.filter((copy) => {
    const destination = destinations.find((candidate) => candidate.name === copy.destination);
    return (
      !destination ||
      (destination.bucket === copy.bucket &&
        dataKey(destination, manifest.target, manifest.file) === copy.key)
    );
  });
  return copies.length === manifest.copies.length ? manifest : { ...manifest, copies };
}

/** currentCopies of each manifest. */
export function withCurrentCopies<M extends WithCopies>(
  manifests: readonly M[],
  destinations: readonly DestinationConfig[],
): M[] {
  return manifests.map((manifest) => currentCopies(manifest, destinations));
}
