import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import type { AccessToken } from "../AccessToken.js"
import { AccessTokenRejected, type OAuthError } from "../OAuthError.js"
import type * as TokenManager from "../TokenManager.js"
import { BufferedResponse } from "./authorizedResponse.js"
import { traced } from "./authorizedSpan.js"
import { parseSecureUrl } from "./url.js"

/**
 * Whether a response says the access token was refused (see `AuthorizedClient.IsTokenRejected`).
 *
 * @internal
 */
export type IsTokenRejected = (
  response: HttpClientResponse.HttpClientResponse
) => boolean | Effect.Effect<boolean, HttpClientError.ResponseError>

/**
 * The options of an authorized client, checked once: origins normalised to `URL.origin`.
 *
 * @internal
 */
export interface Resolved {
  readonly origins: ReadonlySet<string>
  readonly isTokenRejected: IsTokenRejected | undefined
  readonly retryOnRejection: boolean
}

/**
 * The normalised origins (`URL.origin`) of a non-empty list of URLs, each checked by `parseSecureUrl`. Input from
 * untyped JavaScript (not a list, an entry that is not a string or a `URL`) fails too, naming the field.
 *
 * @internal
 */
export const resolveOrigins = (origins: unknown): Either.Either<ReadonlySet<string>, ConfigError.ConfigError> => {
  if (!Array.isArray(origins)) {
    return Either.left(ConfigError.InvalidData(["origins"], "origins must be a list of URLs"))
  }
  if (origins.length === 0) {
    return Either.left(ConfigError.InvalidData(["origins"], "origins must list at least one origin"))
  }
  const resolved = new Set<string>()
  for (let i = 0; i < origins.length; i++) {
    const entry: unknown = origins[i]
    const path = ["origins", String(i)]
    if (typeof entry !== "string" && !(entry instanceof URL)) {
      return Either.left(ConfigError.InvalidData(path, `${path.join(".")} must be a URL (a string or a URL)`))
    }
    const url = parseSecureUrl(entry, path)
    if (Either.isLeft(url)) return Either.left(url.left)
    resolved.add(url.right.origin)
  }
  return Either.right(resolved)
}

/**
 * Checks the options of `AuthorizedClient.make` (also when they come from untyped JavaScript) into a `Resolved`.
 *
 * @internal
 */
export const resolve = (options: unknown): Either.Either<Resolved, ConfigError.ConfigError> => {
  if (typeof options !== "object" || options === null) {
    return Either.left(ConfigError.InvalidData([], "the options must be an object with origins"))
  }
  const { isTokenRejected, origins, retryOnRejection } = options as Record<string, unknown>
  if (isTokenRejected !== undefined && typeof isTokenRejected !== "function") {
    return Either.left(ConfigError.InvalidData(["isTokenRejected"], "isTokenRejected must be a function"))
  }
  if (retryOnRejection !== undefined && typeof retryOnRejection !== "boolean") {
    return Either.left(ConfigError.InvalidData(["retryOnRejection"], "retryOnRejection must be true or false"))
  }
  return Either.map(resolveOrigins(origins), (resolved) => ({
    origins: resolved,
    isTokenRejected: isTokenRejected as IsTokenRejected | undefined,
    retryOnRejection: retryOnRejection !== false
  }))
}

/**
 * `origin + pathname` of a request URL: what an error may name (a query string can carry identifiers or keys).
 *
 * @internal
 */
