import { hash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/**
 * Gateway keys: `wg-<id>_<secret>`, where the id is 8 characters of [0-9a-z] (public: it names the key
 * in the admin API, the logs and the store, and is how a key is looked up) and the secret is 32
 * random bytes in base64url (256 bits). Only the SHA-256 of the whole key is kept.
 *
 * Why SHA-256 and not bcrypt/scrypt/argon2: those are slow on purpose, to make guessing a
 * low-entropy human password from its stolen hash expensive. A gateway key has 256 random bits:
 * no guess list helps, so one fast hash is as strong, and it lets every request be checked in
 * microseconds instead of the ~50-100 ms a password hash costs (which would itself be a DoS lever).
 */

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
export const ID_LENGTH = 8;
const KEY_RE = /^wg-([0-9a-z]{8})_[A-Za-z0-9_-]{43}$/;
/** A SHA-256 in hex. */
export const SHA256_RE = /^[0-9a-f]{64}$/;

/** A new key id: 8 characters of [0-9a-z] (about 41 bits: the store refuses a duplicate, and the caller draws again). */
export function newId(length = ID_LENGTH): string {
  let id = '';
  for (let i = 0; i < length; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

/** A new key with the given id: its plain text (shown once) and its hash (stored). */
export function newKey(id: string = newId()): { id: string; key: string; hash: string } {
  const key = `wg-${id}_${randomBytes(32).toString('base64url')}`;
  return { id, key, hash: sha256(key) };
}

/** The id of a key in Waygate's format, or undefined for anything else. */
export function keyId(key: string): string | undefined {
  return KEY_RE.exec(key)?.[1];
}

/** SHA-256 in hex: `crypto.hash`, a third of `createHash`'s cost on a key-sized text (no hash object per call). */
export function sha256(text: string): string {
  return hash('sha256', text, 'hex');
}

/** Whether two SHA-256 hex digests are equal, in time that does not depend on where they differ. */
export function sameHash(a: string, b: string): boolean {
  if (a.length !== 64 || b.length !== 64) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

/**
 * A list of glob patterns (`*` any run of characters, `?` one character; everything else literal,
 * case-sensitive) compiled once into one test. `null`/`undefined` means "anything".
 */
export function globs(patterns: readonly string[] | null | undefined): ((value: string) => boolean) | undefined {
  if (!patterns) return undefined;
  const source = patterns
    .map((p) =>
      p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.'),
    )
    .join('|');
  const re = new RegExp(`^(?:${source})$`, 's');
  return (value) => re.test(value);
}
