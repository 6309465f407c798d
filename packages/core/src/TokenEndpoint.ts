/**
 * One call to an OAuth 2.0 token endpoint (RFC 6749 §4.4, client credentials), turned into an `AccessToken` or a
 * typed error.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { AccessToken } from "./AccessToken.js"
import { decodeText, readCapped } from "./internal/body.js"
import * as errors from "./internal/tokenErrors.js"
import { resolve } from "./internal/tokenRequest.js"
import * as response from "./internal/tokenResponse.js"
import { TokenEndpointUnavailable, type TokenError, TokenRequestRejected, TokenResponseInvalid } from "./OAuthError.js"

/**
 * A token endpoint: `request` performs exactly one token request (no retries, no caching: the `TokenManager` does
 * those) and fails only with the token errors. `key`, when set, is a canonical, non-secret identity of the token this
 * endpoint obtains, for stores shared between processes: two endpoints with the same key get interchangeable tokens.
 * `make` sets it to `<token URL without fragment> client_id=<id>`, followed by ` scope=…` (the scopes sorted),
 * ` audience=…`, ` resource=…` (each resource, sorted) and the `extraParams` (sorted) when configured, every value
 * form-urlencoded, and ` headers=<fingerprint>` for extra headers; it never contains the secret or a header value.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly request: Effect.Effect<AccessToken, TokenError>
  readonly key?: string | undefined
}

/**
 * The token endpoint service.
 *
 * @since 0.1.0
 * @category tags
 */
export class TokenEndpoint extends Context.Tag("@effect-oauth/core/TokenEndpoint")<TokenEndpoint, Service>() {}

/**
 * How the client authenticates (RFC 6749 §2.3.1): `client_secret_basic` sends `Authorization: Basic` with the id and
 * secret form-urlencoded first, as the RFC says; `client_secret_basic_plain` sends them unencoded, for servers that do
 * not decode; `client_secret_post` puts `client_id` and `client_secret` in the body.
 *
 * @since 0.1.0
 * @category models
 */
export type AuthMethod = "client_secret_basic" | "client_secret_basic_plain" | "client_secret_post"

/**
 * The request body's encoding: `form` (`application/x-www-form-urlencoded`, the RFC's), `multipart`
 * (`multipart/form-data` as RFC 7578 defines it and `curl -F` sends it; encoded by this library into bytes with a
 * random boundary, so it works with every `HttpClient` implementation) or `json`.
 *
 * @since 0.1.0
 * @category models
 */
export type Encoding = "form" | "multipart" | "json"

/**
 * A decoded successful token response, normalised from the wire: `expiresIn` in seconds and `createdAt` (the
 * server's issue time) in Unix seconds, when present.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenResponse {
  readonly accessToken: Redacted.Redacted<string>
  readonly tokenType: string
  readonly expiresIn: Option.Option<number>
  readonly scope: Option.Option<string>
  readonly createdAt: Option.Option<number>
}

/**
 * What the error classifier sees of a non-2xx answer: the status, the headers, the body (parsed as JSON when it
 * was JSON, else the text) and `receivedAt`, the `Clock` time of receipt in epoch milliseconds, so that a pure
 * classifier can turn a `Retry-After` HTTP-date into a delay (see `parseRetryAfter`). The body is read up to
 * `maxResponseBytes`: when it went on beyond, `truncated` is true and `body` is the text read so far (never parsed).
 *
 * @since 0.1.0
 * @category models
 */
export interface ErrorResponse {
  readonly status: number
  readonly headers: HttpClientResponse.HttpClientResponse["headers"]
  readonly body: unknown
  readonly receivedAt: number
  readonly truncated?: boolean | undefined
}

