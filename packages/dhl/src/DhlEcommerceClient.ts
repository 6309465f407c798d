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
 * - `environment`: `sandbox` or `production`.
 * - `baseUrl`: replaces the environment's base URL (a proxy, or the emulator in tests); `https:`, plain `http:`
 *   only on a loopback host.
 * - `policy`: refresh policy overrides over `DhlEcommerceProvider.refreshPolicy`.
 * - `name`: labels the token manager's logs, spans and metrics; default `dhl-ecommerce-<environment>`. Give each app
 *   its own when a program holds several.
 * - `store`: where the token lives; default in memory.
 * - `timeout`: per token request; default 10 seconds.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Provider.AppOptions {
  readonly environment: DhlEcommerceProvider.Environment
  readonly baseUrl?: string | URL | undefined
}

/**
 * Builds one app: its token manager (whose refresh fiber runs in the current scope) and its authorized client, over
 * the `HttpClient` in context. Call it once per app when a program holds several (an OMS app, a WMS app, a billing
 * app): each gets its own token, refresh fiber and client, nothing shared. Fails with a `ConfigError.InvalidData`
 * naming the option (`environment`, `baseUrl`, `clientId`, `clientSecret`, `policy`, `timeout`) when one is invalid.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  options: Options
) => Effect.Effect<Provider.App, ConfigError.ConfigError, HttpClient.HttpClient | Scope.Scope> = Effect.fn(
  "DhlEcommerceClient.make"
)(function*(options: Options) {
  const { environment } = options
  if (!DhlEcommerceProvider.environments.includes(environment)) {
    return yield* Effect.fail(
      ConfigError.InvalidData(
        ["environment"],
        `environment must be one of ${DhlEcommerceProvider.environments.join(", ")}`
      )
    )
  }
  const provider = options.baseUrl === undefined
    ? DhlEcommerceProvider.fromEnvironment(environment)
    : DhlEcommerceProvider.make(yield* Provider.secureUrl(options.baseUrl, ["baseUrl"]), {
      name: `dhl-ecommerce-${environment}`
    })
  return yield* Provider.makeApp(provider, options)
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
 * The options from environment variables: `DHL_ECOMMERCE_CLIENT_ID`, `DHL_ECOMMERCE_CLIENT_SECRET` (read as
 * `Config.redacted`), `DHL_ECOMMERCE_ENVIRONMENT` (`sandbox` or `production`, required) and the optional
 * `DHL_ECOMMERCE_BASE_URL`, which replaces the environment's base URL (a proxy, or the emulator in tests). A missing
 * or malformed variable fails with a `ConfigError` naming it, never showing the secret. Compose it like any `Config`:
 * `Config.nested(DhlEcommerceClient.config, "OMS")` reads `OMS_DHL_ECOMMERCE_CLIENT_ID` and so on.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.all({
  credentials: Provider.credentialsConfig("DHL_ECOMMERCE"),
  environment: Config.literal(...DhlEcommerceProvider.environments)("DHL_ECOMMERCE_ENVIRONMENT"),
  baseUrl: Config.option(Provider.secureUrlConfig("DHL_ECOMMERCE_BASE_URL"))
}).pipe(
  Config.map(({ baseUrl, credentials, environment }): Options => ({
    ...credentials,
    environment,
    baseUrl: Option.getOrUndefined(baseUrl)
  }))
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
