import type { NextFunction, Request, Response } from 'express';
import { principalOf } from './basic-auth.js';

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Viewers see everything but change nothing. Every change the dashboard offers (Bull Board's
 * retry, promote, clean, pause, add...) is a PUT, PATCH or POST, so refusing any unsafe method
 * to a viewer covers routes a future Bull Board adds too, which a list of routes would not.
 */
export function operatorOnlyForChanges(req: Request, res: Response, next: NextFunction): void {
  if (safeMethods.has(req.method) || principalOf(res).role === 'operator') {
    next();
    return;
  }
  res
    .status(403)
    .json({ error: 'forbidden', message: 'this account may only view; changes need an operator account' });
}

/**
 * Browsers send Basic credentials with any request to the dashboard's origin, including one a
 * hostile page triggers (a cross-site form POST). Browsers label such requests with
 * Sec-Fetch-Site, so a change from another site is refused; clients that are not browsers send
 * no such header and are unaffected.
 */
export function sameSiteChangesOnly(req: Request, res: Response, next: NextFunction): void {
  const site = req.get('sec-fetch-site');
  if (safeMethods.has(req.method) || site === undefined || site === 'same-origin' || site === 'none') {
    next();
    return;
  }
  res.status(403).json({ error: 'forbidden', message: 'changes must come from the dashboard itself' });
}
