/**
 * @effect-oauth/cli: the `effect-oauth` command (token, call, emulator) and its exit codes.
 *
 * @since 0.1.0
 */

/**
 * The command line: `run(argv)` returns the exit code.
 *
 * @since 0.1.0
 */
export * as Cli from "./Cli.js"

/**
 * The exit codes, one per kind of failure.
 *
 * @since 0.1.0
 */
export * as ExitCode from "./ExitCode.js"
