/**
 * Every way getting or using a token can fail, as tagged errors that programs can `catchTag` and retry on.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * The token endpoint refused the client credentials: unknown client, wrong secret, or a secret that was
 * regenerated (which also disables the tokens issued with the old one). Permanent: never retried; a human or a
 * secret rotation must fix it. `error` is the server's RFC 6749 §5.2 code or title when it sent one.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidCredentials extends Schema.TaggedError<InvalidCredentials>()("InvalidCredentials", {
  status: Schema.Number,
  error: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return `The token endpoint rejected the client credentials${
      detail(this.error, this.description)
    } (HTTP ${this.status})`
  }
}

/**
 * Why the token endpoint could not be used for now.
 *
 * @since 0.1.0
 * @category models
 */
export const UnavailableReason = Schema.Literal("Network", "Timeout", "ServerError", "RateLimited")

/**
 * @since 0.1.0
 * @category models
 */
export type UnavailableReason = typeof UnavailableReason.Type

/**
 * The token endpoint could not be reached or could not answer now: network failure, timeout (over the whole
 * exchange, body included), 5xx, 408 or 429. Transient: retried with backoff while a usable token is held.
 * `retryAfter` is the server's `Retry-After`, if any, at most `TokenEndpoint.maxRetryAfter` (10 minutes).
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenEndpointUnavailable extends Schema.TaggedError<TokenEndpointUnavailable>()(
  "TokenEndpointUnavailable",
  {
    reason: UnavailableReason,
    status: Schema.optional(Schema.Number),
    retryAfter: Schema.optional(Schema.DurationFromSelf),
    detail: Schema.optional(Schema.String)
  }
) {
  override get message(): string {
    const status = this.status === undefined ? "" : ` (HTTP ${this.status})`
    const retry = this.retryAfter === undefined ? "" : `, retry after ${Duration.format(this.retryAfter)}`
    const detail = this.detail === undefined ? "" : `: ${this.detail}`
    return `The token endpoint is unavailable: ${this.reason}${status}${retry}${detail}`
  }
}

/**
 * The token endpoint refused the request itself (RFC 6749 §5.2 `invalid_request`, `invalid_scope`,
 * `unsupported_grant_type`, an unexpected 4xx or a redirect): a configuration problem on the client side.
 * Permanent: never retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenRequestRejected extends Schema.TaggedError<TokenRequestRejected>()("TokenRequestRejected", {
  status: Schema.Number,
  error: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return `The token endpoint rejected the token request${detail(this.error, this.description)} (HTTP ${this.status})`
  }
}

/**
 * The token endpoint answered with a success status but a body that is not a valid token response: not JSON, larger
 * than `maxResponseBytes`, no `access_token` or one that is not printable ASCII (`1*VSCHAR`, RFC 6749 A.12), a
 * `token_type` other than `Bearer`, an `expires_in` under 1 second, … `issue` says what was wrong and never contains
 * the token.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenResponseInvalid extends Schema.TaggedError<TokenResponseInvalid>()("TokenResponseInvalid", {
  status: Schema.Number,
  issue: Schema.String
}) {
  override get message(): string {
    return `The token endpoint sent an invalid token response (HTTP ${this.status}): ${this.issue}`
  }
}

/**
 * The resource server refused a token that was fetched fresh after a first rejection, or the rejected request
 * could not be replayed. Permanent for this request: the client does not loop.
 *
 * @since 0.1.0
 * @category errors
 */
export class AccessTokenRejected extends Schema.TaggedError<AccessTokenRejected>()("AccessTokenRejected", {
  status: Schema.Number,
  method: Schema.String,
  url: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.method} ${this.url} rejected the access token (HTTP ${this.status}): ${this.reason}`
  }
}

/**
 * Any error of this library, as a schema (for serialising errors across processes).
 *
 * @since 0.1.0
 * @category errors
 */
export const OAuthError = Schema.Union(
  InvalidCredentials,
  TokenEndpointUnavailable,
  TokenRequestRejected,
  TokenResponseInvalid,
  AccessTokenRejected
)

/**
 * Any error of this library.
 *
 * @since 0.1.0
 * @category errors
 */
export type OAuthError = typeof OAuthError.Type

/**
 * The errors fetching a token can produce (all but `AccessTokenRejected`, which only an API call produces).
 *
 * @since 0.1.0
 * @category errors
 */
export type TokenError = InvalidCredentials | TokenEndpointUnavailable | TokenRequestRejected | TokenResponseInvalid

const tags: ReadonlySet<string> = new Set([
  "InvalidCredentials",
  "TokenEndpointUnavailable",
  "TokenRequestRejected",
  "TokenResponseInvalid",
  "AccessTokenRejected"
])

/**
 * Whether a value is one of this library's errors.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isOAuthError = (u: unknown): u is OAuthError =>
  Predicate.hasProperty(u, "_tag") && tags.has(u._tag as string)

/**
 * Whether retrying later may succeed: true only for `TokenEndpointUnavailable`. Use it as
 * `Effect.retry({ while: OAuthError.isTransient, schedule })`.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isTransient = (u: unknown): u is TokenEndpointUnavailable =>
  Predicate.isTagged(u, "TokenEndpointUnavailable")

const detail = (error: string | undefined, description: string | undefined): string =>
  error === undefined ? "" : description === undefined ? `: ${error}` : `: ${error} (${description})`
