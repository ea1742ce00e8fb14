import { BackupError } from '../errors.js';
import { daysFromCivil, MS_PER_DAY } from './calendar.js';

/** Maps an instant (epoch milliseconds) to its calendar day in one time zone (days since 1970-01-01). */
export type LocalDayOf = (epochMs: number) => number;

// Building a DateTimeFormat costs about 0.1 ms, so one per time zone for the life of the process.
// The locale is pinned so the parts are Gregorian with Latin digits whatever the host's defaults.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  // An empty or missing zone would silently mean the host's zone.
  if (typeof timeZone !== 'string' || timeZone.trim() === '') {
    throw new BackupError(
      'CONFIG_INVALID',
      'prune: a time zone is required (an IANA name such as Europe/Paris)',
    );
  }
  const cached = formatters.get(timeZone);
  if (cached) return cached;
  let formatter: Intl.DateTimeFormat;
  try {
    formatter = new Intl.DateTimeFormat('en-US-u-ca-gregory-nu-latn', {
      timeZone,
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    });
  } catch (cause) {
    throw new BackupError('CONFIG_INVALID', `prune: unknown time zone ${JSON.stringify(timeZone)}`, {
      cause,
      details: { timeZone },
    });
  }
  formatters.set(timeZone, formatter);
  return formatter;
}

/** Local wall clock minus UTC at a whole-second instant, in milliseconds. */
function offsetAt(formatter: Intl.DateTimeFormat, epochMs: number): number {
  let year = 0;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let beforeChrist = false;
  for (const part of formatter.formatToParts(epochMs)) {
    switch (part.type) {
      case 'era':
        beforeChrist = part.value.startsWith('B');
        break;
      case 'year':
        year = Number(part.value);
        break;
      case 'month':
        month = Number(part.value);
        break;
      case 'day':
        day = Number(part.value);
        break;
      case 'hour':
        hour = Number(part.value);
        break;
      case 'minute':
        minute = Number(part.value);
        break;
      case 'second':
        second = Number(part.value);
        break;
    }
  }
  if (beforeChrist) year = 1 - year;
  const wallMs = daysFromCivil(year, month, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000;
  return wallMs - epochMs;
}

/** The zone's offsets during one UTC day: `before` until `switchAt`, `after` from it on. */
interface UtcDayOffsets {
  before: number;
  switchAt: number;
  after: number;
}

/**
 * formatToParts costs about 10 µs, a second per 100,000 backups, so offsets are looked up once
 * per UTC day instead of once per backup: the offsets at both ends of the day are probed, and
 * only when they differ is the switch located by bisection to the second (zone offsets and
 * their transitions are whole seconds). This assumes a zone never changes its offset twice
 * within 24 hours, true of every zone in the tz database (the Temporal polyfill makes a
 * stronger assumption: two weeks).
 *
 * The caches live as long as the returned function, i.e. one plan: no global growth.
 * Throws BackupError CONFIG_INVALID for an unknown time zone.
 */
export function localDayCalculator(timeZone: string): LocalDayOf {
  const formatter = formatterFor(timeZone);
  const probes = new Map<number, number>();
  const utcDays = new Map<number, UtcDayOffsets>();

  const probe = (epochMs: number): number => {
    let offset = probes.get(epochMs);
    if (offset === undefined) {
      offset = offsetAt(formatter, epochMs);
      probes.set(epochMs, offset);
    }
    return offset;
  };

  const offsetsOf = (utcDay: number): UtcDayOffsets => {
    const start = utcDay * MS_PER_DAY;
    const end = start + MS_PER_DAY;
    const before = probe(start);
    const atEnd = probe(end);
    if (atEnd === before) return { before, switchAt: Number.POSITIVE_INFINITY, after: before };
    // Invariant: offset(low) === before, offset(high) !== before.
    let low = start;
    let high = end;
    while (high - low > 1000) {
      const middle = low + Math.floor((high - low) / 2000) * 1000;
      if (offsetAt(formatter, middle) === before) low = middle;
      else high = middle;
    }
    return { before, switchAt: high, after: offsetAt(formatter, high) };
  };

  return (epochMs) => {
    const utcDay = Math.floor(epochMs / MS_PER_DAY);
    let offsets = utcDays.get(utcDay);
    if (!offsets) {
      offsets = offsetsOf(utcDay);
      utcDays.set(utcDay, offsets);
    }
    const offset = epochMs >= offsets.switchAt ? offsets.after : offsets.before;
    return Math.floor((epochMs + offset) / MS_PER_DAY);
  };
}
