import { hidden, redactUrl } from '../redact.js';
import { quote } from './problems.js';
import type { Setting } from './settings.js';

/** A value as it may appear in an error message: secrets as ***, URLs without their password. */
export function showValue(raw: unknown, show: Setting<unknown>['show']): string {
  if (show === 'secret') return hidden;
  if (show === 'url' && typeof raw === 'string') return quote(redactUrl(raw));
  return quote(raw);
}
