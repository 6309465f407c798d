/**
 * Keeps a valid access token at hand: one shared fetch for concurrent callers, a background refresh before expiry,
 * retries with backoff while the current token is still usable, and typed errors once it is not.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { type AccessToken, isSameToken } from "./AccessToken.js"
import { isTransient, type TokenError } from "./OAuthError.js"
import * as RefreshPolicy from "./RefreshPolicy.js"
import { TokenEndpoint } from "./TokenEndpoint.js"
import type * as TokenEndpointModule from "./TokenEndpoint.js"
import * as TokenStore from "./TokenStore.js"

/**
 * The token manager.
 *
 * - `get`: a usable token; from the cache when it holds one (one `Ref` read), else from a fetch that every
 *   concurrent caller shares. Fails with the fetch's error when no usable token is left.
 * - `invalidate(token)`: drops `token` if it is still the current one (a resource server rejected it) and says
 *   whether it did; the next `get` fetches a new one, once, however many callers saw the rejection.
 * - `refresh`: fetches a new token now (joining a fetch already under way).
 * - `events`: lifecycle events for logs, metrics and dashboards; never a token or a secret.
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
 * (a resource server rejected it), `scheduled` (the refresh fiber, ahead of expiry) or `forced` (`refresh`).
 *
 * @since 0.1.0
 * @category models
 */
export type FetchReason = "initial" | "expired" | "invalidated" | "scheduled" | "forced"

/**
 * A lifecycle event. Times are epoch milliseconds from `Clock`; `serverClockSkew` is local receipt time minus the
 * server's `created_at` when the provider sends one.
 *
 * - `Fetched`: a token arrived where there was no usable one (`initial`, `expired`, `invalidated`).
 * - `Refreshed`: a token arrived while the previous one was still usable (`scheduled`, `forced`).
 * - `Failed`: a fetch failed; `error` is the error's tag; `retryIn` when the refresh fiber will try again.
 * - `Invalidated`: the current token was dropped after a rejection.
 *
 * @since 0.1.0
 * @category models
 */
export type TokenEvent = Data.TaggedEnum<{
  Fetched: {
    readonly reason: FetchReason
    readonly issuedAt: number
    readonly expiresAt: number
    readonly serverClockSkew: Option.Option<number>
  }
  Refreshed: {
    readonly reason: FetchReason
    readonly issuedAt: number
    readonly expiresAt: number
    readonly serverClockSkew: Option.Option<number>
  }
  Failed: {
    readonly reason: FetchReason
    readonly error: TokenError["_tag"]
    readonly message: string
    readonly retryIn: Option.Option<Duration.Duration>
  }
  Invalidated: {}
}>

/**
 * Constructors and matchers for `TokenEvent`.
 *
 * @since 0.1.0
 * @category models
 */
export const TokenEvent = Data.taggedEnum<TokenEvent>()