/**
 * The options of `make`.
 *
 * - `tokenUrl`: HTTPS, or HTTP on a loopback host only.
 * - `authMethod`: default `client_secret_basic`.
 * - `encoding`: default `form`.
 * - `scope` (space-joined when a list), `audience`, `resource` (repeated when a list, an array in JSON),
 *   `extraParams`: body fields. `extraParams` must not repeat a field the other options own (`grant_type`,
 *   `client_id`, `client_secret`, `scope`, `audience`, `resource`).
 * - `headers`: extra request headers (`Accept: application/json` is sent unless overridden).
 * - `responseSchema`: decodes the parsed JSON body; default `TokenResponseSchema` (RFC 6749 §5.1). Whatever schema
 *   is used, the endpoint then requires an `access_token` of printable ASCII (`1*VSCHAR`, RFC 6749 A.12), a
 *   `token_type` of `Bearer` (any case) and a lifetime of at least 1 second.
 * - `classifyError`: maps a non-2xx, non-3xx answer to a typed error, or `undefined` to fall back to
 *   `classifyRfc6749Error`. The text fields of whatever it returns are truncated and scrubbed of the client secret.
 * - `timeout`: per request, default 10 seconds: it covers connecting, the headers and reading the whole body.
 * - `defaultLifetime`: assumed when the response has no `expires_in`, default 1 hour, at least 1 second.
 * - `maxResponseBytes`: the most of a response body that is read, default 64 KiB (a token response is a few hundred
 *   bytes). A longer 2xx body fails with `TokenResponseInvalid`; a longer error body is classified from what was
 *   read (see `ErrorResponse.truncated`). The bytes are counted after any transparent decompression, so a small
 *   compressed body that inflates without bound is cut at the cap too.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly tokenUrl: string | URL
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly authMethod?: AuthMethod | undefined
  readonly encoding?: Encoding | undefined
  readonly scope?: string | ReadonlyArray<string> | undefined
  readonly audience?: string | undefined
  readonly resource?: string | ReadonlyArray<string> | undefined
  readonly extraParams?: Readonly<Record<string, string>> | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly responseSchema?: Schema.Schema<TokenResponse, any> | undefined
  readonly classifyError?: ((response: ErrorResponse) => TokenError | undefined) | undefined
  readonly timeout?: Duration.DurationInput | undefined
  readonly defaultLifetime?: Duration.DurationInput | undefined
  readonly maxResponseBytes?: number | undefined
}

/**
 * The RFC 6749 §5.1 success body: `access_token` (a non-empty string, redacted at once), `token_type` (taken as
 * `Bearer` when missing: the RFC requires it but the client only ever sends `Bearer`, so refusing a usable token over
 * it would help no one), `expires_in` (a number or a numeric string, as UPS and USPS send it; finite and at least 1
 * second), `scope`, and Bringg's `created_at` (Unix seconds; kept for skew diagnostics only, so a value that is not a
 * number is ignored rather than failing the fetch). `null` counts as missing; other fields are ignored.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TokenResponseSchema: typeof response.TokenResponseSchema = response.TokenResponseSchema

/**
 * The longest delay `parseRetryAfter` returns: 10 minutes. A server asking for more (a 400-digit number, a date
 * next year) is read as asking for this much, so that a `Retry-After` can delay token requests but never disable
 * them.
 *
 * @since 0.1.0
 * @category parsing
 */
export const maxRetryAfter: Duration.Duration = errors.maxRetryAfter

/**
 * Reads a `Retry-After` header (RFC 9110 §10.2.3): delta-seconds, or an HTTP-date turned into the delay from `now`
 * (epoch milliseconds, e.g. `ErrorResponse.receivedAt`; a past date gives zero), at most `maxRetryAfter`. Anything
 * else gives `undefined`. Exported for providers' error classifiers.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseRetryAfter: (value: string | undefined, now: number) => Duration.Duration | undefined =
  errors.parseRetryAfter

/**
 * The default error classifier (RFC 6749 §5.2): 429 → `TokenEndpointUnavailable` `RateLimited`; 408 and 5xx →
 * `TokenEndpointUnavailable` `ServerError` (both with `Retry-After` parsed); `invalid_client` or
 * `unauthorized_client`, or a 401/403 without a recognised §5.2 code → `InvalidCredentials`; any other answer
 * (`invalid_request`, `invalid_scope`, `unsupported_grant_type`, `invalid_grant`, unknown) → `TokenRequestRejected`.
 * The server's `error` and `error_description` are carried as sent (the endpoint then scrubs the secret and truncates
 * them: scrubbing must come first, or a cut could leave part of the secret); a body that is not JSON is described by
 * type and size only.
 *
 * @since 0.1.0
 * @category classifiers
 */
