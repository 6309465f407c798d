/**
 * The exit codes of the `effect-oauth` command, one per kind of failure, so that a script can tell a wrong secret
 * from an outage without reading stderr.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The command did what was asked. For `call`, the API answered (whatever its status).
 *
 * @since 0.1.0
 * @category codes
 */
export const Ok = 0

/**
 * Any other failure: the API of `call` could not be reached, a file could not be read, or the emulator could not
 * listen.
 *
 * @since 0.1.0
 * @category codes
 */
export const Failure = 1

/**
 * The command line or the configuration is wrong: an unknown flag, a missing argument, a missing or malformed
 * environment variable (`BRINGG_CLIENT_ID`, …), no client secret available.
 *
 * @since 0.1.0
 * @category codes
 */
export const Usage = 2

/**
 * `InvalidCredentials`: the token endpoint refused the client id or secret (unknown client, wrong or regenerated
 * secret).
 *
 * @since 0.1.0
 * @category codes
 */
export const InvalidCredentials = 3

/**
 * `TokenEndpointUnavailable`: network failure, timeout, 5xx, 408 or 429 from the token endpoint.
 *
 * @since 0.1.0
 * @category codes
 */
export const TokenEndpointUnavailable = 4

/**
 * `TokenResponseInvalid`: the token endpoint answered 2xx with a body that is not a valid token response.
 *
 * @since 0.1.0
 * @category codes
 */
export const TokenResponseInvalid = 5

/**
 * `TokenRequestRejected`: the token endpoint refused the request itself (`invalid_request`, `invalid_scope`,
 * `unsupported_grant_type`, another 4xx, a redirect).
 *
 * @since 0.1.0
 * @category codes
 */
export const TokenRequestRejected = 6

/**
 * `AccessTokenRejected`: the API refused a freshly fetched token too (after one refetch and replay).
 *
 * @since 0.1.0
 * @category codes
 */
export const AccessTokenRejected = 7

/**
 * A usage error of the command line or its configuration (exit code 2), with the one line printed on stderr.
 *
 * @since 0.1.0
 * @category errors
 */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  message: Schema.String
}) {}

const byTag: Readonly<Record<string, number>> = {
  UsageError: Usage,
  InvalidCredentials,
  TokenEndpointUnavailable,
  TokenResponseInvalid,
  TokenRequestRejected,
  AccessTokenRejected
}

/**
 * The exit code for a failure of the command: by the error's `_tag` (`ValidationError`s of the command line and
 * `ConfigError`s count as usage errors), `Failure` for anything else.
 *
 * @since 0.1.0
 * @category codes
 */
export const fromError = (error: unknown): number => {
  if (typeof error !== "object" || error === null || !("_tag" in error)) return Failure
  const tag = String(error._tag)
  return byTag[tag] ?? Failure
}
