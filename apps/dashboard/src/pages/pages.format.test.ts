import { describe, expect, it } from 'vitest';
import { failureCode } from '../metrics.js';
import { utcTime } from './format.js';
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
