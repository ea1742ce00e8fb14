/** A variable's value and whether it came from the overrides (CLI flags) or the environment. */
export interface Variable {
  name: string;
  text: string;
  source: 'override' | 'env';
}

/** Overrides win over the environment; both use the environment's names. */
export class Variables {
  constructor(
    private readonly env: Record<string, string | undefined>,
    private readonly overrides: Record<string, string | undefined>,
  ) {}

  /**
   * An empty value counts as unset: `FOO=` in a compose file or `.env` means "not configured"
   * far more often than "the empty string". Values are trimmed, except secrets, where spaces
   * may be part of the password.
   */
  get(name: string, secret = false): Variable | undefined {
    for (const [source, record] of [
      ['override', this.overrides],
      ['env', this.env],
    ] as const) {
      const raw = record[name];
      if (raw === undefined) continue;
      const text = secret ? raw : raw.trim();
      if (text !== '') return { name, text, source };
    }
    return undefined;
  }
}