/**
 * The options of `make`: the refresh policy (or overrides of its defaults), a token store (default in memory), a
 * name that labels this manager's logs, spans and metrics when a program holds several, and the server clock skew
 * (revealed by a provider's `created_at`) above which a warning is logged (default 60 seconds).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly policy?: RefreshPolicy.Options | undefined
  readonly clockSkewWarning?: Duration.DurationInput | undefined
  readonly store?: TokenStore.Service | undefined
  readonly name?: string | undefined
}

const tokenRequests = Metric.counter("effect_oauth_token_requests_total", {
  description: "Token requests sent to the token endpoint, by outcome",
  incremental: true
})
const tokenFailures = Metric.counter("effect_oauth_token_failures_total", {
  description: "Failed token requests, by error tag",
  incremental: true
})
const tokenAge = Metric.gauge("effect_oauth_token_age_seconds", {
  description: "Age of the token that a new token replaced"
})

/**
 * Builds a token manager over a token endpoint. Scoped: the refresh fiber and any fetch under way run in the scope
 * and stop when it closes, so an idle Node process exits.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(
  endpoint: TokenEndpointModule.Service,
  options: Options = {}
): Effect.fn.Return<Service, never, Scope.Scope> {
  const policy = RefreshPolicy.make(options.policy)
  const store = options.store ?? (yield* TokenStore.makeMemory)
  const name = options.name ?? "default"
  const skewWarning = Duration.toMillis(options.clockSkewWarning ?? Duration.seconds(60))
  const scope = yield* Effect.scope
  const events = yield* Effect.acquireRelease(PubSub.sliding<TokenEvent>(1024), PubSub.shutdown)
  // Wakes the refresh fiber when the current token changes under it (a fetch by a caller, an invalidation).
  const wake = yield* Queue.sliding<void>(1)
  // An empty store after a first token means the token was invalidated (here or, with a shared store, elsewhere).
  const hadToken = yield* Ref.make(false)
  const inflight = yield* Ref.make(Option.none<Deferred.Deferred<AccessToken, TokenError>>())
  const requests = Metric.tagged(tokenRequests, "manager", name)
  const failures = Metric.tagged(tokenFailures, "manager", name)
  const age = Metric.tagged(tokenAge, "manager", name)

  const usable = (token: AccessToken, now: number) => now < RefreshPolicy.usableUntil(policy, token)

  const publish = (event: TokenEvent) => PubSub.publish(events, event)

  const onSuccess = (reason: FetchReason, previous: Option.Option<AccessToken>, token: AccessToken) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const replacedUsable = Option.isSome(previous) && usable(previous.value, now)
      const fields = {
        reason,
        issuedAt: token.issuedAt,
        expiresAt: token.expiresAt,
        serverClockSkew: token.serverClockSkewMillis
      }
      yield* store.set(token)
      yield* Ref.set(hadToken, true)
      yield* Metric.increment(Metric.tagged(requests, "outcome", "success"))
      if (Option.isSome(previous)) yield* Metric.set(age, (now - previous.value.issuedAt) / 1000)
      yield* publish(replacedUsable ? TokenEvent.Refreshed(fields) : TokenEvent.Fetched(fields))
      yield* Effect.logDebug("access token fetched").pipe(
        Effect.annotateLogs({ reason, expiresInSeconds: Math.round(token.lifetimeMillis / 1000) })
      )
      if (Option.isSome(fields.serverClockSkew)) {
        const skew = fields.serverClockSkew.value
        yield* Effect.annotateCurrentSpan("oauth.server_clock_skew_ms", skew)
        // Expiry runs on the local clock, so skew does not break refreshes; it does break a server's own expiry
        // checks and log correlation, which is why it is worth a warning.
        if (Math.abs(skew) > skewWarning) {
          yield* Effect.logWarning("the token server's clock differs from the local clock").pipe(
            Effect.annotateLogs({ skewSeconds: Math.round(skew / 1000) })
          )
        }
      }
    })

  const failed = (reason: FetchReason, error: TokenError, retryIn: Option.Option<Duration.Duration>) =>
    Effect.zipRight(
      publish(TokenEvent.Failed({ reason, error: error._tag, message: error.message, retryIn })),
      Effect.logWarning(reason === "scheduled" ? "access token refresh failed" : "access token fetch failed").pipe(
        Effect.annotateLogs({
          error: error._tag,
          message: error.message,
          retryIn: Option.match(retryIn, { onNone: () => "no retry", onSome: Duration.format })
        })
      )
    )

  // The refresh fiber reports its own failures, with when it will retry; a caller's fetch is reported here.
  const onFailure = (reason: FetchReason, error: TokenError) =>
    Effect.all([
      Metric.increment(Metric.tagged(requests, "outcome", "failure")),
      Metric.increment(Metric.tagged(failures, "error", error._tag)),
      reason === "scheduled" ? Effect.void : failed(reason, error, Option.none())
    ], { discard: true })

  // One fetch at a time: the first caller forks it into the manager's scope (so its own interruption does not cancel
  // the fetch for the others), every caller awaits the same Deferred.
  const fetch = (reason: FetchReason): Effect.Effect<AccessToken, TokenError> =>
    Effect.flatMap(Deferred.make<AccessToken, TokenError>(), (mine) =>
      Effect.flatMap(
        Ref.modify(
          inflight,
          (current) => Option.isSome(current) ? [current.value, current] : [mine, Option.some(mine)]
        ),
        (shared) =>
          shared === mine ? Effect.zipRight(startFetch(reason, mine), Deferred.await(mine)) : Deferred.await(shared)
      ))

  const startFetch = (reason: FetchReason, deferred: Deferred.Deferred<AccessToken, TokenError>) =>
    Effect.gen(function*() {
      const previous = yield* store.get
      const exit = yield* Effect.exit(endpoint.request)
      if (Exit.isSuccess(exit)) {
        yield* onSuccess(reason, previous, exit.value)
      } else if (exit.cause._tag === "Fail") {
        yield* onFailure(reason, exit.cause.error)
      }
      yield* Ref.set(inflight, Option.none())
      yield* Deferred.done(deferred, exit)
      if (Exit.isSuccess(exit)) yield* Queue.offer(wake, undefined)
    }).pipe(
      Effect.onInterrupt(() => Effect.zipRight(Ref.set(inflight, Option.none()), Deferred.interrupt(deferred))),
      Effect.annotateLogs({ "oauth.manager": name }),
      Effect.withSpan("TokenManager.fetch", { attributes: { "oauth.manager": name, "oauth.fetch_reason": reason } }),
      Effect.forkIn(scope)
    )

  // The hot path: one Ref read and a clock read when the cache holds a usable token. The clock is the one in context
  // when the manager was built (the refresh fiber's too), read directly: no span, no fiber, no extra effect.
  const clock = yield* Effect.clock
  const get: Effect.Effect<AccessToken, TokenError> = Effect.flatMap(store.get, (current) =>
    Option.isNone(current)
      ? Effect.flatMap(Ref.get(hadToken), (had) => fetch(had ? "invalidated" : "initial"))
      : usable(current.value, clock.unsafeCurrentTimeMillis())
      ? Effect.succeed(current.value)
      : fetch("expired"))

  const invalidate = Effect.fn("TokenManager.invalidate")(function*(token: AccessToken) {
    yield* Effect.annotateCurrentSpan("oauth.manager", name)
    const dropped = yield* store.invalidate(token)
    if (dropped) {
      yield* publish(TokenEvent.Invalidated())
      yield* Queue.offer(wake, undefined)
      yield* Effect.logInfo("access token invalidated after a rejection")
    }
    return dropped
  })

  // Waits for a wake-up signal or the given time, whichever comes first; true when woken.
  const sleepOrWake = (millis: number) =>
    Effect.raceFirst(Effect.as(Effect.sleep(Duration.millis(millis)), false), Effect.as(Queue.take(wake), true))

  // Refreshes `token` ahead of expiry, retrying transient failures for as long as it stays usable. Succeeds with
  // false when it gave up on the token (a permanent error, or no retry fits before the token becomes unusable).
  const refreshAhead = (token: AccessToken) =>
    Effect.gen(function*() {
      for (let attempt = 1;; attempt++) {
        // A defect (a bug in a custom endpoint or schema) must not kill the refresh fiber: it gives up on this token
        // like on a permanent error, and callers see the defect on their own fetch.
        const result = yield* Effect.either(fetch("scheduled")).pipe(
          Effect.catchAllDefect((defect) =>
            Effect.as(Effect.logError("access token refresh died", Cause.die(defect)), undefined)
          )
        )
        if (result === undefined) return false
        if (Either.isRight(result)) return true
        const error = result.left
        const now = yield* Clock.currentTimeMillis
        const retryAfter = isTransient(error) ? error.retryAfter : undefined
        const delay = RefreshPolicy.retryDelay(policy, attempt, yield* Random.next, retryAfter)
        const retryAt = now + Duration.toMillis(delay)
        if (!isTransient(error) || retryAt >= RefreshPolicy.usableUntil(policy, token)) {
          yield* failed("scheduled", error, Option.none())
          return false
        }
        yield* failed("scheduled", error, Option.some(delay))
        // Woken: the token was replaced or dropped meanwhile, so this one needs no more retries.
        if (yield* sleepOrWake(retryAt - now)) return true
      }
    })

  const refreshLoop = Effect.gen(function*() {
    let givenUp: AccessToken | undefined
    for (;;) {
      yield* Queue.takeAll(wake)
      const current = yield* store.get
      if (Option.isNone(current) || (givenUp !== undefined && isSameToken(givenUp, current.value))) {
        yield* Queue.take(wake)
        continue
      }
      const token = current.value
      const at = RefreshPolicy.refreshPoint(policy, token, yield* Random.next)
      const now = yield* Clock.currentTimeMillis
      if (at > now && (yield* sleepOrWake(at - now))) continue
      const still = yield* store.get
      if (Option.isNone(still) || !isSameToken(still.value, token)) continue
      // Once given up on, the token is left to expire: callers then fetch (and see the error) themselves, and the
      // loop waits for the next token instead of spinning on this one.
      if (!(yield* refreshAhead(token))) givenUp = token
    }
  })

  yield* Effect.forkScoped(
    Effect.annotateLogs(refreshLoop, { "oauth.manager": name })
  )

  return {
    get,
    invalidate,
    refresh: Effect.withSpan(fetch("forced"), "TokenManager.refresh", { attributes: { "oauth.manager": name } }),
    events: Stream.fromPubSub(events)
  } satisfies Service
})

/**
 * A layer building a `TokenManager` over the `TokenEndpoint` in context, with the `TokenStore` in context when
 * there is one (an in-memory store otherwise).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<TokenManager, never, TokenEndpoint> =>
  Layer.scoped(
    TokenManager,
    Effect.gen(function*() {
      const endpoint = yield* TokenEndpoint
      const store = options.store ?? Option.getOrUndefined(yield* Effect.serviceOption(TokenStore.TokenStore))
      return yield* make(endpoint, { ...options, store })
    })
  )
