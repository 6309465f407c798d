/**
 * The ready `HttpClient` for DHL eCommerce Americas APIs: requests are relative to the environment's base URL and
 * carry a token that is fetched once, refreshed in the background every 20 to 25 minutes, and fetched again when an
 * API answers that it expired.
 *
 * @since 0.1.0
 */
import type * as AuthorizedClient from "@effect-oauth/core/AuthorizedClient"
import * as Provider from "@effect-oauth/core/Provider"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as DhlEcommerceProvider from "./DhlEcommerceProvider.js"

/**
 * The authorized client of one DHL eCommerce Americas app: `client.get("/tracking/v4/package", …)` goes to the
 * configured environment with `Authorization: Bearer …`. Besides the platform's errors, requests fail with the token
 * errors of @effect-oauth/core under their own tags (`InvalidCredentials`, `TokenEndpointUnavailable`, …).
 *
 * @since 0.1.0
 * @category tags
 */
export class DhlEcommerceClient extends Context.Tag("@effect-oauth/dhl/DhlEcommerceClient")<
  DhlEcommerceClient,
  AuthorizedClient.Service
>() {}

/**
 * The options of `make` and `layer`.
 *
 * - `clientId`, `clientSecret`: the app's credentials (the secret `Redacted`).
 * - `environment`: `sandbox` or `production`; it chooses the default base URL.
 * - `baseUrl`: replaces the environment's base URL (a proxy, or the emulator in tests); `https:`, plain `http:`
 *   only on a loopback host. Give `environment`, `baseUrl` or both.
 * - `policy`: refresh policy overrides over `DhlEcommerceProvider.refreshPolicy`.
 * - `name`: labels the token manager's logs and spans; default `dhl-ecommerce-<environment>`, or
 *   `dhl-ecommerce-<host of baseUrl>` without an environment. Give each app its own when a program holds several.
 * - `metricsLabel` (the `manager` label of the token metrics), `store`, `clockSkewWarning`: as in core's
 *   `Provider.Options`.
 * - `timeout`: per token request; default 10 seconds.
 *
 * @since 0.1.0
 * @category models
 */
export type Options = Provider.ClientOptions & Location

/**
 * Where the app's DHL API lives: an `environment`, a `baseUrl`, or both (the base URL then wins).
 *
 * @since 0.1.0
 * @category models
 */
export type Location =
  | { readonly environment: DhlEcommerceProvider.Environment; readonly baseUrl?: string | URL | undefined }
  | { readonly environment?: DhlEcommerceProvider.Environment | undefined; readonly baseUrl: string | URL }

// The provider of `make`'s location, checked at run time too (options may come from JavaScript or a config).
const provider = (options: unknown): Either.Either<Provider.Provider, ConfigError.ConfigError> => {
  if (typeof options !== "object" || options === null) {
    return Either.left(ConfigError.InvalidData([], "the options must be an object"))
  }
  const { baseUrl, environment } = options as { readonly environment?: unknown; readonly baseUrl?: unknown }
  const known = DhlEcommerceProvider.environments.join(", ")
  if (environment !== undefined && !DhlEcommerceProvider.environments.includes(environment as never)) {
    return Either.left(ConfigError.InvalidData(["environment"], `environment must be one of ${known}`))
  }
  if (baseUrl === undefined) {
    return environment === undefined
      ? Either.left(ConfigError.InvalidData(["environment"], `give environment (one of ${known}) or baseUrl`))
      : Either.right(DhlEcommerceProvider.fromEnvironment(environment as DhlEcommerceProvider.Environment))
  }
  return Either.map(Provider.secureUrl(baseUrl, ["baseUrl"]), (url) =>
    DhlEcommerceProvider.make(url, {
      name: `dhl-ecommerce-${environment === undefined ? url.host : String(environment)}`
    }))
}

/**
 * Builds one app: its token manager (whose refresh fiber runs in the current scope) and its authorized client, over
 * the `HttpClient` in context. Call it once per app when a program holds several (an OMS app, a WMS app, a billing
 * app): each gets its own token, refresh fiber and client, nothing shared. Relative request URLs go under the base
 * URL; an absolute URL is sent as it is, with the token only when it is the base URL's origin. Invalid options, from
 * TypeScript or untyped JavaScript, fail with a `ConfigError.InvalidData` naming the option (`environment`,
 * `baseUrl`, `clientId`, `clientSecret`, `policy.<field>`, `timeout`, `name`): never an exception.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  options: Options
) => Effect.Effect<Provider.App, ConfigError.ConfigError, HttpClient.HttpClient | Scope.Scope> = Effect.fn(
  "DhlEcommerceClient.make"
)(function*(options: Options) {
  return yield* Provider.make(yield* provider(options), options)
})

/**
 * A layer providing `DhlEcommerceClient` for one app (built by `make`, its refresh fiber scoped to the layer), over
 * the `HttpClient` in context. It fails with a `ConfigError` when an option is invalid.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<DhlEcommerceClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.scoped(DhlEcommerceClient, Effect.map(make(options), (app) => app.client))

/**
 * The options from environment variables: `DHL_ECOMMERCE_CLIENT_ID`, `DHL_ECOMMERCE_CLIENT_SECRET` (the secret
 * wrapped in `Redacted`), and `DHL_ECOMMERCE_ENVIRONMENT` (`sandbox` or `production`), `DHL_ECOMMERCE_BASE_URL` (a
 * proxy, or the emulator in tests) or both: the environment only chooses a default base URL. A missing or malformed
 * variable fails with a `ConfigError` naming it, never showing the secret. Compose it like any `Config`:
 * `Config.nested(DhlEcommerceClient.config, "OMS")` reads `OMS_DHL_ECOMMERCE_CLIENT_ID` and so on.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.all({
  credentials: Provider.credentialsConfig("DHL_ECOMMERCE"),
  environment: Config.option(Config.literal(...DhlEcommerceProvider.environments)("DHL_ECOMMERCE_ENVIRONMENT")),
  baseUrl: Config.option(Provider.secureUrlConfig("DHL_ECOMMERCE_BASE_URL"))
}).pipe(
  Config.mapOrFail(({ baseUrl, credentials, environment }): Either.Either<Options, ConfigError.ConfigError> => {
    if (Option.isSome(baseUrl)) {
      return Either.right({ ...credentials, environment: Option.getOrUndefined(environment), baseUrl: baseUrl.value })
    }
    if (Option.isSome(environment)) return Either.right({ ...credentials, environment: environment.value })
    return Either.left(
      ConfigError.MissingData(
        ["DHL_ECOMMERCE_ENVIRONMENT"],
        `set DHL_ECOMMERCE_ENVIRONMENT (one of ${DhlEcommerceProvider.environments.join(", ")}) or ` +
          "DHL_ECOMMERCE_BASE_URL"
      )
    )
  })
)

/**
 * A layer reading the options from a `Config` (default: `config`, from environment variables), then as `layer`.
 * The layer fails at build with a `ConfigError` naming the variable that is missing or malformed.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<Options> = config
): Layer.Layer<DhlEcommerceClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.scoped(
    DhlEcommerceClient,
    Effect.flatMap(options, (resolved) => Effect.map(make(resolved), (app) => app.client))
  )
