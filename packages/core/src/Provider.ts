/**
 * What a provider package supplies (token URL, wire format, how its API says a token expired) and the one call that
 * turns it plus an app's credentials into a ready `HttpClient`.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as AuthorizedClient from "./AuthorizedClient.js"
import * as authorizedClient from "./internal/authorizedClient.js"
import * as internal from "./internal/providerOptions.js"
import * as url from "./internal/url.js"
import type * as RefreshPolicy from "./RefreshPolicy.js"
import * as TokenEndpoint from "./TokenEndpoint.js"
import * as TokenManager from "./TokenManager.js"
import * as TokenStore from "./TokenStore.js"

/**
 * A provider: plain data, one value per region or environment (write it as an object literal typed `Provider`).
 *
 * - `name`: labels the token manager's logs, spans and metrics (unless `make`'s `name` overrides it).
 * - `tokenUrl`, `authMethod`, `encoding`, `responseSchema`, `classifyError`, `extraParams`: the token request, as in
 *   `TokenEndpoint.Options`.
 * - `apiBaseUrl`: prepended to relative request URLs, so programs call `client.get("/services/…")`; an absolute URL
 *   is sent as it is (and carries the token only when its origin is listed).
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
 * (default: the provider's; give each app its own when a program holds several), its `metricsLabel` (default: the
 * name; see `TokenManager.Options`), a token store (default: the `TokenStore` in context, if any; else none) and the clock skew above which a warning is
 * logged (default 60 seconds).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly policy?: RefreshPolicy.Options | undefined
  readonly clockSkewWarning?: Duration.DurationInput | undefined
  readonly name?: string | undefined
  readonly metricsLabel?: string | undefined
  readonly store?: TokenStore.Service | undefined
}

/**
 * Everything one app of a provider needs, in one flat object: its `Credentials` and its `Options`. Provider
 * packages take this shape (plus their own fields) and hand it to `make` as it is.
 *
 * @since 0.1.0
 * @category models
 */
export interface AppOptions extends Credentials, Options {}

/**
 * The per-app part of a provider package's options (`BringgClient.Options`, `DhlEcommerceClient.Options`): the
 * credentials, `timeout` and the manager's `Options`. A provider whose token request takes no scope, audience,
 * resource or extra fields from the user builds its options on it and hands them to `make` as they are.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientOptions extends Omit<AppOptions, "scope" | "audience" | "resource" | "extraParams"> {}

/**
 * One connected app: its authorized client (relative request URLs go under the provider's API base URL; an absolute
 * URL is sent as it is, with the token only when its origin is listed) and its token manager (for `events`, a forced
 * `refresh`, or a readiness check with `get`).
 *
 * @since 0.1.0
 * @category models
 */
export interface App {
  readonly client: AuthorizedClient.Service
  readonly manager: TokenManager.Service
}

/**
 * Builds one app of a provider: its token endpoint, its token manager (whose background refreshes run in the current
 * scope) and its authorized client, over the `HttpClient` in context. Call it once per app when a program holds
 * several (an OMS app and a WMS app of the same provider): nothing is shared between the results. The app's options
 * come as `credentials` and `options`, or flat as one `AppOptions` (`options` then win on the same field). The
 * provider, the
 * credentials and the options are checked once, before anything is built: an invalid one fails with a `ConfigError`
 * naming the field (`apiBaseUrl`, `origins.<i>`, `tokenUrl`, `clientId`, `policy.<field>`, …), never an exception,
 * whatever the input. Makes no request.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  provider: Provider,
  credentials: AppOptions,
  options?: Options
) => Effect.Effect<App, ConfigError.ConfigError, HttpClient.HttpClient | Scope.Scope> = Effect.fn("Provider.make")(
  function*(provider: Provider, credentials: AppOptions, options?: Options) {
    const resolved = yield* internal.resolve(provider, credentials, options)
    const endpoint = yield* TokenEndpoint.make(resolved.endpoint)
    // A store given in the options wins; else the one in context, so `Layer.provide(RedisTokenStore.layer(…))` on a
    // provider's layer shares its token.
    const store = resolved.manager.store ?? Option.getOrUndefined(yield* Effect.serviceOption(TokenStore.TokenStore))
    const manager = yield* TokenManager.make(endpoint, { ...resolved.manager, store })
    const authorized = authorizedClient.build(yield* HttpClient.HttpClient, manager, resolved.client)
    const client = HttpClient.mapRequest(authorized, url.prependToRelative(resolved.apiBaseUrl))
    return { client, manager } satisfies App
  }
)

/**
 * A layer providing the app's `AuthorizedClient` and `TokenManager` (built by `make`, its background refreshes scoped to
 * the layer), over the `HttpClient` in context. It fails with a `ConfigError` when an option is invalid.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  provider: Provider,
  credentials: AppOptions,
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
 * Reads the client credentials of one app from `<prefix>_CLIENT_ID` and `<prefix>_CLIENT_SECRET` (e.g. `BRINGG`).
 * Both must be present and not blank: a missing variable fails with a `ConfigError` naming it, an empty one with
 * `<name> is empty`. The secret is wrapped in `Redacted` as soon as it is read, and no error ever shows its value.
 * Provider packages build their `config` on it.
 *
 * @since 0.1.0
 * @category config
 */
export const credentialsConfig = (prefix: string): Config.Config<Pick<Credentials, "clientId" | "clientSecret">> =>
  Config.all({
    clientId: notBlank(`${prefix}_CLIENT_ID`),
    // Not `Config.redacted`: it replaces every error message with "<redacted>", hiding why the value was refused.
    clientSecret: Config.map(notBlank(`${prefix}_CLIENT_SECRET`), Redacted.make)
  })

// A variable that must be set to something other than blanks; the error names it and never quotes the value.
const notBlank = (name: string): Config.Config<string> =>
  Config.mapOrFail(Config.string(name), (value) =>
    value.trim() === ""
      ? Either.left(ConfigError.InvalidData([], `${name} is empty`))
      : Either.right(value))

/**
 * Checks a URL that will receive credentials or tokens: absolute, `https:` (plain `http:` only on a loopback host)
 * and without userinfo (from untyped input: a string or a `URL`). Fails with a `ConfigError.InvalidData` at `path`
 * whose message names the field, so a provider package can validate its own options (`baseUrl`) under the names its
 * users know.
 *
 * @since 0.1.0
 * @category config
 */
export const secureUrl = (
  input: unknown,
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
