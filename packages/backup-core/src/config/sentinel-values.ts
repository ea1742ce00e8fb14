import { isIP } from 'node:net';
import { describeType, fail, failMany, type Issue, ok, type Parsed } from './parsed.js';

/** One Redis Sentinel to ask for the current primary. */
export interface SentinelNode {
  host: string;
  port: number;
}

export const sentinelListExpected =
  'comma-separated host:port pairs, for example sentinel-1:26379,sentinel-2:26379,sentinel-3:26379';

/**
 * `host:port`, `[v6]:port`. The port is required rather than defaulted to 26379: a Sentinel
 * list is where a data node's port (6379) is most easily pasted by mistake, and a written port
 * makes that visible.
 */
function sentinelNode(item: string): Parsed<SentinelNode> {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+)):(\d{1,5})$/.exec(item);
  if (!match) return fail(`has ${JSON.stringify(item)}, which is not host:port`);
  const host = match[1] ?? match[2]!;
  const port = Number(match[3]);
  if (match[1] !== undefined && isIP(host) !== 6)
    return fail(`has ${JSON.stringify(item)}, whose [address] is not IPv6`);
  if (port < 1 || port > 65_535) return fail(`has ${JSON.stringify(item)}, whose port is not 1 to 65535`);
  return ok({ host, port });
}

function nodeList(items: string[]): Parsed<SentinelNode[]> {
  const issues: Issue[] = [];
  const nodes: SentinelNode[] = [];
  for (const item of items) {
    const node = sentinelNode(item);
    if (node.ok) nodes.push(node.value);
    else issues.push(...node.issues);
  }
  if (issues.length > 0) return failMany(issues);
  const keys = nodes.map((node) => `${node.host}:${node.port}`);
  const repeated = keys.find((key, index) => keys.indexOf(key) !== index);
  if (repeated !== undefined) return fail(`lists ${repeated} twice`);
  return ok(nodes);
}

export function sentinelListValue(text: string): Parsed<SentinelNode[]> {
  const items = text.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) return fail('has an empty item');
  return nodeList(items);
}

/** The config file may give a list of `host:port` strings, or the same text as the variable. */
export function sentinelListFromFile(raw: unknown): Parsed<SentinelNode[]> {
  if (typeof raw === 'string') return sentinelListValue(raw);
  if (!Array.isArray(raw)) return fail(`is ${describeType(raw)}`);
  if (raw.some((item) => typeof item !== 'string')) return fail('has an item that is not host:port text');
  if (raw.length === 0) return fail('is an empty list');
  return nodeList(raw.map((item: string) => item.trim()));
}

/**
 * The master group name of `sentinel monitor <name> ...`. Sentinel accepts more, but a name
 * with spaces or quotes cannot be written in sentinel.conf without quoting, so it is refused here.
 */
export function sentinelNameValue(text: string): Parsed<string> {
  return /^[A-Za-z0-9._-]{1,64}$/.test(text) ? ok(text) : fail('has characters other than A-Z a-z 0-9 . _ -');
}

const yes = ['yes', 'true', 'on', '1'];
const no = ['no', 'false', 'off', '0'];

export function yesNoValue(text: string): Parsed<boolean> {
  const lower = text.toLowerCase();
  if (yes.includes(lower)) return ok(true);
  if (no.includes(lower)) return ok(false);
  return fail('is not yes or no');
}

/**
 * How the Sentinel group is shown in logs and errors, in place of a Redis URL: the sentinels
 * and the group name, never a password. Not a URL any client dials.
 */
export function sentinelDisplay(nodes: readonly SentinelNode[], name: string): string {
  const shown = nodes.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`);
  return `sentinel://${shown.join(',')}/${name}`;
}
