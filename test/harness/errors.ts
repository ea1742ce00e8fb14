/** Raised when the harness cannot provide a server; the message says what to install or fix. */
export class HarnessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HarnessError';
  }
}
