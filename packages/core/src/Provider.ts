/**
 * What a provider package supplies (token URL, wire format, how its API says a token expired) and the one call that
 * turns it plus an app's credentials into a ready `HttpClient`.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as AuthorizedClient from "./AuthorizedClient.js"
import * as internal from "./internal/authorizedClient.js"
import * as url from "./internal/url.js"
import * as RefreshPolicy from "./RefreshPolicy.js"
import * as TokenEndpoint from "./TokenEndpoint.js"
import * as TokenManager from "./TokenManager.js"
import type * as TokenStore from "./TokenStore.js"

/**
 * A provider: plain data, one value per region or environment (write it as an object literal typed `Provider`).
 *
 * - `name`: labels the token manager's logs, spans and metrics (unless `make`'s `name` overrides it).
 * - `tokenUrl`, `authMethod`, `encoding`, `responseSchema`, `classifyError`, `extraParams`: the token request, as in
 *   `TokenEndpoint.Options`.
 * - `apiBaseUrl`: prepended to every request's URL, so programs call `client.get("/services/…")`.
 * - `origins`: where the token may go; default: the origin of `apiBaseUrl`.
 * - `isTokenRejected`: how the API says the token is no longer good; default: status 401.
 * - `refreshPolicy`: the provider's defaults over `RefreshPolicy.defaults` (e.g. a refresh interval it recommends).
 *
 * @since 0.1.0
 * @category models
 */
export interface Provider {
  readonly name: string
  readonly tokenUrl: string | URL
  readonly apiBaseUrl: string | URL
  readonly authMethod: TokenEndpoint.AuthMethod
  readonly encoding: TokenEndpoint.Encoding
  readonly responseSchema?: TokenEndpoint.Options["responseSchema"]
  readonly classifyError?: TokenEndpoint.Options["classifyError"]
  readonly isTokenRejected?: AuthorizedClient.IsTokenRejected | undefined
  readonly refreshPolicy?: RefreshPolicy.Options | undefined
  readonly extraParams?: Readonly<Record<string, string>> | undefined
  readonly origins?: ReadonlyArray<string | URL> | undefined
}

/**
 * One app's credentials and request options. `extraParams` are added to the provider's (and win over them on the
 * same key), e.g. Bringg's `ttl`. `timeout` is per token request (default 10 seconds).
 *
 * @since 0.1.0
 * @category models
 */
