/**
 * One call to an OAuth 2.0 token endpoint (RFC 6749 §4.4, client credentials), turned into an `AccessToken` or a
 * typed error.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import type * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as EffectEncoding from "effect/Encoding" // `Encoding` is this module's body encoding
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { AccessToken } from "./AccessToken.js"
import * as internal from "./internal/tokenEndpoint.js"
import { parseSecureUrl } from "./internal/url.js"
import {
  InvalidCredentials,
  TokenEndpointUnavailable,
  type TokenError,
  TokenRequestRejected,
  TokenResponseInvalid
} from "./OAuthError.js"

/**
 * A token endpoint: `request` performs exactly one token request (no retries, no caching: the `TokenManager` does
 * those) and fails only with the token errors.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly request: Effect.Effect<AccessToken, TokenError>
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
 * (`multipart/form-data`, as `curl -F` sends) or `json`.
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
 * classifier can turn a `Retry-After` HTTP-date into a delay (see `parseRetryAfter`).
 *
 * @since 0.1.0
 * @category models
 */
export interface ErrorResponse {
  readonly status: number
  readonly headers: HttpClientResponse.HttpClientResponse["headers"]
  readonly body: unknown
  readonly receivedAt: number
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
 * - `responseSchema`: decodes the parsed JSON body; default `TokenResponseSchema` (RFC 6749 §5.1).
 * - `classifyError`: maps a non-2xx, non-3xx answer to a typed error, or `undefined` to fall back to
 *   `classifyRfc6749Error`. The text fields of whatever it returns are truncated and scrubbed of the client secret.
 * - `timeout`: per request, default 10 seconds.
 * - `defaultLifetime`: assumed when the response has no `expires_in`, default 1 hour.
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
}

const ExpiresIn = Schema.Union(Schema.Number, Schema.NumberFromString).pipe(
  Schema.filter((seconds) => Number.isFinite(seconds) && seconds > 0)
)

