/**
 * The `HttpClient` programs use: it carries the access token to the listed origins only, and recovers once when the
 * resource server says the token is no longer good.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type { AccessToken } from "./AccessToken.js"
import * as internal from "./internal/authorizedClient.js"
import { AccessTokenRejected, type OAuthError } from "./OAuthError.js"
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
 * Whether the response says the access token was refused. It may read the body (DHL answers 401 with a problem
 * titled `Access token expired`): the body is then buffered, and the caller can still read it in any form when the
 * response is not a rejection. A failure to read the body reaches the caller; catch it inside the predicate to treat
 * an unreadable body as "not rejected".
 *
 * @since 0.1.0
 * @category models
 */
export type IsTokenRejected = (
  response: HttpClientResponse.HttpClientResponse
) => boolean | Effect.Effect<boolean, HttpClientError.ResponseError>

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
export class ReplayOnRejection extends Context.Reference<ReplayOnRejection>()(
  "@effect-oauth/core/AuthorizedClient/ReplayOnRejection",
  { defaultValue: () => true }
) {}

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
 * Builds the authorized client over `client` and `manager`.
 *
 * For a request whose URL's origin is listed: takes a token from the manager (a `Ref` read when one is cached),
 * sets `Authorization: Bearer …` (redacted in spans and in `inspect`, as the platform does for that header) and
 * sends. When `isTokenRejected` says the token was refused, it invalidates that token (only if it is still current,
 * so many concurrent rejections cause one token request, shared), gets a fresh one and sends the request once more;
 * a second rejection fails with `AccessTokenRejected`. A request is never replayed when its body is a stream (it
 * cannot be read twice), when `retryOnRejection` is false or inside `withoutReplay`: it then fails with
 * `AccessTokenRejected` at once, saying why. The manager's token errors fail the request under their own tags.
 *
 * Any other request passes through untouched: no token is fetched and no `Authorization` header added (one the
 * caller set stays). Compose on the result (`HttpClient.mapRequest`, `filterStatusOk`, `retryTransient`,
 * `followRedirects`): each redirect hop goes through the origin check, so a redirect to another origin never carries
 * the token. Compose on the result, not on `client`: a `followRedirects` under this client would carry the header to
 * wherever a redirect points, and a `mapRequest(prependUrl(…))` under it would hide the origin from the check.
 * `FetchHttpClient` follows redirects itself; the Fetch standard (Node, Deno, current browsers) drops
 * `Authorization` on a cross-origin hop. undici and `node:http` clients do not follow.
 *
 * Throws a `TypeError` when `origins` is empty or lists an invalid or insecure URL (`layer` fails with a
 * `ConfigError` instead).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (client: HttpClient.HttpClient, manager: TokenManager.Service, options: Options): Service => {
  const origins = internal.resolveOrigins(options.origins)
  if (Either.isLeft(origins)) throw new TypeError(`AuthorizedClient: ${origins.left.message}`)
  return build(client, manager, options, origins.right)
}

/**
 * A layer building the authorized client over the `HttpClient` and the `TokenManager` in context; it fails with a
 * `ConfigError` when `origins` is invalid.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<AuthorizedClient, ConfigError.ConfigError, HttpClient.HttpClient | TokenManager.TokenManager> =>
  Layer.effect(
    AuthorizedClient,
    Effect.gen(function*() {
      const origins = yield* internal.resolveOrigins(options.origins)
      return build(yield* HttpClient.HttpClient, yield* TokenManager.TokenManager, options, origins)
    })
  )

const build = (
  client: HttpClient.HttpClient,
  manager: TokenManager.Service,
  options: Options,
  origins: ReadonlySet<string>
): Service => {
  const isTokenRejected = options.isTokenRejected
  const retryOnRejection = options.retryOnRejection !== false

  const isListed = (url: string): boolean => {
    try {
      return origins.has(new URL(url).origin)
    } catch {
      // A relative or invalid URL: the platform resolves or rejects it later; it gets no token either way.
      return false
    }
  }

  const send = (request: HttpClientRequest.HttpClientRequest, token: AccessToken) =>
    client.execute(HttpClientRequest.setHeader(request, "authorization", Redacted.value(token.authorization)))

  const rejected = (request: HttpClientRequest.HttpClientRequest, status: number, reason: string) =>
    new AccessTokenRejected({ status, method: request.method, url: internal.urlWithoutQuery(request.url), reason })

  // Succeeds with the response unless the token was refused; then drains the body (so the connection is reused) and
  // runs `onRejected`. Without a custom predicate it is a status check: no wrapper, no body read.
  const check = <E>(
    response: HttpClientResponse.HttpClientResponse,
    onRejected: (status: number) => Effect.Effect<HttpClientResponse.HttpClientResponse, E>
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, E | HttpClientError.ResponseError> => {
    if (isTokenRejected === undefined) {
      return response.status === 401
        ? Effect.zipRight(Effect.ignore(response.arrayBuffer), onRejected(response.status))
        : Effect.succeed(response)
    }
    const buffered = new internal.BufferedResponse(response)
    const decide = (isRejected: boolean) =>
      isRejected
        ? Effect.zipRight(Effect.ignore(buffered.arrayBuffer), onRejected(response.status))
        : Effect.succeed(buffered.read ? buffered : response)
    const verdict = isTokenRejected(buffered)
    return typeof verdict === "boolean" ? decide(verdict) : Effect.flatMap(verdict, decide)
  }

  const onRejected = (request: HttpClientRequest.HttpClientRequest, token: AccessToken, status: number) =>
    Effect.zipRight(
      manager.invalidate(token),
      request.body._tag === "Stream"
        ? Effect.fail(rejected(request, status, "the request body is a stream and could not be replayed"))
        : !retryOnRejection
        ? Effect.fail(rejected(request, status, "replay is disabled for this client (retryOnRejection: false)"))
        : Effect.flatMap(ReplayOnRejection, (replay) =>
          replay
            ? Effect.zipRight(
              Effect.annotateCurrentSpan("oauth.replayed", true),
              Effect.flatMap(manager.get, (fresh) =>
                Effect.flatMap(send(request, fresh), (response) =>
                  check(response, (status) =>
                    Effect.fail(
                      rejected(request, status, "the resource server also rejected a freshly fetched token")
                    ))))
            )
            : Effect.fail(rejected(request, status, "replay is disabled for this request (withoutReplay)")))
    ).pipe(
      Effect.withSpan("AuthorizedClient.tokenRejected", {
        attributes: { "http.request.method": request.method, "http.response.status_code": status }
      })
    )

  const execute = (
    request: HttpClientRequest.HttpClientRequest
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError | OAuthError> =>
    isListed(request.url)
      ? Effect.flatMap(manager.get, (token) =>
        Effect.flatMap(
          send(request, token),
          (response) => check(response, (status) => onRejected(request, token, status))
        ))
      : client.execute(request)

  // `makeWith` keeps the client composable: combinators applied to the result run their own stages around ours.
  return HttpClient.makeWith(
    (request: Effect.Effect<HttpClientRequest.HttpClientRequest>) => Effect.flatMap(request, execute),
    Effect.succeed
  )
}