export const classifyRfc6749Error: (response: ErrorResponse) => TokenError = errors.classifyRfc6749Error

// A redirect would make the client re-send the credentials to wherever the server points: it is never followed.
// FetchHttpClient reads this from the context at request time; other clients (undici, node:http) do not follow
// redirects anyway. An existing RequestInit is kept, only `redirect` is overridden.
const withoutRedirects = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(
    Effect.serviceOption(FetchHttpClient.RequestInit),
    (init) =>
      Effect.provideService(effect, FetchHttpClient.RequestInit, { ...Option.getOrUndefined(init), redirect: "manual" })
  )

const redirectDrainTimeout = Duration.seconds(1)

const redirectTarget = (status: number, location: string | undefined, base: URL): string => {
  // Browsers hide a manual redirect behind an opaque response with status 0.
  if (status === 0) return "an undisclosed location (opaque redirect)"
  if (location === undefined) return "no Location"
  try {
    return new URL(location, base).origin
  } catch {
    return "an invalid Location"
  }
}

/**
 * Builds the generic RFC 6749 §4.4 client-credentials endpoint. The options are checked first: a bad `tokenUrl`
 * (not absolute; not `https:` unless on a loopback host; carrying userinfo), an empty or non-string `clientId`, a
 * `clientSecret` that is not a non-empty `Redacted` string, an unknown `authMethod` or `encoding`, a field of the
 * wrong type, an `extraParams` key the other options own, a non-positive `timeout`, a `defaultLifetime` under 1
 * second or a `maxResponseBytes` that is not a positive whole number fails with a `ConfigError.InvalidData` whose
 * path names the option; nothing is thrown. Each `request` then makes exactly one POST: no redirect followed, the
 * body read up to `maxResponseBytes`, a per-request timeout over the whole exchange, and every failure mapped to a
 * `TokenError` that carries short, sanitised text only (never the platform error, the request or its body, which
 * holds the secret; any form of the secret the client sent — raw, form- or percent-encoded, JSON-escaped, the Basic
 * credentials — is replaced by `<redacted>` in whatever the server echoes). It runs in the span
 * `TokenEndpoint.request` (attributes: token URL without query, auth method, encoding, response status), which
 * replaces the HTTP client's own span for this call. The service's `key` identifies the token for shared stores.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: Options) => Effect.Effect<Service, ConfigError.ConfigError, HttpClient.HttpClient> = Effect
  .fn("TokenEndpoint.make")(function*(options: Options) {
    const settings = yield* resolve(options)
    // The platform's own http.client span would record every request and response header (a user header carrying
    // an API key, a server echoing the secret in Location) and propagate trace ids to a third party: the token
    // request is traced by our span alone, whose content is controlled.
    const client = HttpClient.withTracerDisabledWhen(yield* HttpClient.HttpClient, () => true)

    const decodeToken = (status: number, contentType: string | undefined, text: string, receivedAt: number) =>
      Effect.gen(function*() {
        const json = response.parseJson(text)
        if (Option.isNone(json)) {
          return yield* new TokenResponseInvalid({
            status,
            issue: `expected a JSON body, got ${errors.describeBody(contentType, text)}`
          })
        }
        const decoded = yield* Schema.decodeUnknown(settings.schema)(json.value, { errors: "all" }).pipe(
          Effect.mapError((error) =>
            new TokenResponseInvalid({
              status,
              issue: response.describeParseError(error, json.value, settings.hints)
            })
          )
        )
        return yield* response.toAccessToken(status, decoded, receivedAt, settings.defaultLifetimeMillis)
      })

    const handle = (httpResponse: HttpClientResponse.HttpClientResponse) =>
      Effect.gen(function*() {
        const receivedAt = yield* Clock.currentTimeMillis
        const { headers, status } = httpResponse
        yield* Effect.annotateCurrentSpan("http.response.status_code", status)
        if (status === 0 || (status >= 300 && status < 400)) {
          // The body is read (bounded, and given up after a second) only so its socket is released, not pinned by
          // a body that never ends.
          yield* Effect.ignore(
            Effect.timeout(readCapped(httpResponse.stream, settings.maxResponseBytes), redirectDrainTimeout)
          )
          return yield* new TokenRequestRejected({
            status,
            description: `the token endpoint redirected to ${
              redirectTarget(status, headers.location, settings.url)
            }; redirects are not followed (they would re-send the client credentials)`
          })
        }
        const body = yield* readCapped(httpResponse.stream, settings.maxResponseBytes)
        const text = decodeText(body.bytes)
        if (status >= 200 && status < 300) {
          if (body.truncated) {
            return yield* new TokenResponseInvalid({
              status,
              issue: `the body exceeds maxResponseBytes (${settings.maxResponseBytes} bytes): ${
                errors.describeBody(headers["content-type"], text, true)
              }`
            })
          }
          return yield* decodeToken(status, headers["content-type"], text, receivedAt)
        }
        const errorResponse: ErrorResponse = {
          status,
          headers,
          body: body.truncated ? text : Option.getOrElse(response.parseJson(text), () => text),
          receivedAt,
          truncated: body.truncated
        }
        return yield* Effect.fail(
          settings.classifyError?.(errorResponse) ?? errors.classifyRfc6749Error(errorResponse)
        )
      })

    const request: Effect.Effect<AccessToken, TokenError> = withoutRedirects(client.execute(settings.request)).pipe(
      Effect.flatMap(handle),
      // Only a message survives: the platform errors hold the request, whose body or header carries the secret.
      Effect.catchTags({
        RequestError: (error) =>
          new TokenEndpointUnavailable({ reason: "Network", detail: errors.describeCause(error.cause) }),
        ResponseError: (error) =>
          new TokenEndpointUnavailable({
            reason: "Network",
            status: error.response.status,
            detail: `reading the response failed: ${errors.describeCause(error.cause)}`
          })
      }),
      // Over the whole exchange: connecting, the headers and every byte of the body.
      Effect.timeoutFail({
        duration: settings.timeout,
        onTimeout: () =>
          new TokenEndpointUnavailable({
            reason: "Timeout",
            detail: `no complete answer within ${Duration.format(settings.timeout)}`
          })
      }),
      Effect.mapError((error) => errors.sanitizeError(error, settings.sensitive)),
      Effect.withSpan("TokenEndpoint.request", {
        attributes: {
          "oauth.token_url": settings.url.origin + settings.url.pathname,
          "oauth.auth_method": settings.authMethod,
          "oauth.encoding": settings.encoding
        }
      })
    )
    return TokenEndpoint.of({ request, key: settings.key })
  })

/**
 * A layer building the endpoint with `make`; it fails with the `ConfigError` when the options are invalid.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<TokenEndpoint, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(TokenEndpoint, make(options))

/**
 * A layer reading the options from a `Config` first (e.g. `Config.all({ tokenUrl: Config.string("TOKEN_URL"),
 * clientSecret: Config.redacted("CLIENT_SECRET"), … })`), so a missing or invalid variable fails the layer with a
 * `ConfigError` naming it; then as `layer`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config<Options>
): Layer.Layer<TokenEndpoint, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(TokenEndpoint, Effect.flatMap(config, make))
