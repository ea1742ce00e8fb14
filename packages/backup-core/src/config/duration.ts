import { fail, ok, type Parsed } from './parsed.js';
import { invalidValue } from './problems.js';

const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const pattern = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)?$/;

export const durationExpected = 'a duration such as 500ms, 30s, 10m, 6h, 2d or a number of milliseconds';

/**
 * Node's timers overflow above 2^31-1 ms (about 24.8 days) and then fire after 1 ms, so a
 * timeout configured beyond that would abort every dump at once.
 */
export const maxTimerMs = 2_147_483_647;

export function durationValue(text: string): Parsed<number> {
  const match = pattern.exec(text.trim());
  if (!match) return fail('is not a duration');
  const amount = Number(match[1]);
  const unit = (match[2] ?? 'ms') as keyof typeof unitMs;
  const ms = Math.round(amount * unitMs[unit]);
  if (!Number.isSafeInteger(ms)) return fail('is too long');
  return ok(ms);
}

/** A duration setting with bounds; the bounds are part of the setting's `expected` text. */
export function durationIn(minMs: number, maxMs: number): (text: string) => Parsed<number> {
  return (text) => {
    const parsed = durationValue(text);
    if (!parsed.ok) return parsed;
    if (parsed.value < minMs) return fail(minMs === 1 ? 'must be longer than 0' : 'is too short');
    if (parsed.value > maxMs) return fail('is too long');
    return parsed;
  };
}

/** Milliseconds in `500ms`, `30s`, `10m`, `6h`, `2d` or a bare number of milliseconds. */
export function parseDuration(text: string): number {
  const parsed = durationValue(text);
  if (parsed.ok) return parsed.value;
  throw invalidValue('duration', text, parsed.issues, durationExpected);
}
