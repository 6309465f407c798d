import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Effectable from "effect/Effectable"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Utils from "effect/Utils"
import { type AccessToken, isSameToken } from "../AccessToken.js"
import { isTransient, type TokenError, TokenResponseInvalid } from "../OAuthError.js"
import * as RefreshPolicy from "../RefreshPolicy.js"
import type * as TokenEndpoint from "../TokenEndpoint.js"
import { StoreUnavailable } from "../TokenStore.js"
import type * as TokenStore from "../TokenStore.js"
import type * as Background from "./background.js"
import { RefreshSchedule } from "./refreshSchedule.js"
import * as SingleFlight from "./singleFlight.js"
import type { FetchReason, Telemetry } from "./telemetry.js"
import { checkLifetime } from "./tokenResponse.js"

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

/** @internal */
export interface Options {
  readonly endpoint: TokenEndpoint.Service
  readonly policy: RefreshPolicy.RefreshPolicy
  readonly slot: TokenStore.Slot | undefined
  readonly telemetry: Telemetry
  readonly scope: Scope.Scope
  readonly clock: Clock.Clock
  readonly name: string
  readonly inherited: Background.Inherited
}

interface Failure {
  readonly cause: Cause.Cause<TokenError>
  readonly at: number
  readonly until: number
}

const noToken = Effect.dieMessage("no token (unreachable: usableUntil is -Infinity)")
const empty: Local = { token: undefined, usableUntil: -Infinity, hit: noToken, hadToken: false, closed: false }
const closedLocal: Local = { ...empty, closed: true }

const selfInterrupted = new Cause.RuntimeException("the token endpoint's request interrupted itself")

// How long a manager waits, in all, for another holder of the store's lease before fetching itself.
const maxLeaseWait = 60_000
// A store should bound its own commands (shorter); this bound keeps a store that hangs from hanging a caller.
const storeTimeout = Duration.seconds(2)
const storeRetry = 5_000

// `get` as an effect of its own: a cache hit is one field read and one comparison, then the token's precomputed
// success (no closure, no `Ref`, no allocation).
class Get extends Effectable.Class<AccessToken, TokenError> {
  constructor(private readonly coordinator: Coordinator) {
    super()
  }
  commit(): Effect.Effect<AccessToken, TokenError> {
    const coordinator = this.coordinator
    const local = coordinator.local
    return coordinator.clock.unsafeCurrentTimeMillis() < local.usableUntil ? local.hit : coordinator.slowGet(local)
  }
  // `yield*` in `Effect.gen` runs the effect there and then, so it may decide there and then: a cache hit hands the
  // generator the token's success, which `Effect.gen` takes without a turn of the fiber's run loop.
  override [Symbol.iterator](): Effect.EffectGenerator<Effect.Effect<AccessToken, TokenError>> {
    return new Utils.SingleShotGen(new Utils.YieldWrap(this.commit())) as any
  }
}

/**
 * How a manager obtains tokens: its local copy, one fetch at a time (single flight), a shared store when there is
 * one (adopt its token, or take its lease and fetch for everyone), a short memory of a failed fetch, a floor under
 * replacing rejected tokens, and the refresh schedule, told of every change of the token.
 *
 * A class with its state in fields, so that an idle manager costs a few hundred bytes: a multi-tenant service holds
 * one per tenant. Every field is read and written inside effects, on one thread, between two yields.
 *
 * - `get`: the hot path (a field read and a comparison), else a fetch.
 * - `fetch(reason, replacing)`: a new token in place of `replacing`, joining a fetch under way; no failure memory
 *   (the refresh schedule and forced refreshes, which have their own pacing).
 * - `invalidate(token)`: compare-and-drop, locally and in the store.
 * - `follow`: applies the store's changes to the local copy; runs for the manager's life (only with a store).
 * - `close`: makes every later call, and every caller waiting on a fetch, fail at once; stops the schedule.
 *
 * @internal
 */
