import helmet from 'helmet';

/**
 * helmet's defaults, adjusted for what the dashboard serves:
 * - Bull Board's page loads only same-origin scripts (its inline <script> is JSON data, which
 *   CSP does not block), but its loading screen and React components set inline styles, and the
 *   backups page carries its own <style>: hence 'unsafe-inline' for styles only, never scripts.
 * - Bull Board links Google Fonts; the dashboard makes no request to a third party (it often runs
 *   where there is no internet, and it would tell Google who opens it), so the board falls back
 *   to system fonts.
 * - No upgrade-insecure-requests and no HSTS: the dashboard speaks plain HTTP on a local port and
 *   TLS is the reverse proxy's business; HSTS from here could pin a whole domain to HTTPS.
 */
export function securityHeaders() {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'base-uri': ["'self'"],
        'script-src': ["'self'"],
        'script-src-attr': ["'none'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:'],
        'font-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        'object-src': ["'none'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
      },
    },
    strictTransportSecurity: false,
    referrerPolicy: { policy: 'same-origin' },
  });
}