/**
 * The RFC 6749 §5.1 success body: `access_token` (a non-empty string, redacted at once), `token_type` (taken as
 * `Bearer` when missing: the RFC requires it but the client only ever sends `Bearer`, so refusing a usable token over
 * it would help no one), `expires_in` (a number or a numeric string, as UPS and USPS send it; finite and positive),
 * `scope`, and Bringg's `created_at` (Unix seconds; kept for skew diagnostics only, so a value that is not a number
 * is ignored rather than failing the fetch). `null` counts as missing; other fields are ignored.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TokenResponseSchema = Schema.Struct({
  accessToken: Schema.propertySignature(Schema.Redacted(Schema.NonEmptyString)).pipe(Schema.fromKey("access_token")),
  tokenType: Schema.optionalWith(Schema.String, { nullable: true, default: () => "Bearer" }).pipe(
    Schema.fromKey("token_type")
  ),
  expiresIn: Schema.optionalWith(ExpiresIn, { nullable: true, as: "Option" }).pipe(Schema.fromKey("expires_in")),
  scope: Schema.optionalWith(Schema.String, { nullable: true, as: "Option" }),
  createdAt: Schema.optionalToRequired(Schema.Unknown, Schema.OptionFromSelf(Schema.Number), {
    decode: (createdAt) => Option.filter(createdAt, (u): u is number => typeof u === "number" && Number.isFinite(u)),
    encode: (createdAt) => createdAt
  }).pipe(Schema.fromKey("created_at"))
})

// What `TokenResponseSchema` expects per field, for issues that must not quote the (possibly secret) actual value.
const responseHints: Readonly<Record<string, string>> = {
  body: "expected a JSON object",
  access_token: "expected a non-empty string",
  token_type: "expected a string",
  expires_in: "expected a positive number of seconds (a number or a numeric string)",
  scope: "expected a string"
}

/**
 * Reads a `Retry-After` header (RFC 9110 §10.2.3): delta-seconds, or an HTTP-date turned into the delay from `now`
 * (epoch milliseconds, e.g. `ErrorResponse.receivedAt`; a past date gives zero). Anything else gives `undefined`.
 * Exported for providers' error classifiers.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseRetryAfter: (value: string | undefined, now: number) => Duration.Duration | undefined =
  internal.parseRetryAfter

const rfc6749Errors: ReadonlySet<string> = new Set([
  "invalid_request",
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_scope"
])

const bodyString = (body: unknown, key: string): string | undefined => {
  const value = Predicate.isRecord(body) ? body[key] : undefined
  return typeof value === "string" ? value : undefined
}

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
export const classifyRfc6749Error = (response: ErrorResponse): TokenError => {
  const { status } = response
  const error = bodyString(response.body, "error")
  const description = bodyString(response.body, "error_description")
  if (status === 429 || status === 408 || status >= 500) {
    return new TokenEndpointUnavailable({
      reason: status === 429 ? "RateLimited" : "ServerError",
      status,
      retryAfter: internal.parseRetryAfter(response.headers["retry-after"], response.receivedAt),
      detail: error !== undefined
        ? description === undefined ? error : `${error}: ${description}`
        : typeof response.body === "string"
        ? internal.describeBody(response.headers["content-type"], response.body)
        : undefined
    })
  }
  const recognised = error !== undefined && rfc6749Errors.has(error)
  if (
    error === "invalid_client" || error === "unauthorized_client" || ((status === 401 || status === 403) && !recognised)
  ) {
    return new InvalidCredentials({ status, error, description })
  }
  return new TokenRequestRejected({ status, error, description })
}

const authMethods: ReadonlyArray<AuthMethod> = [
  "client_secret_basic",
  "client_secret_basic_plain",
  "client_secret_post"
]
const encodings: ReadonlyArray<Encoding> = ["form", "multipart", "json"]
const reservedParams: ReadonlySet<string> = new Set([
  "grant_type",
  "client_id",
  "client_secret",
  "scope",
  "audience",
  "resource"
])

interface Settings {
  readonly url: URL
  readonly authMethod: AuthMethod
  readonly encoding: Encoding
  readonly timeout: Duration.Duration
  readonly defaultLifetime: Duration.Duration
}

const invalid = (path: Array<string>, message: string) => Either.left(ConfigError.InvalidData(path, message))

const positiveDuration = (
  field: string,
  input: Duration.DurationInput | undefined,
  fallback: Duration.Duration
): Either.Either<Duration.Duration, ConfigError.ConfigError> => {
  const duration = input === undefined ? Option.some(fallback) : Duration.decodeUnknown(input)
  return Option.isSome(duration) && Duration.isFinite(duration.value) &&
      Duration.greaterThan(duration.value, Duration.zero)
    ? Either.right(duration.value)
    : invalid([field], `${field} must be a positive, finite duration`)
}

// Checked once when the endpoint is built, so a misconfiguration fails the layer, naming the option, before any
// request (and before a secret goes anywhere it should not, such as plain HTTP).
const resolve = (options: Options): Either.Either<Settings, ConfigError.ConfigError> => {
  const parsed = parseSecureUrl(options.tokenUrl, ["tokenUrl"])
  if (Either.isLeft(parsed)) return Either.left(parsed.left)
  const url = parsed.right
  const authMethod = options.authMethod ?? "client_secret_basic"
  if (!authMethods.includes(authMethod)) {
    return invalid(["authMethod"], `authMethod must be one of ${authMethods.join(", ")}`)
  }
  const encoding = options.encoding ?? "form"
  if (!encodings.includes(encoding)) {
    return invalid(["encoding"], `encoding must be one of ${encodings.join(", ")}`)
  }
  if (options.clientId.length === 0) {
    return invalid(["clientId"], "clientId must not be empty")
  }
  if (authMethod === "client_secret_basic_plain" && options.clientId.includes(":")) {
    return invalid(
      ["clientId"],
      "clientId must not contain ':' with client_secret_basic_plain (use client_secret_basic)"
    )
  }
  if (Redacted.value(options.clientSecret).length === 0) {
    return invalid(["clientSecret"], "clientSecret must not be empty")
  }
  for (const key of Object.keys(options.extraParams ?? {})) {
    if (reservedParams.has(key)) {
      return invalid(["extraParams", key], `extraParams must not set ${key}: it is set by the endpoint's options`)
    }
  }
  return Either.all({
    timeout: positiveDuration("timeout", options.timeout, Duration.seconds(10)),
    defaultLifetime: positiveDuration("defaultLifetime", options.defaultLifetime, Duration.hours(1))
  }).pipe(Either.map(({ defaultLifetime, timeout }) => ({ url, authMethod, encoding, timeout, defaultLifetime })))
}

const basicCredentials = (options: Options, authMethod: AuthMethod): string | undefined => {
  const secret = Redacted.value(options.clientSecret)
  switch (authMethod) {
    case "client_secret_basic":
      return EffectEncoding.encodeBase64(`${internal.formEncode(options.clientId)}:${internal.formEncode(secret)}`)
    case "client_secret_basic_plain":
      return EffectEncoding.encodeBase64(`${options.clientId}:${secret}`)
    case "client_secret_post":
      return undefined
  }
}

const buildRequest = (
  options: Options,
  settings: Settings,
  basic: string | undefined
): HttpClientRequest.HttpClientRequest => {
  const fields: Array<readonly [string, string | ReadonlyArray<string>]> = [["grant_type", "client_credentials"]]
  if (settings.authMethod === "client_secret_post") {
    fields.push(["client_id", options.clientId], ["client_secret", Redacted.value(options.clientSecret)])
  }
  const scope = typeof options.scope === "string" ? options.scope : options.scope?.join(" ")
  if (scope !== undefined && scope.length > 0) fields.push(["scope", scope])
  if (options.audience !== undefined) fields.push(["audience", options.audience])
  if (options.resource !== undefined) fields.push(["resource", options.resource])
  fields.push(...Object.entries(options.extraParams ?? {}))

  // Lists become repeated fields in form and multipart bodies, arrays in JSON.
  const pairs = fields.flatMap(([key, value]) =>
    typeof value === "string" ? [[key, value] as const] : value.map((item) => [key, item] as const)
  )
  const request = HttpClientRequest.post(settings.url, { acceptJson: true }).pipe(
    HttpClientRequest.setHeaders(options.headers ?? {}),
    basic === undefined ? (request) => request : HttpClientRequest.setHeader("authorization", `Basic ${basic}`)
  )
  switch (settings.encoding) {
    case "form":
      return HttpClientRequest.bodyUrlParams(request, pairs)
    case "multipart": {
      const form = new FormData()
      for (const [key, value] of pairs) form.append(key, value)
      return HttpClientRequest.bodyFormData(request, form)
    }
    case "json":
      return HttpClientRequest.bodyUnsafeJson(request, Object.fromEntries(fields))
  }
}

// A redirect would make the client re-send the credentials to wherever the server points: it is never followed.
// FetchHttpClient reads this from the context at request time; other clients (undici, node:http) do not follow
// redirects anyway. An existing RequestInit is kept, only `redirect` is overridden.
const withoutRedirects = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(
    Effect.serviceOption(FetchHttpClient.RequestInit),
    (init) =>
      Effect.provideService(effect, FetchHttpClient.RequestInit, { ...Option.getOrUndefined(init), redirect: "manual" })
  )

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
 * (not absolute; not `https:` unless on a loopback host; carrying userinfo), an empty `clientId` or `clientSecret`,
 * an `extraParams` key the other options own, or a non-positive `timeout`/`defaultLifetime` fails with a
 * `ConfigError.InvalidData` whose path names the option. Each `request` then makes exactly one POST: no redirect
 * followed, a per-request timeout, and every failure mapped to a `TokenError` that carries short, sanitised text
 * only (never the platform error, the request or its body, which holds the secret). It runs in the span
 * `TokenEndpoint.request` (attributes: token URL without query, auth method, encoding, response status), which
 * replaces the HTTP client's own span for this call.
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
    const basic = basicCredentials(options, settings.authMethod)
    const httpRequest = buildRequest(options, settings, basic)
    const secret = Redacted.value(options.clientSecret)
    // Every form the secret takes on the wire, in case a server echoes it back in an error.
    const sensitive = [secret, internal.formEncode(secret), encodeURIComponent(secret), ...(basic ? [basic] : [])]
    const schema = options.responseSchema ?? TokenResponseSchema
    const hints = options.responseSchema === undefined ? responseHints : {}
    const defaultLifetimeMillis = Duration.toMillis(settings.defaultLifetime)

    const decodeToken = (status: number, contentType: string | undefined, text: string, receivedAt: number) =>
      Effect.gen(function*() {
        const json = internal.parseJson(text)
        if (Option.isNone(json)) {
          return yield* new TokenResponseInvalid({
            status,
            issue: `expected a JSON body, got ${internal.describeBody(contentType, text)}`
          })
        }
        const response = yield* Schema.decodeUnknown(schema)(json.value, { errors: "all" }).pipe(
          Effect.mapError((error) =>
            new TokenResponseInvalid({ status, issue: internal.describeParseError(error, json.value, hints) })
          )
        )
        const lifetimeMillis = Option.match(response.expiresIn, {
          onNone: () => defaultLifetimeMillis,
          onSome: (seconds) => seconds * 1000
        })
        // A custom schema may let a non-positive value through, and a huge one overflows: neither is a lifetime.
        if (!(Number.isFinite(lifetimeMillis) && lifetimeMillis > 0)) {
          return yield* new TokenResponseInvalid({ status, issue: `expires_in: ${responseHints.expires_in}` })
        }
        return new AccessToken({
          value: response.accessToken,
          tokenType: response.tokenType,
          issuedAt: receivedAt,
          expiresAt: receivedAt + lifetimeMillis,
          scope: response.scope,
          serverCreatedAt: Option.map(response.createdAt, (seconds) => seconds * 1000)
        })
      })

    const handle = (response: HttpClientResponse.HttpClientResponse) =>
      Effect.gen(function*() {
        const receivedAt = yield* Clock.currentTimeMillis
        const { headers, status } = response
        yield* Effect.annotateCurrentSpan("http.response.status_code", status)
        if (status === 0 || (status >= 300 && status < 400)) {
          return yield* new TokenRequestRejected({
            status,
            description: `the token endpoint redirected to ${
              redirectTarget(status, headers.location, settings.url)
            }; redirects are not followed (they would re-send the client credentials)`
          })
        }
        const text = yield* response.text
        if (status >= 200 && status < 300) {
          return yield* decodeToken(status, headers["content-type"], text, receivedAt)
        }
        const errorResponse: ErrorResponse = {
          status,
          headers,
          body: Option.getOrElse(internal.parseJson(text), () => text),
          receivedAt
        }
        return yield* Effect.fail(options.classifyError?.(errorResponse) ?? classifyRfc6749Error(errorResponse))
      })

    const request: Effect.Effect<AccessToken, TokenError> = withoutRedirects(client.execute(httpRequest)).pipe(
      Effect.flatMap(handle),
      // Only a message survives: the platform errors hold the request, whose body or header carries the secret.
      Effect.catchTags({
        RequestError: (error) =>
          new TokenEndpointUnavailable({ reason: "Network", detail: internal.describeCause(error.cause) }),
        ResponseError: (error) =>
          new TokenEndpointUnavailable({
            reason: "Network",
            status: error.response.status,
            detail: `reading the response failed: ${internal.describeCause(error.cause)}`
          })
      }),
      Effect.timeoutFail({
        duration: settings.timeout,
        onTimeout: () =>
          new TokenEndpointUnavailable({
            reason: "Timeout",
            detail: `no answer within ${Duration.format(settings.timeout)}`
          })
      }),
      Effect.mapError((error) => internal.sanitizeError(error, sensitive)),
      Effect.withSpan("TokenEndpoint.request", {
        attributes: {
          "oauth.token_url": settings.url.origin + settings.url.pathname,
          "oauth.auth_method": settings.authMethod,
          "oauth.encoding": settings.encoding
        }
      })
    )
    return TokenEndpoint.of({ request })
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