export interface Credentials {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly scope?: string | ReadonlyArray<string> | undefined
  readonly audience?: string | undefined
  readonly resource?: string | ReadonlyArray<string> | undefined
  readonly extraParams?: Readonly<Record<string, string>> | undefined
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * The options of `make` and `layer`: refresh policy overrides (over the provider's), the token manager's `name`
 * (default: the provider's; give each app its own when a program holds several) and a token store (default: in
 * memory).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly policy?: RefreshPolicy.Options | undefined
  readonly clockSkewWarning?: Duration.DurationInput | undefined
  readonly name?: string | undefined
  readonly store?: TokenStore.Service | undefined
}

/**
 * One connected app: its authorized client (with the provider's API base URL prepended to every request) and its
 * token manager (for `events`, a forced `refresh`, or a readiness check with `get`).
 *
 * @since 0.1.0
 * @category models
 */
export interface App {
  readonly client: AuthorizedClient.Service
  readonly manager: TokenManager.Service
}

/**
 * Builds one app of a provider: its token endpoint, its token manager (whose refresh fiber runs in the current
 * scope) and its authorized client, over the `HttpClient` in context. Call it once per app when a program holds
 * several (an OMS app and a WMS app of the same provider): nothing is shared between the results. Fails with a
 * `ConfigError` naming the option when the provider, the credentials or the policy are invalid.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  provider: Provider,
  credentials: Credentials,
  options?: Options
) => Effect.Effect<App, ConfigError.ConfigError, HttpClient.HttpClient | Scope.Scope> = Effect.fn("Provider.make")(
  function*(provider: Provider, credentials: Credentials, options: Options = {}) {
    const apiBaseUrl = yield* url.parseSecureUrl(provider.apiBaseUrl, ["apiBaseUrl"])
    const origins = provider.origins ?? [apiBaseUrl.origin]
    // Checked before anything is built, so a bad origin fails as a ConfigError (`AuthorizedClient.make` would throw).
    yield* internal.resolveOrigins(origins)
    // Checked here so a bad value fails as a ConfigError, not as a defect inside the manager.
    const policy = { ...provider.refreshPolicy, ...options.policy }
    const resolved = yield* Effect.try({
      try: () => RefreshPolicy.make(policy),
      catch: (error) => ConfigError.InvalidData(["policy"], error instanceof Error ? error.message : String(error))
    })
    const endpoint = yield* TokenEndpoint.make({
      tokenUrl: provider.tokenUrl,
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      authMethod: provider.authMethod,
      encoding: provider.encoding,
      scope: credentials.scope,
      audience: credentials.audience,
      resource: credentials.resource,
      extraParams: provider.extraParams === undefined && credentials.extraParams === undefined
        ? undefined
        : { ...provider.extraParams, ...credentials.extraParams },
      responseSchema: provider.responseSchema,
      classifyError: provider.classifyError,
      timeout: credentials.timeout,
      // One default for a response without expires_in, whether the endpoint or the policy asks.
      defaultLifetime: resolved.defaultLifetime
    })
    const http = yield* HttpClient.HttpClient
    const manager = yield* TokenManager.make(endpoint, {
      policy: resolved,
      name: options.name ?? provider.name,
      store: options.store,
      clockSkewWarning: options.clockSkewWarning
    })
    const authorized = AuthorizedClient.make(http, manager, { origins, isTokenRejected: provider.isTokenRejected })
    const client = HttpClient.mapRequest(authorized, HttpClientRequest.prependUrl(apiBaseUrl.href))
    return { client, manager } satisfies App
  }
)

/**
 * A layer providing the app's `AuthorizedClient` and `TokenManager` (built by `make`, its refresh fiber scoped to
 * the layer), over the `HttpClient` in context. It fails with a `ConfigError` when an option is invalid.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  provider: Provider,
  credentials: Credentials,
  options?: Options
): Layer.Layer<
  AuthorizedClient.AuthorizedClient | TokenManager.TokenManager,
  ConfigError.ConfigError,
  HttpClient.HttpClient
> =>
  Layer.scopedContext(
    Effect.map(
      make(provider, credentials, options),
      ({ client, manager }) =>
        Context.make(AuthorizedClient.AuthorizedClient, client).pipe(Context.add(TokenManager.TokenManager, manager))
    )
  )

/**
 * What a provider package's `make` takes for one app, besides where the provider lives: the app's credentials, the
 * timeout per token request, and the per-app `Options` (`policy`, `name`, `store`, `clockSkewWarning`).
 *
 * @since 0.1.0
 * @category models
 */
export interface AppOptions extends Options {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * `make` for one app described by `AppOptions`, with the provider's own extra token request fields (Bringg's
 * `ttl`): the shape every provider package's `make(options)` reduces to.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeApp = (
  provider: Provider,
  options: AppOptions,
  extraParams?: Readonly<Record<string, string>>
): Effect.Effect<App, ConfigError.ConfigError, HttpClient.HttpClient | Scope.Scope> =>
  make(
    provider,
    { clientId: options.clientId, clientSecret: options.clientSecret, timeout: options.timeout, extraParams },
    { policy: options.policy, name: options.name, store: options.store, clockSkewWarning: options.clockSkewWarning }
  )

/**
 * Reads the client credentials of one app from `<prefix>_CLIENT_ID` and `<prefix>_CLIENT_SECRET` (e.g. `BRINGG`).
 * Both must be present and non-empty; the secret is read with `Config.redacted`, so a `ConfigError` names the
 * variable and never shows its value. Provider packages build their `layerConfig` on it.
 *
 * @since 0.1.0
 * @category config
 */
export const credentialsConfig = (prefix: string): Config.Config<Pick<Credentials, "clientId" | "clientSecret">> =>
  Config.all({
    clientId: Config.nonEmptyString(`${prefix}_CLIENT_ID`),
    clientSecret: Config.redacted(Config.nonEmptyString(`${prefix}_CLIENT_SECRET`))
  })

/**
 * Checks a URL that will receive credentials or tokens: absolute, `https:` (plain `http:` only on a loopback host)
 * and without userinfo. Fails with a `ConfigError.InvalidData` at `path` whose message names the field, so a provider
 * package can validate its own options (`baseUrl`) under the names its users know.
 *
 * @since 0.1.0
 * @category config
 */
export const secureUrl = (
  input: string | URL,
  path: ReadonlyArray<string>
): Either.Either<URL, ConfigError.ConfigError> => url.parseSecureUrl(input, path)

/**
 * Reads a URL from the environment variable `name`, checked as by `secureUrl`: a missing, malformed or insecure
 * value fails with a `ConfigError` naming the variable.
 *
 * @since 0.1.0
 * @category config
 */
export const secureUrlConfig = (name: string): Config.Config<URL> =>
  Config.mapOrFail(Config.string(name), (input) => url.parseSecureUrl(input, [], name))
