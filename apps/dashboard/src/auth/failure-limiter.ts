import { createHash } from 'node:crypto';

export interface FailureLimiterOptions {
  /** Failed attempts allowed per client within the window. Default 10. */
  maxFailures?: number;
  /** Length of the sliding window in milliseconds. Default 60 000. */
  windowMs?: number;
  /**
   * Clients tracked at once; past it the oldest is forgotten, so a flood of addresses cannot
   * grow memory without bound. Default 10 000.
   */
  maxClients?: number;
  /** How long a wrong login past the limit waits for its 429. Default 1 000 ms. */
  penaltyDelayMs?: number;
  /**
   * Wrong logins waiting out their delay at once; past it they are answered at once, so a flood
   * cannot hold the server's sockets. Default 100.
   */
  maxDelayed?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

/**
 * The limiter's key for a login: the client address and the user name tried. Per user name, so
 * one client's wrong guesses for one account never shut out another account from the same
 * address (a NAT, or a proxy that is not trusted); hashed, since the name is whatever was sent.
 */
export function loginKey(address: string, user: string): string {
  return `${address} ${createHash('sha256').update(user, 'utf8').digest('base64url').slice(0, 22)}`;
}

/**
 * Counts failed logins per client (a sliding window of timestamps) and says how long a client
 * that failed too often must wait. It never turns away the right password (basicAuth checks the
 * credentials first): it slows and refuses wrong ones only. In memory: one dashboard process is
 * the whole deployment, and a restart forgetting the counts costs an attacker at most one more window.
 */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxClients: number;
  private readonly now: () => number;
  private delayed = 0;
  /** See FailureLimiterOptions.penaltyDelayMs. */
  readonly penaltyDelayMs: number;
  private readonly maxDelayed: number;

  constructor(options: FailureLimiterOptions = {}) {
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxClients = options.maxClients ?? 10_000;
    this.now = options.now ?? Date.now;
    this.penaltyDelayMs = options.penaltyDelayMs ?? 1_000;
    this.maxDelayed = options.maxDelayed ?? 100;
  }

  /** Waits out the penalty of a wrong login past the limit, unless too many already wait. */
  async penalty(): Promise<void> {
    if (this.delayed >= this.maxDelayed || this.penaltyDelayMs <= 0) return;
    this.delayed++;
    try {
      await new Promise((resolve) => setTimeout(resolve, this.penaltyDelayMs));
    } finally {
      this.delayed--;
    }
  }

  /** Milliseconds the client must wait before trying again; 0 when it may try now. */
  retryAfterMs(client: string): number {
    const recent = this.recent(client);
    if (recent.length < this.maxFailures) return 0;
    // Blocked until enough of the failures have left the window.
    const unblockAt = (recent[recent.length - this.maxFailures] ?? 0) + this.windowMs;
    return Math.max(1, unblockAt - this.now());
  }

  recordFailure(client: string): void {
    const recent = this.recent(client);
    recent.push(this.now());
    // Re-inserted so the map's order is least recently failed first.
    this.failures.delete(client);
    this.failures.set(client, recent.slice(-this.maxFailures));
    while (this.failures.size > this.maxClients) {
      const oldest = this.failures.keys().next().value;
      if (oldest === undefined) break;
      this.failures.delete(oldest);
    }
  }

  private recent(client: string): number[] {
    const since = this.now() - this.windowMs;
    const kept = (this.failures.get(client) ?? []).filter((at) => at > since);
    if (kept.length === 0) this.failures.delete(client);
    else this.failures.set(client, kept);
    return kept;
  }
}
