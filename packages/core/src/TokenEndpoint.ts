/**
 * One call to an OAuth 2.0 token endpoint (RFC 6749 §4.4, client credentials), turned into an `AccessToken` or a
 * typed error.
 *
 * @since 0.1.0
 */
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { AccessToken } from "./AccessToken.js"
import type { TokenError } from "./OAuthError.js"

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
 * What the error classifier sees of a non-2xx answer: the status, the headers and the body, parsed as JSON when it
 * was JSON, else the text.
 *
 * @since 0.1.0
 * @category models
 */
export interface ErrorResponse {
  readonly status: number
  readonly headers: HttpClientResponse.HttpClientResponse["headers"]
  readonly body: unknown
}

/**
 * The options of `make`.
 *
 * - `tokenUrl`: HTTPS, or HTTP on a loopback host only.
 * - `authMethod`: default `client_secret_basic`.
 * - `encoding`: default `form`.
 * - `scope` (space-joined when a list), `audience`, `resource` (repeated when a list), `extraParams`: extra body fields.
 * - `responseSchema`: decodes the parsed JSON body; default `TokenResponseSchema` (RFC 6749 §5.1).
 * - `classifyError`: maps a non-2xx answer to a typed error, or `undefined` to fall back to the RFC 6749 §5.2 default.
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

// Implementation below (make, layer, layerConfig, TokenResponseSchema, classifyRfc6749Error).
export const _schema = Schema
