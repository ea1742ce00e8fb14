import { fail, ok, type Parsed } from './parsed.js';

/** Target names end up in file paths, BullMQ job ids and command lines, so they stay plain. */
export const targetNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export const targetNameExpected =
  '1 to 63 characters: letters, digits, _ . - and starting with a letter or digit, for example app-prod';

export function targetNameValue(text: string): Parsed<string> {
  if (text === '') return fail('is empty');
  if (text.length > 63) return fail(`is ${text.length} characters long`);
  if (!/^[A-Za-z0-9]/.test(text)) return fail('does not start with a letter or digit');
  if (!targetNamePattern.test(text)) return fail('contains a character other than letters, digits, _ . -');
  return ok(text);
}
