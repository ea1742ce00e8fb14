import { createHash, timingSafeEqual } from 'node:crypto';

/** Operators may change the queue (retry, promote, clean...); viewers only look. */
export type Role = 'operator' | 'viewer';

export interface Account {
  user: string;
  password: string;
  role: Role;
}

interface StoredAccount {
  user: Buffer;
  password: Buffer;
  role: Role;
}

/**
 * Compares SHA-256 digests rather than the strings themselves: digests always have the same
 * length, so timingSafeEqual never throws and the time taken says nothing about the length of
 * the configured user name or password.
 */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The dashboard's accounts, held as digests so a heap dump shows no password in clear. */
export class Accounts {
  private readonly accounts: StoredAccount[];

  constructor(accounts: Account[]) {
    if (accounts.length === 0) throw new Error('the dashboard needs at least one account');
    this.accounts = accounts.map((account) => ({
      user: digest(account.user),
      password: digest(account.password),
      role: account.role,
    }));
  }

  /**
   * The role of whoever holds these credentials, or undefined. Every account is compared, with
   * no early exit, so the response time does not tell whether the user name exists.
   */
  authenticate(user: string, password: string): Role | undefined {
    const userDigest = digest(user);
    const passwordDigest = digest(password);
    let role: Role | undefined;
    for (const account of this.accounts) {
      const userMatches = timingSafeEqual(userDigest, account.user);
      const passwordMatches = timingSafeEqual(passwordDigest, account.password);
      if (userMatches && passwordMatches && role === undefined) role = account.role;
    }
    return role;
  }
}
