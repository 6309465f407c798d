import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { type AccessToken, isSameToken } from "../AccessToken.js"
import { isTransient, type TokenError, TokenResponseInvalid } from "../OAuthError.js"
import * as RefreshPolicy from "../RefreshPolicy.js"
import type * as TokenEndpoint from "../TokenEndpoint.js"
import { StoreUnavailable } from "../TokenStore.js"
import type * as TokenStore from "../TokenStore.js"
import * as SingleFlight from "./singleFlight.js"
import type { FetchReason, Telemetry } from "./telemetry.js"

/**
 * The manager's own copy of the token. `usableUntil` and `hit` (the effect a cache hit returns) are computed once per
 * token, so a cache hit is one comparison and allocates nothing; `usableUntil` is `-Infinity` without a token and
 * after close, which sends every `get` to the slow path.
 *
 * @internal
 */
export interface Local {
  readonly token: AccessToken | undefined
  readonly usableUntil: number
  readonly hit: Effect.Effect<AccessToken, TokenError>
  readonly hadToken: boolean
  readonly closed: boolean
}

/**
 * How a manager obtains tokens: its local copy, one fetch at a time (single flight), a shared store when there is
 * one (adopt its token, or take its lease and fetch for everyone), a short memory of a failed fetch, and a floor
 * under replacing rejected tokens.
 *
 * - `get`: the hot path (a `Ref` read and a comparison), else a fetch.
 * - `fetch(reason, replacing)`: a new token in place of `replacing`, joining a fetch under way; no failure memory
 *   (the refresh schedule and forced refreshes, which have their own pacing).
 * - `invalidate(token)`: compare-and-drop, locally and in the store.
 * - `lastRequestAt`: when the last token request started (`-Infinity` before any), for the refresh floor.
 * - `changed`: a `Deferred` completed at the next change of the local token (take it before reading `local`).
 * - `follow`: applies the store's changes to the local copy; runs for the manager's life (only with a store).
 * - `close`: makes every later call, and every caller waiting on a fetch, fail at once.
 *
 * @internal
 */
export interface Coordinator {
  readonly local: Effect.Effect<Local>
  readonly lastRequestAt: Effect.Effect<number>
  readonly get: Effect.Effect<AccessToken, TokenError>
  readonly fetch: (reason: FetchReason, replacing: AccessToken | undefined) => Effect.Effect<AccessToken, TokenError>
  readonly invalidate: (token: AccessToken) => Effect.Effect<boolean>
  readonly changed: Effect.Effect<Deferred.Deferred<void>>
  readonly follow: Effect.Effect<void>
  readonly close: Effect.Effect<void>
}

/** @internal */
export interface Options {
  readonly endpoint: TokenEndpoint.Service
  readonly policy: RefreshPolicy.RefreshPolicy
  readonly slot: TokenStore.Slot | undefined
  readonly telemetry: Telemetry
  readonly scope: Scope.Scope
  readonly clock: Clock.Clock
  readonly name: string
}

interface Failure {
  readonly cause: Cause.Cause<TokenError>
  readonly at: number
  readonly until: number
}

// The same floor as the endpoint's minimum accepted lifetime, for tokens from any `TokenEndpoint` implementation: a
// token that is dead on arrival would make every `get` a token request.
const minLifetimeMillis = 1000

const checkLifetime = (token: AccessToken): Exit.Exit<AccessToken, TokenError> =>
  Number.isFinite(token.issuedAt) && Number.isFinite(token.expiresAt) && token.lifetimeMillis >= minLifetimeMillis
    ? Exit.succeed(token)
    : Exit.fail(
      new TokenResponseInvalid({
        status: 200,
        issue: `the token endpoint returned a token living ${
          Number.isFinite(token.lifetimeMillis) ? `${token.lifetimeMillis} ms` : "an invalid time"
        }; the minimum is 1 second`
      })
    )

const noToken = Effect.dieMessage("no token (unreachable: usableUntil is -Infinity)")
const empty: Local = { token: undefined, usableUntil: -Infinity, hit: noToken, hadToken: false, closed: false }

