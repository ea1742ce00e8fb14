import { createCipheriv, createDecipheriv } from 'node:crypto';
import { chunkNonce, TAG_LENGTH } from './format.js';

/** What every chunk of one file shares. */
export interface ChunkContext {
  dataKey: Buffer;
  noncePrefix: Buffer;
  /** The header's immutable part, the associated data of every chunk. */
  aad: Buffer;
}

/** Encrypts one chunk given as views; returns ciphertext pieces followed by the tag. */
export function sealChunk(
  context: ChunkContext,
  counter: number,
  last: boolean,
  plaintext: Buffer[],
): Buffer[] {
  const cipher = createCipheriv(
    'aes-256-gcm',
    context.dataKey,
    chunkNonce(context.noncePrefix, counter, last),
    {
      authTagLength: TAG_LENGTH,
    },
  );
  cipher.setAAD(context.aad);
  const out: Buffer[] = [];
  for (const piece of plaintext) {
    out.push(cipher.update(piece));
  }
  cipher.final();
  out.push(cipher.getAuthTag());
  return out;
}

/**
 * Decrypts one chunk and checks its tag. Returns the plaintext pieces, or undefined when the chunk does
 * not authenticate as (counter, last): nothing of an unauthenticated chunk ever leaves this function.
 */
export function openChunk(
  context: ChunkContext,
  counter: number,
  last: boolean,
  body: Buffer[],
  tag: Buffer,
): Buffer[] | undefined {
  const decipher = createDecipheriv(
    'aes-256-gcm',
    context.dataKey,
    chunkNonce(context.noncePrefix, counter, last),
    {
      authTagLength: TAG_LENGTH,
    },
  );
  decipher.setAAD(context.aad);
  decipher.setAuthTag(tag);
  const out: Buffer[] = [];
  for (const piece of body) {
    out.push(decipher.update(piece));
  }
  try {
    decipher.final();
  } catch {
    return undefined;
  }
  return out;
}
