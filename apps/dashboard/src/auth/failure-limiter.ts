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
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

/**
 * Counts failed logins per client (a sliding window of timestamps) and says how long a client
 * that failed too often must wait. In memory: one dashboard process is the whole deployment, and
 * a restart forgetting the counts costs an attacker at most one more window.
 */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxClients: number;
  private readonly now: () => number;

  constructor(options: FailureLimiterOptions = {}) {
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxClients = options.maxClients ?? 10_000;
    this.now = options.now ?? Date.now;
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
