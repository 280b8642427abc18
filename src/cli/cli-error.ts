/** Exit codes of `roster export` and `roster sync` (README, "Exit codes"). */
export const EXIT_OK = 0;
/** The command failed: a bad file, rows that do not validate, errors in the plan, a server error, a failed apply. */
export const EXIT_FAILURE = 1;
/** The command was used wrongly: an unknown option, a bad option value, a missing credential, an unreadable mapping file. */
export const EXIT_USAGE = 2;

/**
 * An error the CLI reports in words and ends with: `error: <message>` on stderr and the exit
 * code. Everything a user can fix (their file, options, credentials, the server's answer) is one;
 * anything else is a bug and keeps its stack trace.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
