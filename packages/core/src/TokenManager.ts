/**
 * Keeps a valid access token at hand: one shared fetch for concurrent callers, a background refresh before expiry,
 * retries with backoff while the current token is still usable, and typed errors once it is not.
 *
 * @since 0.1.0
 */
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type { AccessToken } from "./AccessToken.js"
import * as Background from "./internal/background.js"
import * as Coordinator from "./internal/coordinator.js"
import * as Telemetry from "./internal/telemetry.js"
import type { TokenError } from "./OAuthError.js"
import * as RefreshPolicy from "./RefreshPolicy.js"
import { TokenEndpoint } from "./TokenEndpoint.js"
import type * as TokenEndpointModule from "./TokenEndpoint.js"
import * as TokenStore from "./TokenStore.js"

/**
 * The token manager.
 *
 * - `get`: a usable token; from the cache when it holds one (one `Ref` read), else from a fetch that every
 *   concurrent caller shares. Fails with the fetch's error when no usable token is left; a failed fetch is
 *   remembered for the policy's `failureCooldown` (or the server's `Retry-After`), during which callers get the same
 *   error at once, with no request.
 * - `invalidate(token)`: drops `token` if it is still the current one (a resource server rejected it) and says
 *   whether it did; the next `get` fetches a new one, once, however many callers saw the rejection.
 * - `refresh`: fetches a new token now (joining a fetch already under way), whatever the failure memory says.
 * - `events`: lifecycle events for logs, metrics and dashboards; never a token or a secret.
 *
 * Once the manager's scope has closed, every call fails at once with a defect saying so (never a hang).
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly get: Effect.Effect<AccessToken, TokenError>
  readonly invalidate: (token: AccessToken) => Effect.Effect<boolean>
  readonly refresh: Effect.Effect<AccessToken, TokenError>
  readonly events: Stream.Stream<TokenEvent>
}

/**
 * The token manager service.
 *
 * @since 0.1.0
 * @category tags
 */
export class TokenManager extends Context.Tag("@effect-oauth/core/TokenManager")<TokenManager, Service>() {}

/**
 * Why a token was fetched: `initial` (none yet), `expired` (the current one became unusable), `invalidated`
 * (a resource server rejected it), `scheduled` (a background refresh, ahead of expiry) or `forced` (`refresh`).
 *
 * @since 0.1.0
 * @category models
 */
export type FetchReason = Telemetry.FetchReason

/**
 * A lifecycle event. Times are epoch milliseconds from `Clock`; `serverClockSkew` is local receipt time minus the
 * server's `created_at` when the provider sends one.
 *
 * - `Fetched`: a token arrived where there was no usable one (`initial`, `expired`, `invalidated`).
 * - `Refreshed`: a token arrived while the previous one was still usable (`scheduled`, `forced`).
 * - `Adopted`: a token fetched by another manager sharing the token store replaced this one's.
 * - `Failed`: a fetch failed; `error` is the error's tag; `retryIn` when the background refresh will try again.
 * - `Invalidated`: the current token was dropped after a rejection.
 * - `StoreUnavailable`, `StoreRecovered`: the token store failed (the manager works alone meanwhile) and answers
 *   again; once per outage.
 *
 * @since 0.1.0
 * @category models
 */
export type TokenEvent = Telemetry.TokenEvent

/**
 * Constructors and matchers for `TokenEvent`.
 *
 * @since 0.1.0
 * @category models
 */
export const TokenEvent = Telemetry.TokenEvent