export const urlWithoutQuery = (url: string): string => {
  try {
    const parsed = new URL(url)
    return parsed.origin + parsed.pathname
  } catch {
    return url.split(/[?#]/, 1)[0]!
  }
}

// The Authorization header value; `AccessToken.authorization` would wrap it in a new `Redacted` per request.
const bearer = (token: AccessToken): string => `Bearer ${Redacted.value(token.value)}`

/**
 * Whether a request URL's origin is one of `origins`, without parsing every URL: the decision is cached per
 * scheme-and-authority prefix (what decides the origin), in a bounded map. A relative or invalid URL gets no token
 * (the platform resolves or rejects it later).
 *
 * @internal
 */
export const listedOrigins = (origins: ReadonlySet<string>): (url: string) => boolean => {
  const decisions = new Map<string, boolean>()
  return (url) => {
    const prefix = authorityPrefix(url)
    if (prefix === undefined) return isOriginListed(origins, url)
    let listed = decisions.get(prefix)
    if (listed === undefined) {
      listed = isOriginListed(origins, prefix)
      if (decisions.size >= maxCachedPrefixes) decisions.clear()
      decisions.set(prefix, listed)
    }
    return listed
  }
}

const maxCachedPrefixes = 1024

const schemePattern = /^[A-Za-z][A-Za-z0-9+.-]*$/

const isOriginListed = (origins: ReadonlySet<string>, url: string): boolean => {
  try {
    return origins.has(new URL(url).origin)
  } catch {
    return false
  }
}

// `scheme://authority` of an absolute URL, or undefined when the URL has no "://" or holds characters that URL
// parsing would rewrite before the authority ends (backslashes, whitespace, control characters): those are parsed.
const authorityPrefix = (url: string): string | undefined => {
  const scheme = url.indexOf("://")
  if (scheme <= 0) return undefined
  let end = scheme + 3
  for (; end < url.length; end++) {
    const code = url.charCodeAt(end)
    if (code === 47 || code === 63 || code === 35) break // / ? #
    if (code <= 32 || code === 92 || code >= 127) return undefined // whitespace, control, \, non-ASCII
  }
  if (!schemePattern.test(url.slice(0, scheme))) return undefined
  return url.slice(0, end)
}

/**
 * At most this much of a rejected response's body is read before the request is replayed (reading it lets the
 * connection be reused); a longer body is abandoned, and its connection with it.
 *
 * @internal
 */
export const maxDrainBytes = 64 * 1024

/**
 * At most this long is spent reading a rejected response's body before the request is replayed.
 *
 * @internal
 */
export const drainTimeout: Duration.Duration = Duration.seconds(1)

/**
 * Reads and discards a rejected response's body, bounded by `maxDrainBytes` and `drainTimeout`: a server sending an
 * endless or dripping body cannot hold the replay or grow memory. Never fails.
 *
 * @internal
 */
export const drain = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<void> =>
  response.stream.pipe(
    Stream.runFoldWhile(0, (read) => read <= maxDrainBytes, (read, chunk) => read + chunk.length),
    Effect.timeout(drainTimeout),
    Effect.ignore
  )

/**
 * Whether a request is replayed after its token was rejected (see `AuthorizedClient.ReplayOnRejection`).
 *
 * @internal
 */
export class ReplayOnRejection extends Context.Reference<ReplayOnRejection>()(
  "@effect-oauth/core/AuthorizedClient/ReplayOnRejection",
  { defaultValue: () => true }
) {}

type Verdict =
  | { readonly rejected: false; readonly response: HttpClientResponse.HttpClientResponse }
  | { readonly rejected: true; readonly status: number }

/**
 * The authorized client over `client` and `manager` (see `AuthorizedClient.make`), from checked options.
 *
 * @internal
 */
export const build = (
  client: HttpClient.HttpClient,
  manager: TokenManager.Service,
  options: Resolved
): HttpClient.HttpClient.With<HttpClientError.HttpClientError | OAuthError> => {
  const { isTokenRejected, origins, retryOnRejection } = options

  const isListed = listedOrigins(origins)

  // One attempt with the token, traced as the caller's request and answered with a view over it: neither the span,
  // the response nor an error holds the request that carried the token.
  const send = (request: HttpClientRequest.HttpClientRequest, token: AccessToken) =>
    traced(request, (propagation) =>
      client.execute(
        propagation === Headers.empty
          ? HttpClientRequest.setHeader(request, "authorization", bearer(token))
          : HttpClientRequest.setHeaders(request, { ...propagation, authorization: bearer(token) })
      ))

  const rejected = (request: HttpClientRequest.HttpClientRequest, status: number, reason: string) =>
    new AccessTokenRejected({ status, method: request.method, url: urlWithoutQuery(request.url), reason })

  // Whether the response refuses the token. A refused response's body is drained (bounded) and dropped; any other
  // response goes to the caller as a view over its own request. Without a custom predicate it is a status check.
  const judge = (
    request: HttpClientRequest.HttpClientRequest,
    response: HttpClientResponse.HttpClientResponse
  ): Effect.Effect<Verdict, HttpClientError.ResponseError> => {
    if (isTokenRejected !== undefined) return judgeWith(isTokenRejected, request, response)
    if (response.status !== 401) return Effect.succeed({ rejected: false, response })
    return Effect.as(drain(response), { rejected: true, status: response.status })
  }

  const judgeWith = Effect.fnUntraced(function*(
    isTokenRejected: IsTokenRejected,
    request: HttpClientRequest.HttpClientRequest,
    response: HttpClientResponse.HttpClientResponse
  ) {
    const buffered = new BufferedResponse(response, request)
    // The user's predicate may throw, die, fail or be interrupted with the response in our hands: whatever its end,
    // other than a verdict, the body is drained (bounded) so its connection is released, not pinned.
    const isRejected = yield* Effect.suspend(() => {
      const verdict = isTokenRejected(buffered)
      return typeof verdict === "boolean"
        ? Effect.succeed(verdict)
        : Effect.isEffect(verdict)
        ? verdict
        : Effect.dieMessage("isTokenRejected must return a boolean or an Effect of one")
    }).pipe(Effect.onExit((exit) => Exit.isSuccess(exit) ? Effect.void : drain(response)))
    if (!isRejected) {
      return { rejected: false, response: buffered.read ? buffered : response } as Verdict
    }
    if (!buffered.read) yield* drain(response)
    return { rejected: true, status: response.status } as Verdict
  })

  // Why a rejected request is not replayed, or undefined when it is.
  const noReplay = Effect.fnUntraced(function*(request: HttpClientRequest.HttpClientRequest) {
    if (request.body._tag === "Stream") return "the request body is a stream and could not be replayed"
    if (!retryOnRejection) return "replay is disabled for this client (retryOnRejection: false)"
    if (!(yield* ReplayOnRejection)) return "replay is disabled for this request (withoutReplay)"
    return undefined
  })

  // The token was refused: drop it (only if still current, so concurrent rejections share one refetch), then send
  // the request once more with a fresh token, unless it must not be replayed. A second refusal is final.
  const recover = (request: HttpClientRequest.HttpClientRequest, token: AccessToken, status: number) =>
    Effect.gen(function*() {
      yield* manager.invalidate(token)
      const reason = yield* noReplay(request)
      if (reason !== undefined) return yield* Effect.fail(rejected(request, status, reason))
      yield* Effect.annotateCurrentSpan("oauth.replayed", true)
      const fresh = yield* manager.get
      const verdict = yield* judge(request, yield* send(request, fresh))
      if (verdict.rejected) {
        return yield* Effect.fail(
          rejected(request, verdict.status, "the resource server also rejected a freshly fetched token")
        )
      }
      return verdict.response
    }).pipe(
      Effect.withSpan("AuthorizedClient.tokenRejected", {
        attributes: { "http.request.method": request.method, "http.response.status_code": status }
      })
    )

  // The hot path in plain `flatMap`s: a cached token, one attempt and, without a custom predicate, a status check.
  // Everything that fails here carries the caller's request: `send` rebuilt the attempt's errors over it.
  const authorized = (
    request: HttpClientRequest.HttpClientRequest
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError | OAuthError> =>
    Effect.flatMap(manager.get, (token) =>
      Effect.flatMap(
        send(request, token),
        (response) =>
          isTokenRejected === undefined && response.status !== 401
            ? Effect.succeed(response)
            : Effect.flatMap(
              judge(request, response),
              (verdict) => verdict.rejected ? recover(request, token, verdict.status) : Effect.succeed(verdict.response)
            )
      ))

  // `makeWith` keeps the client composable: combinators applied to the result run their own stages around ours.
  return HttpClient.makeWith(
    (request: Effect.Effect<HttpClientRequest.HttpClientRequest>) =>
      Effect.flatMap(request, (request) => isListed(request.url) ? authorized(request) : client.execute(request)),
    Effect.succeed
  )
}
