/**
 * DHL eCommerce Americas (Authentication API v4) as a provider of @effect-oauth/core: where its token endpoint is,
 * how the token request looks on the wire, how its problem-format errors map to typed errors, how its APIs say a
 * token is no longer good, and when to refresh its 60-minute tokens.
 *
 * @since 0.1.0
 */
import type * as AuthorizedClient from "@effect-oauth/core/AuthorizedClient"
import { InvalidCredentials, type TokenError, TokenRequestRejected } from "@effect-oauth/core/OAuthError"
import type * as Provider from "@effect-oauth/core/Provider"
import type * as RefreshPolicy from "@effect-oauth/core/RefreshPolicy"
import type * as TokenEndpoint from "@effect-oauth/core/TokenEndpoint"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { describeProblem, hasTitle, problemCode } from "./internal/problem.js"

/**
 * A DHL eCommerce Americas environment: `sandbox` (`https://api-sandbox.dhlecs.com`) or `production`
 * (`https://api.dhlecs.com`).
 *
 * @since 0.1.0
 * @category models
 */
export type Environment = "sandbox" | "production"

/**
 * Every `Environment`, in the order configuration errors list them.
 *
 * @since 0.1.0
 * @category constants
 */
export const environments: ReadonlyArray<Environment> = ["sandbox", "production"]

/**
 * The API base URL of each environment; the token endpoint and every API live under it.
 *
 * @since 0.1.0
 * @category constants
 */
export const baseUrls: { readonly [E in Environment]: string } = {
  sandbox: "https://api-sandbox.dhlecs.com",
  production: "https://api.dhlecs.com"
}

/**
 * The path of the Authentication API v4 token endpoint, under the base URL.
 *
 * @since 0.1.0
 * @category constants
 */
export const tokenPath = "/auth/v4/accesstoken"

/**
 * One entry of a problem's `invalidParams`: the offending parameter and why it was refused.
 *
 * @since 0.1.0
 * @category schemas
 */
export const InvalidParam = Schema.Struct({ name: Schema.String, reason: Schema.String })

/**
 * DHL's problem format, the body of every error its APIs answer (token endpoint included): `type`, a URL whose last
 * segment is the error code `<status>.<service><version><serial>` (e.g. `…/docs/errors/400.0000005`), a `title`
 * (`Invalid credentials`, `Invalid request`, `Access token expired`), an optional `detail` and optional
 * `invalidParams`. Other fields are ignored.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Problem = Schema.Struct({
  type: Schema.String,
  title: Schema.String,
  detail: Schema.optional(Schema.String),
  invalidParams: Schema.optional(Schema.Array(InvalidParam))
})

/**
 * A decoded DHL problem.
 *
 * @since 0.1.0
 * @category models
 */
export interface Problem extends Schema.Schema.Type<typeof Problem> {}

const decodeProblem = Schema.decodeUnknownOption(Problem)

/**
 * The token endpoint's error classifier. A problem titled `Invalid credentials` (any casing) is `InvalidCredentials`
 * whatever its status: DHL's own documentation shows it with 400 (`400.0000005`) and a published sample with 401
 * (`401.0000007`), so the title decides, not the code. Any other problem with status 401 or 403 is
 * `InvalidCredentials` too (the endpoint refused the client, as core's default says), and any other 4xx problem
 * (`Invalid request` with its `invalidParams`) is `TokenRequestRejected`. `error` holds the problem's code (the last
 * segment of `type`), `description` its title, detail and invalid parameters. 408, 429, 5xx and bodies that are not
 * problems return `undefined`: core's RFC 6749 default then applies (`TokenEndpointUnavailable` with `retryAfter`).
 *
 * @since 0.1.0
 * @category classifiers
 */
export const classifyError = (response: TokenEndpoint.ErrorResponse): TokenError | undefined => {
  const { status } = response
  if (status === 408 || status === 429 || status >= 500) return undefined
  const problem = decodeProblem(response.body)
  if (Option.isNone(problem)) return undefined
  const fields = { status, error: problemCode(problem.value.type), description: describeProblem(problem.value) }
  return hasTitle(problem.value, "Invalid credentials") || status === 401 || status === 403
    ? new InvalidCredentials(fields)
    : new TokenRequestRejected(fields)
}

/**
 * How a DHL API says the access token is no longer good: any 401 (`Invalid access token`, `Access token expired`),
 * and a 400 or 403 problem titled `Access token expired`, in case an API answers the expiry with another status.
 * Only 400 and 403 bodies are read (a plain `false` for every other status), so successful responses are never
 * buffered; a body that cannot be read or is not a problem is no rejection. The authorized client then fetches a new
 * token once and replays the request.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isTokenRejected: AuthorizedClient.IsTokenRejected = (response) => {
  if (response.status === 401) return true
  if (response.status !== 400 && response.status !== 403) return false
  return response.json.pipe(
    Effect.map((body) => Option.exists(decodeProblem(body), (problem) => hasTitle(problem, "Access token expired"))),
    Effect.orElseSucceed(() => false)
  )
}

/**
 * The default refresh policy for DHL tokens, over core's defaults. DHL tokens live 60 minutes and DHL advises
 * refreshing every 15 to 30 minutes so that no request meets an expired token: refreshing at 37.5 % of the lifetime
 * ± 10 % jitter puts the refresh 20¼ to 24¾ minutes after a 60-minute token was issued, inside that window whatever
 * the jitter. Being a fraction, it follows the lifetime if DHL shortens it. Override with the `policy` option.
 *
 * @since 0.1.0
 * @category constants
 */
export const refreshPolicy: RefreshPolicy.Options = { refreshAt: 0.375, jitter: 0.1 }

/**
 * The provider for any base URL (a proxy, or the emulator of @effect-oauth/testing): token URL
 * `<baseUrl>/auth/v4/accesstoken`, credentials as `client_id` and `client_secret` next to
 * `grant_type=client_credentials` in an `application/x-www-form-urlencoded` body (no Basic header), as DHL's
 * documentation shows; API requests relative to `baseUrl`. Trailing slashes of `baseUrl` are ignored. The URL is
 * checked when an app is built from the provider: `https:`, plain `http:` only on a loopback host. `name` labels the
 * token manager (default `dhl-ecommerce`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  baseUrl: string | URL,
  options: { readonly name?: string | undefined } = {}
): Provider.Provider => {
  const base = String(baseUrl).replace(/\/+$/, "")
  return {
    name: options.name ?? "dhl-ecommerce",
    tokenUrl: `${base}${tokenPath}`,
    apiBaseUrl: base,
    authMethod: "client_secret_post",
    encoding: "form",
    classifyError,
    isTokenRejected,
    refreshPolicy
  }
}

/**
 * The sandbox environment: `https://api-sandbox.dhlecs.com`.
 *
 * @since 0.1.0
 * @category providers
 */
export const sandbox: Provider.Provider = make(baseUrls.sandbox, { name: "dhl-ecommerce-sandbox" })

/**
 * The production environment: `https://api.dhlecs.com`.
 *
 * @since 0.1.0
 * @category providers
 */
export const production: Provider.Provider = make(baseUrls.production, { name: "dhl-ecommerce-production" })

/**
 * The provider of an environment: `sandbox` or `production`.
 *
 * @since 0.1.0
 * @category providers
 */
export const fromEnvironment = (environment: Environment): Provider.Provider =>
  environment === "sandbox" ? sandbox : production
