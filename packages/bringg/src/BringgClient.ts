/**
 * The ready Bringg Delivery Hub client: an `HttpClient` pre-bound to the account's base URL that carries a cached,
 * refreshed access token and recovers once from a rejected one. One app per `make`; `layer` and `layerConfig` for
 * the common single-app program.
 *
 * @since 0.1.0
 */
import type * as AuthorizedClient from "@effect-oauth/core/AuthorizedClient"
import * as Provider from "@effect-oauth/core/Provider"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as BringgProvider from "./BringgProvider.js"
import * as internal from "./internal/options.js"

/**
 * The Bringg client of the program: requests with a relative URL go to the account's base URL with
 * `Authorization: Bearer <token>`, e.g. `client.post("/services/create_task", { body })`. Besides the platform's
 * errors, a request fails with the token errors under their own tags (`InvalidCredentials` when the secret is wrong
 * or was regenerated) and with `AccessTokenRejected` when Bringg refuses a freshly fetched token too.
 *
 * @since 0.1.0
 * @category tags
 */
export class BringgClient extends Context.Tag("@effect-oauth/bringg/BringgClient")<
  BringgClient,
  AuthorizedClient.Service
>() {}

/**
 * The options of `make` and `layer`: where the account lives (`region` or `baseUrl`, exactly one), the wire format
 * (`encoding`, `authMethod`, see `BringgProvider.Options`) and:
 *
 * - `clientId`, `clientSecret`: the app's credentials (Settings > Integrations > API); the secret as `Redacted`.
 * - `ttl`: the token lifetime to ask for, with its unit (`"30 minutes"`, `Duration.seconds(1800)`; a bare number is
 *   refused), sent as integer seconds in the `ttl` field; without it Bringg applies its defaults (30 minutes for
 *   write APIs, 4 hours for read APIs). Expiry always follows the response's `expires_in`.
 * - `timeout`: per token request, default 10 seconds.
 * - `policy`: refresh policy overrides (see core's `RefreshPolicy`).
 * - `name`: labels the token manager's logs and spans, default `bringg`; give each app its own.
 * - `metricsLabel`: the `manager` label of the token metrics, default the `name`.
 * - `store`: where the token lives, default in memory.
 * - `clockSkewWarning`: log a warning when Bringg's `created_at` is further than this from the local clock,
 *   default 60 seconds (the skew is always reported in the token events and the fetch span).
 *
 * @since 0.1.0
 * @category models
 */
export type Options = BringgProvider.Location & BringgProvider.Options & Provider.ClientOptions & {
  readonly ttl?: Seconds | undefined
}

/**
 * A duration given with its unit: a `Duration` (`Duration.seconds(1800)`) or a string such as `"30 minutes"`. Not a
 * bare number: Bringg counts `ttl` in seconds where Effect reads a number as milliseconds, so `1800` is refused.
 *
 * @since 0.1.0
 * @category models
 */
export type Seconds = Duration.Duration | `${number} ${Duration.Unit}`

/**
 * Builds one Bringg app: its token endpoint, its token manager (whose background refreshes run in the current scope) and
 * its client, over the `HttpClient` in context; returns the client and the manager (for `events`, a forced
 * `refresh` or a readiness check with `get`). Call it once per app when a program holds several (an OMS, a WMS and
 * a billing app, as Bringg recommends one app per integration): each gets its own token, refresh schedule and client,
 * sharing nothing. Makes no request. Relative request URLs go under the account's base URL; an absolute URL is sent
 * as it is, with the token only when it is the account's origin. Invalid options, from TypeScript or untyped
 * JavaScript, fail with a `ConfigError.InvalidData` naming the field (`region`, `baseUrl`, `ttl`, `clientId`,
 * `clientSecret`, `encoding`, `authMethod`, `timeout`, `policy.<field>`, `name`): never an exception.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  options: Options
) => Effect.Effect<Provider.App, ConfigError.ConfigError, HttpClient.HttpClient | Scope.Scope> = Effect.fn(
  "BringgClient.make"
)(function*(options: Options) {
  const location = yield* internal.location(options)
  const ttl = yield* internal.ttlField(options.ttl)
  const provider = BringgProvider.make(location, { encoding: options.encoding, authMethod: options.authMethod })
  return yield* Provider.make(provider, { ...options, extraParams: ttl === undefined ? undefined : { ttl } })
})

/**
 * A layer providing `BringgClient` for one app built by `make`, its background refreshes scoped to the layer, over the
 * `HttpClient` in context. It fails with a `ConfigError` naming the field when an option is invalid.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<BringgClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.scoped(BringgClient, Effect.map(make(options), (app) => app.client))

const positiveSeconds = Config.integer("BRINGG_TTL").pipe(
  Config.validate({ message: "BRINGG_TTL must be a positive whole number of seconds", validation: (n) => n > 0 })
)

/**
 * The options from the environment: `BRINGG_CLIENT_ID` and `BRINGG_CLIENT_SECRET` (read with `Config.redacted`),
 * exactly one of `BRINGG_REGION` (one of `us2`, `us3`, `eu2`, `eu3`, `app`) and `BRINGG_BASE_URL`, and optionally
 * `BRINGG_TTL` (positive integer seconds). A missing or malformed variable fails with a `ConfigError` naming it,
 * never showing the secret. Nest it for several apps, e.g. `Config.nested(BringgClient.config, "OMS")`.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.all({
  credentials: Provider.credentialsConfig("BRINGG"),
  region: Config.option(Config.literal(...internal.regionNames)("BRINGG_REGION")),
  baseUrl: Config.option(Provider.secureUrlConfig("BRINGG_BASE_URL")),
  ttl: Config.option(positiveSeconds)
}).pipe(
  Config.mapOrFail(({ baseUrl, credentials, region, ttl }): Either.Either<Options, ConfigError.ConfigError> => {
    const rest = { ...credentials, ttl: Option.getOrUndefined(Option.map(ttl, Duration.seconds)) }
    if (Option.isSome(region) && Option.isSome(baseUrl)) {
      return Either.left(
        ConfigError.InvalidData(["BRINGG_BASE_URL"], "BRINGG_REGION and BRINGG_BASE_URL are both set: set only one")
      )
    }
    if (Option.isSome(region)) return Either.right({ ...rest, region: region.value })
    if (Option.isSome(baseUrl)) return Either.right({ ...rest, baseUrl: baseUrl.value })
    return Either.left(
      ConfigError.MissingData(
        ["BRINGG_REGION"],
        `set BRINGG_REGION (one of ${internal.regionNames.join(", ")}) or BRINGG_BASE_URL`
      )
    )
  })
)

/**
 * A layer reading the options from `options` (default: `config`, the `BRINGG_*` environment variables), then as
 * `layer`. A missing or malformed variable fails the build with a `ConfigError` naming it (with the default config,
 * an insecure `BRINGG_BASE_URL` too), never the secret's value.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<Options> = config
): Layer.Layer<BringgClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.scoped(
    BringgClient,
    Effect.map(Effect.flatMap(options, make), (app) => app.client)
  )