export class Coordinator {
  local: Local = empty
  /** When the last token request started (`-Infinity` before any), for the refresh floor. */
  lastRequestAt = -Infinity
  readonly get: Effect.Effect<AccessToken, TokenError> = new Get(this)
  readonly clock: Clock.Clock
  private latch: Deferred.Deferred<void> | undefined = undefined
  private failure: Failure | undefined = undefined
  private lastReplacement = -Infinity
  private storeDownUntil = -Infinity
  private readonly flight: SingleFlight.SingleFlight<AccessToken, TokenError>
  private readonly schedule: RefreshSchedule

  constructor(private readonly options: Options) {
    this.clock = options.clock
    this.flight = new SingleFlight.SingleFlight(options.scope, options.name)
    this.schedule = new RefreshSchedule(options.policy, options.telemetry, options.inherited, this)
  }

  private now() {
    return this.clock.unsafeCurrentTimeMillis()
  }

  // A `Deferred` completed at the next change of the local token; made only when someone waits for one.
  private changed(): Deferred.Deferred<void> {
    return this.latch ??= Deferred.unsafeMake<void>(FiberId.none)
  }

  private signal() {
    const latch = this.latch
    this.latch = undefined
    if (latch !== undefined) Deferred.unsafeDone(latch, Exit.void)
  }

