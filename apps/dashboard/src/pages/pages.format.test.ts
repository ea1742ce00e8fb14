import { describe, expect, it } from 'vitest';
import { failureCode } from '../metrics.js';
import { humanBytes, humanDuration, utcTime } from './format.js';
import { escapeHtml, html, trustedHtml } from './html.js';

describe('html', () => {
  it('escapes every interpolated value unless it is SafeHtml', () => {
    const evil = `<img src=x onerror="alert('x')">&`;
    expect(escapeHtml(evil)).toBe('&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;');
    expect(html`<p title="${evil}">${evil}</p>`.text).not.toContain('<img');
    expect(html`<ul>${['<a>', html`<li>${'<b>'}</li>`]}</ul>`.text).toBe(
      '<ul>&lt;a&gt;<li>&lt;b&gt;</li></ul>',
    );
    expect(html`${trustedHtml('<hr>')}${undefined}${null}${false}${0}`.text).toBe('<hr>0');
  });
});

describe('format', () => {
  it('gives sizes in binary units', () => {
    expect(humanBytes(0)).toBe('0 B');
    expect(humanBytes(1023)).toBe('1023 B');
    expect(humanBytes(1536)).toBe('1.5 KiB');
    expect(humanBytes(1_572_864)).toBe('1.5 MiB');
    expect(humanBytes(200 * 1024 ** 3)).toBe('200 GiB');
  });

  it('gives durations as their two largest units', () => {
    expect(humanDuration(0)).toBe('0s');
    expect(humanDuration(45_000)).toBe('45s');
    expect(humanDuration(3_600_000)).toBe('1h');
    expect(humanDuration(93_784_000)).toBe('1d 2h');
    expect(humanDuration(36_000_000 + 59_000)).toBe('10h');
  });

  it('shows times in UTC', () => {
    expect(utcTime('2026-11-25T02:00:00.123Z')).toBe('2026-11-25 02:00:00 UTC');
  });
});

describe('failureCode', () => {
  it('reads the code the worker puts before its message', () => {
    expect(failureCode('PG_DATABASE_MISSING: database "x" does not exist')).toBe('PG_DATABASE_MISSING');
    expect(failureCode('job stalled more than allowable limit')).toBe('UNKNOWN');
    expect(failureCode('Error: boom')).toBe('UNKNOWN');
    expect(failureCode(undefined)).toBe('UNKNOWN');
  });
});
