import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { fail, ok, type Parsed } from './parsed.js';
import { atAfterHostProblem, hasAtAfterHost } from './url.js';

/** Parsers for the plain settings. Each says only what is wrong; the setting adds what is expected. */

export function wholeNumberIn(min: number, max: number): (text: string) => Parsed<number> {
  return (text) => {
    if (!/^\d+$/.test(text)) return fail('is not a whole number');
    const value = Number(text);
    if (value < min) return fail(`is below ${min}`);
    if (value > max) return fail(`is above ${max}`);
    return ok(value);
  };
}

export function ratioValue(text: string): Parsed<number> {
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text)) return fail('is not a number');
  const value = Number(text);
  return value > 1 ? fail('is above 1') : ok(value);
}

export function oneOf<T extends string>(choices: readonly T[]): (text: string) => Parsed<T> {
  return (text) => {
    const choice = choices.find((candidate) => candidate === text.toLowerCase());
    return choice === undefined ? fail('is not one of the accepted values') : ok(choice);
  };
}

export function pathValue(text: string, base: string): Parsed<string> {
  return ok(path.resolve(base, text));
}

/** Comma-separated in a variable; a file may also give a list. Empty items are skipped. */
export function pathListValue(text: string, base: string): Parsed<string[]> {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return ok(items.map((item) => path.resolve(base, item)));
}

/**
 * Reads a secret from a file (Docker and Kubernetes secrets), dropping the one trailing newline
 * that editors and `echo` add. Errors name the path and the reason, never the content.
 */
export function secretFileValue(text: string, base: string): Parsed<string> {
  const file = path.resolve(base, text);
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    return fail(`cannot be read (${code})`);
  }
  const secret = content.replace(/\r?\n$/, '');
  return secret === '' ? fail('is an empty file') : ok(secret);
}

// `host:6379` parses as a URL with the scheme `host:`; requiring `://` gives the clearer message.
export function httpUrlValue(text: string): Parsed<string> {
  if (!text.includes('://') || !URL.canParse(text)) return fail('is not an absolute URL');
  const { protocol } = new URL(text);
  return protocol === 'http:' || protocol === 'https:'
    ? ok(text)
    : fail(`has the scheme ${protocol.slice(0, -1)}`);
}

export function redisUrlValue(text: string): Parsed<string> {
  if (hasAtAfterHost(text)) return fail(atAfterHostProblem);
  if (!text.includes('://') || !URL.canParse(text)) return fail('is not an absolute URL');
  const { protocol } = new URL(text);
  return protocol === 'redis:' || protocol === 'rediss:'
    ? ok(text)
    : fail(`has the scheme ${protocol.slice(0, -1)}`);
}

/** A name or address to listen on; a URL or `host:port` here is a common mistake worth catching. */
export function hostValue(text: string): Parsed<string> {
  if (text.includes('://')) return fail('is a URL, not a host');
  if (/^[A-Za-z0-9._-]+$/.test(text) || /^[0-9A-Fa-f:.]+$/.test(text)) return ok(text);
  if (/^\[[0-9A-Fa-f:.]+\]$/.test(text)) return ok(text.slice(1, -1));
  return fail('is not a host name or IP address');
}

/** BullMQ joins the prefix into Redis keys; braces are allowed for Redis Cluster hash tags. */
export function queuePrefixValue(text: string): Parsed<string> {
  return /^[A-Za-z0-9_.:{}-]{1,64}$/.test(text)
    ? ok(text)
    : fail('has characters other than A-Z a-z 0-9 _ . : - { }');
}

/** `/`, or `/a/b` without a trailing slash: the dashboard joins routes onto it. */
export function basePathValue(text: string): Parsed<string> {
  if (!text.startsWith('/')) return fail('does not start with /');
  const trimmed = text.replace(/\/+$/, '');
  if (trimmed === '') return ok('/');
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(trimmed))
    return fail('has an empty segment or a character other than A-Z a-z 0-9 . _ ~ -');
  if (trimmed.split('/').some((segment) => segment === '.' || segment === '..'))
    return fail('has a . or .. segment');
  return ok(trimmed);
}

/** HTTP Basic authentication cannot carry a user name with a colon. */
export function userNameValue(text: string): Parsed<string> {
  if (text.includes(':')) return fail('contains a colon');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
  if (/[\u0000-\u001f\u007f]/.test(text)) return fail('contains a control character');
  return ok(text);
}

export function anyText(text: string): Parsed<string> {
  return ok(text);
}

/**
 * Which reverse proxies the dashboard believes about the client's address (X-Forwarded-For): a
 * number of proxy hops in front of it, or the proxies' addresses and CIDR ranges. Express's
 * `trust proxy` takes either form as it is.
 */
export function trustProxyValue(text: string): Parsed<number | string[]> {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const hops = Number(trimmed);
    return hops >= 1 && hops <= 10 ? ok(hops) : fail('is not a hop count from 1 to 10');
  }
  const items = trimmed.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) return fail('has an empty item');
  for (const item of items) {
    const [address = '', prefix, ...rest] = item.split('/');
    const family = isIP(address);
    if (family === 0 || rest.length > 0)
      return fail(`has ${JSON.stringify(item)}, which is not an IP address or CIDR range`);
    if (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)))
      return fail(`has ${JSON.stringify(item)}, whose prefix length is not 0 to ${family === 4 ? 32 : 128}`);
  }
  return ok(items);
}