  private setToken(token: AccessToken): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.local.closed) return Effect.void
      this.local = {
        token,
        usableUntil: RefreshPolicy.usableUntil(this.options.policy, token),
        hit: Effect.succeed(token),
        hadToken: true,
        closed: false
      }
      this.signal()
      return this.schedule.reschedule(token)
    })
  }

  private dropToken(token: AccessToken | undefined): Effect.Effect<boolean> {
    return Effect.suspend(() => {
      const current = this.local
      if (current.token === undefined || (token !== undefined && !isSameToken(current.token, token))) {
        return Effect.succeed(false)
      }
      this.local = { ...current, token: undefined, usableUntil: -Infinity, hit: noToken }
      this.signal()
      return Effect.as(this.schedule.reschedule(undefined), true)
    })
  }

  private isUsable(token: AccessToken, now: number) {
    return now < RefreshPolicy.usableUntil(this.options.policy, token)
  }

  // A token already unusable when it arrives (a custom endpoint stamping old times, a body that took longer than
  // the lifetime) is refused: cached, it would send every caller and the refresh schedule straight back for another.
  private checkUsable(token: AccessToken, now: number): Exit.Exit<AccessToken, TokenError> {
    return this.isUsable(token, now) ? Exit.succeed(token) : Exit.fail(
      new TokenResponseInvalid({
        status: 200,
        issue: "the token endpoint returned a token that was already unusable when it arrived (its expiry, less the " +
          "expiry margin, had passed)"
      })
    )
  }

  // A store is an optimisation: whatever goes wrong there (an error, a defect, a timeout), the manager carries on
  // alone; the outage is reported once, and its end too. After a failure the store is left alone for a while, so
  // a store that hangs costs one timeout per `storeRetry`, not one per fetch.
  private viaStore<A>(operation: Effect.Effect<A, TokenStore.StoreUnavailable>): Effect.Effect<Option.Option<A>> {
    return Effect.suspend(() => {
      if (this.now() < this.storeDownUntil) return Effect.succeedNone
      return operation.pipe(
        Effect.timeoutFail({
          duration: storeTimeout,
          onTimeout: () => new StoreUnavailable({ detail: `no answer within ${Duration.format(storeTimeout)}` })
        }),
        Effect.zipLeft(Effect.suspend(() => {
          const wasDown = this.storeDownUntil !== -Infinity
          this.storeDownUntil = -Infinity
          return wasDown ? this.options.telemetry.storeRecovered : Effect.void
        })),
        Effect.asSome,
        Effect.catchAllCause((cause) => {
          if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
          const wasDown = this.storeDownUntil !== -Infinity
          this.storeDownUntil = this.now() + storeRetry
          return Effect.as(
            wasDown ? Effect.void : this.options.telemetry.storeUnavailable(describeStoreFailure(cause)),
            Option.none()
          )
        })
      )
    })
  }

  // Exactly one token request, reported.
  private request(reason: FetchReason): Effect.Effect<AccessToken, TokenError> {
    return Effect.gen(this, function*() {
      const { endpoint, policy, telemetry } = this.options
      if (reason === "invalidated") {
        // A resource server that rejects every token must not turn each API call into a token request. Only a
        // request waits: a replacement another manager already published is adopted at once.
        // Measured as time since the last replacement, so a wall clock stepping back never stretches the wait.
        const since = this.now() - this.lastReplacement
        const floor = Duration.toMillis(policy.minRefreshInterval)
        if (since >= 0 && since < floor) yield* Effect.sleep(Duration.millis(floor - since))
        this.lastReplacement = this.now()
      }
      const previous = this.local.token
      this.lastRequestAt = this.now()
      // Reached only if this fiber was not interrupted (an interrupted one unwinds past `exit`): an interruption here
      // is the endpoint's own (a bug in a custom one), a defect to callers, not an interruption of their fibers.
      const received = yield* Effect.map(
        Effect.exit(endpoint.request),
        (exit) => Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause) ? Exit.die(selfInterrupted) : exit
      )
      const now = this.now()
      const exit = Exit.flatMap(Exit.flatMap(received, checkLifetime), (token) => this.checkUsable(token, now))
      if (Exit.isSuccess(exit)) {
        const token = exit.value
        yield* this.setToken(token)
        this.failure = undefined
        yield* telemetry.succeeded(reason, previous, token, now, previous !== undefined && this.isUsable(previous, now))
        return token
      }
      // Remembered whatever it was (a defect in a custom endpoint too), so a loop of callers cannot flood.
      const error = Cause.failureOption(exit.cause)
      const retryAfter = Option.isSome(error) && isTransient(error.value) ? error.value.retryAfter : undefined
      const until = now + RefreshPolicy.cooldown(policy, yield* Random.next, retryAfter)
      if (!Cause.isInterruptedOnly(exit.cause)) this.failure = { cause: exit.cause, at: now, until }
      if (Option.isSome(error)) {
        yield* telemetry.requestFailed(error.value)
        // The refresh schedule reports its own failures, with when it retries.
        if (reason !== "scheduled") yield* telemetry.failed(reason, error.value, Option.none())
      }
      return yield* exit
    })
  }

  // With a store: adopt a token someone else published, or take the lease and fetch for everyone; while another
  // manager holds the lease, wait for its token (bounded), then look again.
  private shared(
    reason: FetchReason,
    replacing: AccessToken | undefined,
    store: TokenStore.Slot
  ): Effect.Effect<AccessToken, TokenError> {
    return Effect.gen(this, function*() {
      const isReplacing = (token: AccessToken) => replacing !== undefined && isSameToken(token, replacing)
      const deadline = this.now() + maxLeaseWait
      // A forced refresh wants a token newer than any it could find; once it has waited for another holder of the
      // lease, that holder's token is one.
      let adoptable = reason !== "forced"
      let busyFloor = 50
      for (;;) {
        const changed = this.changed()
        const local = this.local
        const now = this.now()
        if (adoptable && local.token !== undefined && now < local.usableUntil && !isReplacing(local.token)) {
          return local.token
        }
        const current = yield* this.viaStore(store.get)
        if (Option.isNone(current)) return yield* this.request(reason)
        if (adoptable && Option.isSome(current.value)) {
          const token = current.value.value
          if (this.isUsable(token, now) && !isReplacing(token)) {
            yield* this.setToken(token)
            yield* this.options.telemetry.adopted(token)
            return token
          }
        }
        const claim = yield* this.viaStore(store.claim)
        if (Option.isNone(claim)) return yield* this.request(reason)
        if (claim.value._tag === "Claimed") {
          const lease = claim.value.lease
          const exit = yield* Effect.exit(this.request(reason))
          yield* this.viaStore(Exit.isSuccess(exit) ? store.publish(exit.value, lease) : store.release(lease))
          return yield* exit
        }
        // A floor under the store's `retryIn` (doubling up to a second), so a store answering "busy, retry in 1 ms"
        // costs a few commands per second, not thousands; a published token still wakes the wait at once.
        const wait = Math.min(Math.max(Duration.toMillis(claim.value.retryIn), busyFloor), deadline - now)
        if (wait <= 0) return yield* this.request(reason)
        yield* Effect.timeoutOption(Deferred.await(changed), Duration.millis(wait))
        busyFloor = Math.min(busyFloor * 2, 1000)
        adoptable = true
      }
    })
  }

  private fetchTask(reason: FetchReason, replacing: AccessToken | undefined): Effect.Effect<AccessToken, TokenError> {
    return Effect.suspend(() => {
      const local = this.local
      // Someone replaced the token between this caller's look and the start of its fetch: no request needed.
      if (
        reason !== "forced" && local.token !== undefined && this.now() < local.usableUntil &&
        (replacing === undefined || !isSameToken(local.token, replacing))
      ) {
        return Effect.succeed(local.token)
      }
      const slot = this.options.slot
      return slot === undefined ? this.request(reason) : this.shared(reason, replacing, slot)
    }).pipe(
      (effect) => this.options.telemetry.annotate(effect),
      Effect.withSpan("TokenManager.fetch", {
        attributes: { "oauth.manager": this.options.name, "oauth.fetch_reason": reason }
      })
    )
  }

  fetch(reason: FetchReason, replacing: AccessToken | undefined): Effect.Effect<AccessToken, TokenError> {
    return this.flight.run(this.fetchTask(reason, replacing))
  }

  private get closed(): Effect.Effect<never> {
    return Effect.dieMessage(SingleFlight.closedMessage(this.options.name))
  }

  // Callers with no usable token: the failure memory answers first, so a loop of failing callers sends nothing.
  // A remembered failure counts only between its time and its end: a wall clock stepping back forgets it rather
  // than stretching it.
  slowGet(local: Local): Effect.Effect<AccessToken, TokenError> {
    if (local.closed) return this.closed
    const remembered = this.failure
    const now = this.now()
    if (remembered !== undefined && remembered.at <= now && now < remembered.until) {
      return Effect.failCause(remembered.cause)
    }
    return this.fetch(local.token !== undefined ? "expired" : local.hadToken ? "invalidated" : "initial", local.token)
  }

  invalidate(token: AccessToken): Effect.Effect<boolean> {
    return Effect.gen(this, function*() {
      if (this.local.closed) return yield* this.closed
      const dropped = yield* this.dropToken(token)
      if (dropped) {
        if (this.options.slot !== undefined) yield* this.viaStore(this.options.slot.invalidate(token))
        yield* this.options.telemetry.invalidated
      }
      return dropped
    })
  }

  /** The manager's scope is closing or closed: a failure now is the shutdown's, not worth reporting. */
  get isClosing(): boolean {
    return this.local.closed || this.flight.isClosed
  }

  get follow(): Effect.Effect<void> {
    const slot = this.options.slot
    if (slot === undefined) return Effect.void
    return Stream.runForEach(slot.changes, (change) =>
      Effect.suspend(() => {
        // Removed elsewhere (a rejection seen by another process): the next get asks the store again.
        if (Option.isNone(change)) return Effect.asVoid(this.dropToken(undefined))
        const token = change.value
        const local = this.local
        if (
          local.closed || !this.isUsable(token, this.now()) ||
          (local.token !== undefined && isSameToken(local.token, token))
        ) return Effect.void
        return Effect.zipRight(this.setToken(token), this.options.telemetry.adopted(token))
      }))
  }

  get close(): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.local = closedLocal
      this.signal()
      return Effect.zipRight(this.flight.close, this.schedule.close)
    })
  }
}

const describeStoreFailure = (cause: Cause.Cause<TokenStore.StoreUnavailable>): string =>
  Option.match(Cause.failureOption(cause), {
    onNone: () => "the store failed unexpectedly",
    onSome: (error) => error.detail
  })
