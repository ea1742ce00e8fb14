/**
 * The one home of secret redaction for text shown to people: config problems, display URLs,
 * CLI errors, logs and run logs all pass URL-ish values through here.
 */

/** Shown instead of a password, a URL's password or anything read from a secret file. */
export const hidden = '***';

// RFC 3986 userinfo characters but ':'. A user name made only of these ends at the first ':';
// anything else (/ ? # @, spaces, unicode) means the user and password cannot be told apart.
const PLAIN_USER = /^[A-Za-z0-9._~!$&'()*+,;=%-]*$/;

/**
 * Hides everything between `://` (or the start, without a scheme) and the LAST `@`, keeping the
 * user name when it is plainly one. The text is not parsed: a password with an unescaped
 * `/ ? # @` is exactly what makes a URL unparsable, or parse with the password as host, port or
 * path (`postgresql://app:2024/Secret@db` has the host `app` and the port 2024). Taking the last
 * `@` also hides an `@` of a query; that costs some of the message, never the password.
 * A `password=` query parameter is hidden too.
 */
export function redactUrl(url: string): string {
  const schemeEnd = url.indexOf('://');
  const start = schemeEnd === -1 ? 0 : schemeEnd + 3;
  const at = url.lastIndexOf('@');
  let redacted = url;
  if (at >= start) {
    const userinfo = url.slice(start, at);
    const colon = userinfo.indexOf(':');
    const user = colon === -1 ? userinfo : userinfo.slice(0, colon);
    const shown = !PLAIN_USER.test(user) ? hidden : colon === -1 ? user : `${user}:${hidden}`;
    redacted = `${url.slice(0, start)}${shown}${url.slice(at)}`;
  }
  return redacted.replace(/([?&;]password=)[^&#\s]*/gi, `$1${hidden}`);
}

/**
 * Every URL in a free text (a log message, an error from a library) through redactUrl. A URL is
 * taken to run to the end of its line or to a quote, not to a space: a password may hold spaces.
 */
export function redactSecrets(text: string): string {
  return text.replace(/[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\n"'`<>]*/g, (url) => redactUrl(url));
}
