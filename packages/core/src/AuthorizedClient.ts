/**
 * The `HttpClient` programs use: it carries the access token to the listed origins only, and recovers once when the
 * resource server says the token is no longer good.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as internal from "./internal/authorizedClient.js"
import type { OAuthError } from "./OAuthError.js"
import * as TokenManager from "./TokenManager.js"

/**
 * An authorized client: an `HttpClient` whose requests can also fail with the token errors of the manager
 * (`InvalidCredentials`, `TokenEndpointUnavailable`, `TokenRequestRejected`, `TokenResponseInvalid`) and with
 * `AccessTokenRejected`, each under its own tag.
 *
 * @since 0.1.0
 * @category models
 */
export type Service = HttpClient.HttpClient.With<HttpClientError.HttpClientError | OAuthError>

/**
 * The authorized client of the program's provider (see `layer` and `Provider.layer`).
 *
 * @since 0.1.0
 * @category tags
 */
export class AuthorizedClient extends Context.Tag("@effect-oauth/core/AuthorizedClient")<AuthorizedClient, Service>() {}

/**
 * Whether the response says the access token was refused. It may read the body (DHL can answer a 400 or 403 with a
 * problem titled `Access token expired`): the body is then read into memory, at most 1 MiB within 10 seconds (past
 * either limit the read fails, for the predicate and the caller alike), and the caller can still read it in any form
 * when the response is not a rejection; so read it only for the statuses where the provider puts its verdict in the
 * body. A failure to read the body reaches the caller; catch it inside the predicate to treat an unreadable body as
 * "not rejected". A predicate that answers from the status alone leaves the body unread: a rejected one is then
 * drained within 64 KiB and 1 second.
 *
 * @since 0.1.0
 * @category models
 */
export type IsTokenRejected = internal.IsTokenRejected

/**
 * The options of `make`.
 *
 * - `origins`: the only origins the token is sent to (compared as `URL.origin`, so paths are ignored); each must be
 *   `https:` (plain `http:` only on a loopback host). Requests to any other origin, or with a relative URL, pass
 *   through untouched.
 * - `isTokenRejected`: default: status 401.
 * - `retryOnRejection`: whether a rejected request is sent again, once, with a fresh token; default true. Per
 *   request, see `withoutReplay`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly origins: ReadonlyArray<string | URL>
  readonly isTokenRejected?: IsTokenRejected | undefined
  readonly retryOnRejection?: boolean | undefined
}

/**
 * Whether a request whose token is rejected is replayed with a fresh token; read when the request executes. `true`
 * unless `withoutReplay` (or `Effect.provideService(ReplayOnRejection, false)`) says otherwise.
 *
 * @since 0.1.0
 * @category references
 */
export const ReplayOnRejection: typeof internal.ReplayOnRejection = internal.ReplayOnRejection

/**
 * The type of the `ReplayOnRejection` reference.
 *
 * @since 0.1.0
 * @category references
 */
export type ReplayOnRejection = internal.ReplayOnRejection

/**
 * Runs `self` without replaying rejected requests: for calls that must not be sent twice (a non-idempotent POST).
 * A rejected token is still invalidated, so the next request gets a fresh one, and the request fails with
 * `AccessTokenRejected` after exactly one attempt. Wrap the request, e.g.
 * `AuthorizedClient.withoutReplay(client.post("/orders", { body }))`; for a whole client,
 * `HttpClient.transformResponse(client, AuthorizedClient.withoutReplay)`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withoutReplay = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.provideService(self, ReplayOnRejection, false)

/**
 * Builds the authorized client over `client` and `manager`. Fails with a `ConfigError` naming the field when
 * `origins` is not a non-empty list of valid, secure URLs (`origins.<i>`), or when `isTokenRejected` or
 * `retryOnRejection` has the wrong type: no exception, whatever the input.
 *
 * For a request whose URL's origin is listed: takes a token from the manager (a `Ref` read when one is cached),
 * sets `Authorization: Bearer …` and sends. When `isTokenRejected` says the token was refused, it reads and drops
 * the rejected body (at most 64 KiB within 1 second; a longer or slower body is abandoned with its connection),
 * invalidates that token (only if it is still current, so many concurrent rejections cause one token request,
 * shared), gets a fresh one and sends the request once more; a second rejection fails with `AccessTokenRejected`. A
 * request is never replayed when its body is a stream (it cannot be read twice), when `retryOnRejection` is false or
 * inside `withoutReplay`: it then fails with `AccessTokenRejected` at once, saying why. The manager's token errors
 * fail the request under their own tags.
 *
 * The token never leaves the client: the responses it returns, and the `RequestError`s and `ResponseError`s it fails
 * with (a refused connection, a body that cannot be decoded, and so `filterStatusOk` composed on the result), carry
 * the caller's own request, without the `Authorization` header the client added. `String`, `JSON.stringify`,
 * `util.inspect` and `Cause.pretty` of them show no token.
 *
 * Any other request passes through untouched: no token is fetched and no `Authorization` header added (one the
 * caller set stays). Compose on the result (`HttpClient.mapRequest`, `filterStatusOk`, `retryTransient`,
 * `followRedirects`): each redirect hop goes through the origin check, so a redirect to another origin never carries
 * the token. Compose on the result, not on `client`: a `followRedirects` under this client would carry the header to
 * wherever a redirect points, and a `mapRequest(prependUrl(…))` under it would hide the origin from the check.
 * `FetchHttpClient` follows redirects itself; the Fetch standard (Node, Deno, current browsers) drops
 * `Authorization` on a cross-origin hop. undici and `node:http` clients do not follow.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  client: HttpClient.HttpClient,
  manager: TokenManager.Service,
  options: Options
) => Effect.Effect<Service, ConfigError.ConfigError> = Effect.fnUntraced(function*(
  client: HttpClient.HttpClient,
  manager: TokenManager.Service,
  options: Options
) {
  return internal.build(client, manager, yield* internal.resolve(options))
})

/**
 * A layer building the authorized client over the `HttpClient` and the `TokenManager` in context; it fails with a
 * `ConfigError` naming the field when an option is invalid.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<AuthorizedClient, ConfigError.ConfigError, HttpClient.HttpClient | TokenManager.TokenManager> =>
  Layer.effect(
    AuthorizedClient,
    Effect.flatMap(
      Effect.all([HttpClient.HttpClient, TokenManager.TokenManager]),
      ([client, manager]) => make(client, manager, options)
    )
  )
