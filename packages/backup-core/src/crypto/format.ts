import { BackupError } from '../errors.js';

/** The value stored in a manifest's `encryption.algorithm` for files written by this module. */
export const ENCRYPTION_ALGORITHM = 'aes-256-gcm-chunked-v1' as const;

export const MAGIC = Buffer.from('PGBKENC1', 'ascii');
export const FORMAT_VERSION = 1;
export const ALGORITHM_AES_256_GCM = 1;

/** 1 MiB: big enough that per-chunk overhead (a cipher object, 16 tag bytes) vanishes. */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;
export const MIN_CHUNK_SIZE = 64 * 1024;
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;

export const TAG_LENGTH = 16;
export const DATA_KEY_LENGTH = 32;
export const NONCE_PREFIX_LENGTH = 7;
export const WRAP_IV_LENGTH = 12;
export const KEY_ID_LENGTH = 16;

/** The chunk counter is a u32 in the nonce; past it a nonce would repeat. */
export const MAX_CHUNK_COUNTER = 0xffff_ffff;

const CHUNK_SIZE_OFFSET = MAGIC.length + 2;
const NONCE_PREFIX_OFFSET = CHUNK_SIZE_OFFSET + 4;

/**
 * Magic, version, algorithm, chunk size and nonce prefix. Never changes after encryption, so it is
 * the associated data of every chunk and of the key wrap: modifying it breaks all of them.
 */
export const IMMUTABLE_LENGTH = NONCE_PREFIX_OFFSET + NONCE_PREFIX_LENGTH;

/** Key id, wrap IV, wrapped data key and wrap tag: the only bytes a key rotation rewrites. */
export const REWRAPPABLE_OFFSET = IMMUTABLE_LENGTH;
export const REWRAPPABLE_LENGTH = KEY_ID_LENGTH + WRAP_IV_LENGTH + DATA_KEY_LENGTH + TAG_LENGTH;

export const ENCRYPTION_HEADER_LENGTH: number = IMMUTABLE_LENGTH + REWRAPPABLE_LENGTH;

const WRAP_IV_OFFSET = REWRAPPABLE_OFFSET + KEY_ID_LENGTH;
const WRAPPED_KEY_OFFSET = WRAP_IV_OFFSET + WRAP_IV_LENGTH;
const WRAP_TAG_OFFSET = WRAPPED_KEY_OFFSET + DATA_KEY_LENGTH;

export interface EncryptionHeaderInfo {
  version: number;
  /** Plaintext bytes per chunk; every chunk but the last holds exactly this many. */
  chunkSize: number;
  /** Id of the operator key that wraps the data key (not secret). */
  keyId: string;
  headerLength: number;
}

/** The data key sealed under an operator key. */
export interface WrappedKey {
  keyId: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

export interface EncryptionHeader extends EncryptionHeaderInfo {
  /** The header's first IMMUTABLE_LENGTH bytes, the associated data of chunks and wrap. */
  immutable: Buffer;
  noncePrefix: Buffer;
  wrapped: WrappedKey;
}

export function encodeImmutable(chunkSize: number, noncePrefix: Buffer): Buffer {
  const out = Buffer.alloc(IMMUTABLE_LENGTH);
  MAGIC.copy(out, 0);
  out.writeUInt8(FORMAT_VERSION, MAGIC.length);
  out.writeUInt8(ALGORITHM_AES_256_GCM, MAGIC.length + 1);
  out.writeUInt32BE(chunkSize, CHUNK_SIZE_OFFSET);
  noncePrefix.copy(out, NONCE_PREFIX_OFFSET);
  return out;
}

export function encodeRewrappable(wrapped: WrappedKey): Buffer {
  return Buffer.concat([Buffer.from(wrapped.keyId, 'ascii'), wrapped.iv, wrapped.ciphertext, wrapped.tag]);
}

function badHeader(message: string): BackupError {
  return new BackupError('DECRYPT_BAD_HEADER', `Not a readable encrypted backup: ${message}.`);
}

/** Parses and checks a header; `bytes` may be longer (the start of the body is ignored). */
export function parseHeader(bytes: Buffer): EncryptionHeader {
  if (bytes.length < ENCRYPTION_HEADER_LENGTH) {
    throw badHeader(
      `it has ${bytes.length} bytes, fewer than the ${ENCRYPTION_HEADER_LENGTH}-byte encryption header`,
    );
  }
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw badHeader(`it does not start with ${MAGIC.toString('ascii')}`);
  }
  const version = bytes.readUInt8(MAGIC.length);
  if (version !== FORMAT_VERSION) {
    throw badHeader(`format version ${version} is not supported (only ${FORMAT_VERSION})`);
  }
  const algorithm = bytes.readUInt8(MAGIC.length + 1);
  if (algorithm !== ALGORITHM_AES_256_GCM) {
    throw badHeader(`algorithm ${algorithm} is not supported (only ${ALGORITHM_AES_256_GCM}, AES-256-GCM)`);
  }
  const chunkSize = bytes.readUInt32BE(CHUNK_SIZE_OFFSET);
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw badHeader(`chunk size ${chunkSize} is outside ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE}`);
  }
  const keyId = bytes.subarray(REWRAPPABLE_OFFSET, WRAP_IV_OFFSET).toString('latin1');
  if (!/^[0-9a-f]{16}$/.test(keyId)) {
    throw badHeader('the key id is not 16 hexadecimal characters');
  }
  // Copies, so the header does not pin the (possibly large) buffer it was read from.
  const iv = Buffer.from(bytes.subarray(WRAP_IV_OFFSET, WRAPPED_KEY_OFFSET));
  const ciphertext = Buffer.from(bytes.subarray(WRAPPED_KEY_OFFSET, WRAP_TAG_OFFSET));
  const tag = Buffer.from(bytes.subarray(WRAP_TAG_OFFSET, ENCRYPTION_HEADER_LENGTH));
  return {
    version,
    chunkSize,
    keyId,
    headerLength: ENCRYPTION_HEADER_LENGTH,
    immutable: Buffer.from(bytes.subarray(0, IMMUTABLE_LENGTH)),
    noncePrefix: Buffer.from(bytes.subarray(NONCE_PREFIX_OFFSET, IMMUTABLE_LENGTH)),
    wrapped: { keyId, iv, ciphertext, tag },
  };
}

/** Parses the header from the first bytes of a file (throws DECRYPT_BAD_HEADER). */
export function readEncryptionHeader(firstBytes: Buffer): EncryptionHeaderInfo {
  const { version, chunkSize, keyId, headerLength } = parseHeader(firstBytes);
  return { version, chunkSize, keyId, headerLength };
}

/** noncePrefix(7) || counter u32 BE || last flag: each (counter, last) pair is used once per data key. */
export function chunkNonce(noncePrefix: Buffer, counter: number, last: boolean): Buffer {
  const nonce = Buffer.allocUnsafe(NONCE_PREFIX_LENGTH + 5);
  noncePrefix.copy(nonce, 0);
  nonce.writeUInt32BE(counter, NONCE_PREFIX_LENGTH);
  nonce.writeUInt8(last ? 1 : 0, NONCE_PREFIX_LENGTH + 4);
  return nonce;
}