// How long a manager waits, in all, for another holder of the store's lease before fetching itself.
const maxLeaseWait = 60_000
// A store should bound its own commands (shorter); this bound keeps a store that hangs from hanging a caller.
const storeTimeout = Duration.seconds(2)
const storeRetry = 5_000

/** @internal */
export const make = (options: Options): Effect.Effect<Coordinator> =>
  Effect.gen(function*() {
    const { clock, endpoint, policy, slot, telemetry } = options
    const closedMessage = `TokenManager "${options.name}" was used after its scope closed`
    const state = yield* Ref.make(empty)
    const latch = yield* Ref.make(yield* Deferred.make<void>())
    const failure = yield* Ref.make<Failure | undefined>(undefined)
    const lastReplacement = yield* Ref.make(-Infinity)
    const lastRequestAt = yield* Ref.make(-Infinity)
    const storeDownUntil = yield* Ref.make(-Infinity)
    const flight = yield* SingleFlight.make<AccessToken, TokenError>(options.scope, closedMessage)
    const minRefreshInterval = Duration.toMillis(policy.minRefreshInterval)

    const signal = Effect.flatMap(
      Deferred.make<void>(),
      (next) => Effect.flatMap(Ref.getAndSet(latch, next), (previous) => Deferred.succeed(previous, undefined))
    )

    const setToken = (token: AccessToken) =>
      Effect.zipRight(
        Ref.update(state, (current) =>
          current.closed
            ? current
            : {
              token,
              usableUntil: RefreshPolicy.usableUntil(policy, token),
              hit: Effect.succeed(token),
              hadToken: true,
              closed: false
            }),
        signal
      )

    const dropToken = (token: AccessToken | undefined) =>
      Effect.tap(
        Ref.modify(state, (current): [boolean, Local] =>
          current.token !== undefined && (token === undefined || isSameToken(current.token, token))
            ? [true, { ...current, token: undefined, usableUntil: -Infinity, hit: noToken }]
            : [false, current]),
        (dropped) => dropped ? signal : Effect.void
      )

    const isUsable = (token: AccessToken, now: number) => now < RefreshPolicy.usableUntil(policy, token)

    // A token already unusable when it arrives (a custom endpoint stamping old times, a body that took longer than
    // the lifetime) is refused: cached, it would send every caller and the refresh schedule straight back for another.
    const checkUsable = (token: AccessToken, now: number): Exit.Exit<AccessToken, TokenError> =>
      isUsable(token, now) ? Exit.succeed(token) : Exit.fail(
        new TokenResponseInvalid({
          status: 200,
          issue:
            "the token endpoint returned a token that was already unusable when it arrived (its expiry, less the " +
            "expiry margin, had passed)"
        })
      )

    // A remembered failure counts only between its time and its end: a wall clock stepping back forgets it rather
    // than stretching it.
    const isRemembered = (remembered: Failure, now: number) => remembered.at <= now && now < remembered.until

    // A store is an optimisation: whatever goes wrong there (an error, a defect, a timeout), the manager carries on
    // alone; the outage is reported once, and its end too. After a failure the store is left alone for a while, so
    // a store that hangs costs one timeout per `storeRetry`, not one per fetch.
    const viaStore = <A>(operation: Effect.Effect<A, TokenStore.StoreUnavailable>): Effect.Effect<Option.Option<A>> =>
      Effect.flatMap(Ref.get(storeDownUntil), (downUntil) =>
        clock.unsafeCurrentTimeMillis() < downUntil ? Effect.succeedNone : operation.pipe(
          Effect.timeoutFail({
            duration: storeTimeout,
            onTimeout: () =>
              new StoreUnavailable({ detail: `no answer within ${Duration.format(storeTimeout)}` })
          }),
          Effect.tap(() =>
            Effect.flatMap(
              Ref.getAndSet(storeDownUntil, -Infinity),
              (wasDown) => wasDown === -Infinity ? Effect.void : telemetry.storeRecovered
            )
          ),
          Effect.asSome,
          Effect.catchAllCause((cause) =>
            Cause.isInterruptedOnly(cause)
              ? Effect.failCause(cause as Cause.Cause<never>)
              : Effect.flatMap(
                Ref.getAndSet(storeDownUntil, clock.unsafeCurrentTimeMillis() + storeRetry),
                (wasDown) =>
                  Effect.as(
                    wasDown === -Infinity ? telemetry.storeUnavailable(describeStoreFailure(cause)) : Effect.void,
                    Option.none()
                  )
              )
          )
        ))

    // Exactly one token request, reported.
    const request = (reason: FetchReason): Effect.Effect<AccessToken, TokenError> =>
      Effect.gen(function*() {
        if (reason === "invalidated") {
          // A resource server that rejects every token must not turn each API call into a token request. Only a
          // request waits: a replacement another manager already published is adopted at once.
          // Measured as time since the last replacement, so a wall clock stepping back never stretches the wait.
          const since = clock.unsafeCurrentTimeMillis() - (yield* Ref.get(lastReplacement))
          if (since >= 0 && since < minRefreshInterval) {
            yield* Effect.sleep(Duration.millis(minRefreshInterval - since))
          }
          yield* Ref.set(lastReplacement, clock.unsafeCurrentTimeMillis())
        }
        const previous = (yield* Ref.get(state)).token
        yield* Ref.set(lastRequestAt, clock.unsafeCurrentTimeMillis())
        const received = yield* Effect.exit(endpoint.request)
        const now = clock.unsafeCurrentTimeMillis()
        const exit = Exit.flatMap(Exit.flatMap(received, checkLifetime), (token) =>
          checkUsable(token, now))
        if (Exit.isSuccess(exit)) {
          const token = exit.value
          yield* setToken(token)
          yield* Ref.set(failure, undefined)
          yield* telemetry.succeeded(
            reason,
            previous,
            token,
            now,
            previous !== undefined && isUsable(previous, now)
          )
          return token
        }
        // Remembered whatever it was (a defect in a custom endpoint too), so a loop of callers cannot flood.
        const error = Cause.failureOption(exit.cause)
        const retryAfter = Option.isSome(error) && isTransient(error.value) ? error.value.retryAfter : undefined
        const until = now + RefreshPolicy.cooldown(policy, yield* Random.next, retryAfter)
        if (!Cause.isInterruptedOnly(exit.cause)) {
          yield* Ref.set(failure, { cause: exit.cause, at: now, until })
        }
        if (Option.isSome(error)) {
          yield* telemetry.requestFailed(error.value)
          // The refresh schedule reports its own failures, with when it retries.
          if (reason !== "scheduled") {
            yield* telemetry.failed(reason, error.value, Option.none())
          }
        }
        return yield* exit
      })

    // With a store: adopt a token someone else published, or take the lease and fetch for everyone; while another
    // manager holds the lease, wait for its token (bounded), then look again.
    const shared = (reason: FetchReason, replacing: AccessToken | undefined, store: TokenStore.Slot) =>
      Effect.gen(function*() {
        const isReplacing = (token: AccessToken) => replacing !== undefined && isSameToken(token, replacing)
        const deadline = clock.unsafeCurrentTimeMillis() + maxLeaseWait
        // A forced refresh wants a token newer than any it could find; once it has waited for another holder of the
        // lease, that holder's token is one.
        let adoptable = reason !== "forced"
        let busyFloor = 50
        for (;;) {
          const changed = yield* Ref.get(latch)
          const local = yield* Ref.get(state)
          const now = clock.unsafeCurrentTimeMillis()
          if (adoptable && local.token !== undefined && now < local.usableUntil && !isReplacing(local.token)) {
            return local.token
          }
          const current = yield* viaStore(store.get)
          if (Option.isNone(current)) return yield* request(reason)
          if (adoptable && Option.isSome(current.value)) {
            const token = current.value.value
            if (isUsable(token, now) && !isReplacing(token)) {
              yield* setToken(token)
              yield* telemetry.adopted(token)
              return token
            }
          }
          const claim = yield* viaStore(store.claim)
          if (Option.isNone(claim)) return yield* request(reason)
          if (claim.value._tag === "Claimed") {
            const lease = claim.value.lease
            const exit = yield* Effect.exit(request(reason))
            yield* viaStore(Exit.isSuccess(exit) ? store.publish(exit.value, lease) : store.release(lease))
            return yield* exit
          }
          // A floor under the store's `retryIn` (doubling up to a second), so a store answering "busy, retry in 1 ms"
          // costs a few commands per second, not thousands; a published token still wakes the wait at once.
          const wait = Math.min(Math.max(Duration.toMillis(claim.value.retryIn), busyFloor), deadline - now)
          if (wait <= 0) return yield* request(reason)
          yield* Effect.timeoutOption(Deferred.await(changed), Duration.millis(wait))
          busyFloor = Math.min(busyFloor * 2, 1000)
          adoptable = true
        }
      })

    const fetchTask = (reason: FetchReason, replacing: AccessToken | undefined) =>
      Effect.gen(function*() {
        const local = yield* Ref.get(state)
        // Someone replaced the token between this caller's look and the start of its fetch: no request needed.
        if (
          reason !== "forced" && local.token !== undefined && clock.unsafeCurrentTimeMillis() < local.usableUntil &&
          (replacing === undefined || !isSameToken(local.token, replacing))
        ) {
          return local.token
        }
        return yield* (slot === undefined ? request(reason) : shared(reason, replacing, slot))
      }).pipe(
        telemetry.annotate,
        Effect.withSpan("TokenManager.fetch", {
          attributes: { "oauth.manager": options.name, "oauth.fetch_reason": reason }
        })
      )

    const fetch = (reason: FetchReason, replacing: AccessToken | undefined) => flight.run(fetchTask(reason, replacing))

    const closed = Effect.dieMessage(closedMessage)

    // Callers with no usable token: the failure memory answers first, so a loop of failing callers sends nothing.
    const slowGet = (local: Local): Effect.Effect<AccessToken, TokenError> =>
      local.closed ?
        closed :
        Effect.flatMap(Ref.get(failure), (remembered) =>
          remembered !== undefined && isRemembered(remembered, clock.unsafeCurrentTimeMillis())
            ? Effect.failCause(remembered.cause)
            : fetch(local.token !== undefined ? "expired" : local.hadToken ? "invalidated" : "initial", local.token))

    const get: Effect.Effect<AccessToken, TokenError> = Effect.flatMap(
      Ref.get(state),
      (local) => clock.unsafeCurrentTimeMillis() < local.usableUntil ? local.hit : slowGet(local)
    )

    const invalidate = (token: AccessToken) =>
      Effect.gen(function*() {
        if ((yield* Ref.get(state)).closed) return yield* closed
        const dropped = yield* dropToken(token)
        if (dropped) {
          if (slot !== undefined) yield* viaStore(slot.invalidate(token))
          yield* telemetry.invalidated
        }
        return dropped
      })

    const follow = slot === undefined ? Effect.void : Stream.runForEach(slot.changes, (change) =>
      Effect.gen(function*() {
        const local = yield* Ref.get(state)
        if (Option.isNone(change)) {
          // Removed elsewhere (a rejection seen by another process): the next get asks the store again.
          yield* dropToken(undefined)
          return
        }
        const token = change.value
        if (
          !local.closed && isUsable(token, clock.unsafeCurrentTimeMillis()) &&
          (local.token === undefined || !isSameToken(local.token, token))
        ) {
          yield* setToken(token)
          yield* telemetry.adopted(token)
        }
      }))

    const close = Effect.zipRight(
      Ref.set(state, { ...empty, closed: true }),
      Effect.zipRight(flight.close, signal)
    )

    return {
      local: Ref.get(state),
      lastRequestAt: Ref.get(lastRequestAt),
      get,
      fetch,
      invalidate,
      changed: Ref.get(latch),
      follow,
      close
    } satisfies Coordinator
  })

const describeStoreFailure = (cause: Cause.Cause<TokenStore.StoreUnavailable>): string =>
  Option.match(Cause.failureOption(cause), {
    onNone: () => "the store failed unexpectedly",
    onSome: (error) => error.detail
  })
