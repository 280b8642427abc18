/**
 * A reason the server or a CLI command cannot start that the operator fixes (a port in use, a
 * database that does not exist or cannot be reached, a data path that cannot be written). The
 * CLI prints its message as one line, without a stack trace, and exits non-zero. Raised before
 * anything is created or migrated.
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}