/**
 * The options of `make`.
 *
 * - `policy`: the refresh policy, or overrides of its defaults (see `RefreshPolicy`).
 * - `name`: labels this manager's logs (`oauth.manager`) and spans when a program holds several; default `default`.
 * - `metricsLabel`: the `manager` label of its metrics; default the `name`. Every distinct label is a metric series
 *   that outlives the manager, so a program creating managers per tenant should give them one shared label.
 * - `store`: a token store shared with other managers (e.g. a fleet store on Redis); default none (alone).
 * - `clockSkewWarning`: the server clock skew (revealed by a provider's `created_at`) above which a warning is
 *   logged; default 60 seconds.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly policy?: RefreshPolicy.Options | undefined
  readonly name?: string | undefined
  readonly metricsLabel?: string | undefined
  readonly store?: TokenStore.Service | undefined
  readonly clockSkewWarning?: Duration.DurationInput | undefined
}

const label = (field: string, value: unknown, fallback: string) =>
  value === undefined
    ? Effect.succeed(fallback)
    : typeof value === "string" && value.length > 0
    ? Effect.succeed(value)
    : Effect.fail(ConfigError.InvalidData([field], `${field} must be a non-empty string`))

/**
 * Builds a token manager over a token endpoint. Scoped: background refreshes and any fetch under way run in the scope
 * and stop when it closes, so an idle Node process exits. Invalid options fail with a `ConfigError` naming the
 * field (`policy.<field>`, `name`, `metricsLabel`, `clockSkewWarning`). Makes no request.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(
  endpoint: TokenEndpointModule.Service,
  options: Options = {}
): Effect.fn.Return<Service, ConfigError.ConfigError, Scope.Scope> {
  if (typeof options !== "object" || options === null) {
    return yield* Effect.fail(ConfigError.InvalidData([], "the options must be an object"))
  }
  const policy = yield* Effect.mapError(
    RefreshPolicy.make(options.policy),
    (error) => ConfigError.prefixed(error, ["policy"])
  )
  const name = yield* label("name", options.name, "default")
  const metricsLabel = yield* label("metricsLabel", options.metricsLabel, name)
  const skewWarning = Option.filter(
    options.clockSkewWarning === undefined
      ? Option.some(Duration.seconds(60))
      : typeof options.clockSkewWarning === "number" && !(options.clockSkewWarning >= 0)
      ? Option.none()
      : Duration.decodeUnknown(options.clockSkewWarning),
    Duration.isFinite
  )
  if (Option.isNone(skewWarning)) {
    return yield* Effect.fail(
      ConfigError.InvalidData(["clockSkewWarning"], "clockSkewWarning must be a finite, non-negative duration")
    )
  }
  const store: unknown = options.store
  if (
    store !== undefined && !(typeof store === "object" && store !== null && "slot" in store &&
      typeof store.slot === "function")
  ) {
    return yield* Effect.fail(ConfigError.InvalidData(["store"], "store must be a TokenStore (with a slot function)"))
  }
  const scope = yield* Effect.scope
  const telemetry = new Telemetry.Telemetry(name, metricsLabel, Duration.toMillis(skewWarning.value))
  const key = (endpoint as { readonly key?: string | undefined }).key ?? name
  const slot = options.store === undefined ? undefined : yield* options.store.slot(key)
  const coordinator = new Coordinator.Coordinator({
    endpoint,
    policy,
    slot,
    telemetry,
    scope,
    clock: yield* Effect.clock,
    name,
    inherited: yield* Background.capture
  })
  // Not `Effect.addFinalizer`, which keeps a copy of this fiber's state (~2 KiB) for the finalizer's sake.
  yield* Scope.addFinalizer(scope, Effect.zipRight(coordinator.close, telemetry.close))
  if (slot !== undefined) yield* Effect.forkScoped(coordinator.follow)

  return new Manager(coordinator, telemetry, name)
})

// A class rather than an object literal: one with a getter would be a dictionary (~0.5 KiB), and a multi-tenant
// service holds thousands of managers. `invalidate` is bound, so the service can be destructured.
class Manager implements Service {
  readonly get: Effect.Effect<AccessToken, TokenError>
  readonly invalidate: (token: AccessToken) => Effect.Effect<boolean>
  constructor(
    private readonly coordinator: Coordinator.Coordinator,
    private readonly telemetry: Telemetry.Telemetry,
    private readonly name: string
  ) {
    this.get = coordinator.get
    this.invalidate = (token) =>
      Effect.withSpan(coordinator.invalidate(token), "TokenManager.invalidate", {
        attributes: { "oauth.manager": name },
        captureStackTrace: false
      })
  }
  get refresh(): Effect.Effect<AccessToken, TokenError> {
    return Effect.withSpan(this.coordinator.fetch("forced", undefined), "TokenManager.refresh", {
      attributes: { "oauth.manager": this.name }
    })
  }
  get events(): Stream.Stream<TokenEvent> {
    return this.telemetry.events
  }
}

/**
 * A layer building a `TokenManager` over the `TokenEndpoint` in context, sharing tokens through the `TokenStore`
 * in context when there is one (and `options.store` is not given). Fails with a `ConfigError` on invalid options.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<TokenManager, ConfigError.ConfigError, TokenEndpoint> =>
  Layer.scoped(
    TokenManager,
    Effect.gen(function*() {
      const endpoint = yield* TokenEndpoint
      const store = options.store ?? Option.getOrUndefined(yield* Effect.serviceOption(TokenStore.TokenStore))
      return yield* make(endpoint, { ...options, store })
    })
  )
