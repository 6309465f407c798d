import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { globalValue } from "effect/GlobalValue"
import * as HashMap from "effect/HashMap"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Supervisor from "effect/Supervisor"
import * as TestClock from "effect/TestClock"
import { AccessToken } from "../src/AccessToken.js"
import * as Wakeups from "../src/internal/wakeups.js"
import { TokenEndpointUnavailable } from "../src/OAuthError.js"
import type * as TokenEndpoint from "../src/TokenEndpoint.js"
import * as TokenManager from "../src/TokenManager.js"
import * as TokenStore from "../src/TokenStore.js"
import { makeFakeEndpoint } from "./utils/FakeEndpoint.js"

const HOUR = 3600

interface Line {
  readonly message: string
  readonly level: string
  readonly annotations: Record<string, unknown>
  readonly cause: string
}

// A logger that keeps every line it is given (the test's own, standing in for an application's).
const collecting = () => {
  const lines: Array<Line> = []
  const logger = Logger.make<unknown, void>(({ annotations, cause, logLevel, message }) => {
    lines.push({
      message: Array.isArray(message) ? message.join(" ") : String(message),
      level: logLevel.label,
      annotations: Object.fromEntries(HashMap.toEntries(annotations)),
      cause: String(cause)
    })
  })
  return { lines, logger }
}

const token = (n: string, now: number, lifetimeMillis: number) =>
  new AccessToken({
    value: Redacted.make(n),
    tokenType: "Bearer",
    issuedAt: now,
    expiresAt: now + lifetimeMillis,
    scope: Option.none(),
    serverCreatedAt: Option.none()
  })

// An endpoint whose requests take `latency` (TestClock), counting them; `hang` makes them never answer.
const controlled = (lifetimeMillis = HOUR * 1000) => {
  const state = { count: 0, latency: Duration.zero as Duration.Duration, hang: false, fail: 0 }
  const endpoint: TokenEndpoint.Service = {
    request: Effect.gen(function*() {
      const n = ++state.count
      if (state.hang) return yield* Effect.never
      if (Duration.toMillis(state.latency) > 0) yield* Effect.sleep(state.latency)
      if (state.fail > 0) {
        state.fail--
        return yield* Effect.fail(new TokenEndpointUnavailable({ reason: "Network" }))
      }
      return token(`t-${n}`, yield* Clock.currentTimeMillis, lifetimeMillis)
    })
  }
  return { endpoint, state }
}

describe("wakeups (hostile)", () => {
  it.effect("an earlier wake-up scheduled right after the timer fiber was forked still fires on time (any yield point)", () =>
    Effect.gen(function*() {
      const late: Array<number> = []
      for (let ops = 16; ops < 80; ops++) {
        const fired: Array<string> = []
        const now = yield* TestClock.currentTimeMillis
        const far = yield* Effect.withMaxOpsBeforeYield(Wakeups.schedule(now + 1000, () => fired.push("far")), ops)
        yield* Effect.yieldNow()
        yield* Effect.yieldNow()
        const near = yield* Wakeups.schedule(now + 100, () => fired.push("near"))
        yield* TestClock.adjust(100)
        if (!fired.includes("near")) late.push(ops)
        yield* TestClock.adjust(900)
        assert.deepStrictEqual(fired, ["near", "far"])
        yield* Wakeups.cancel(near)
        yield* Wakeups.cancel(far)
      }
      assert.deepStrictEqual(late, [], "near fired late with maxOpsBeforeYield in")
    }))

  it.effect("1,000 wake-ups at random times fire in order, each at its time; cancelled ones never fire", () =>
    Effect.gen(function*() {
      const fired: Array<readonly [number, number]> = []
      const start = yield* TestClock.currentTimeMillis
      // A deterministic spread: a linear congruential sequence.
      let seed = 12345
      const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) % 100_000
      const all: Array<Wakeups.Wakeup> = []
      for (let i = 0; i < 1000; i++) {
        const at = start + 1 + next()
        all.push(yield* Wakeups.schedule(at, () => fired.push([at, at])))
      }
      const cancelled = new Set<Wakeups.Wakeup>()
      for (let i = 0; i < all.length; i += 3) {
        yield* Wakeups.cancel(all[i]!)
        cancelled.add(all[i]!)
      }
      // Fired ones: cancelling them is a no-op.
      let seen = 0
      for (let t = 0; t <= 100_000; t += 997) {
        yield* TestClock.adjust(997)
        const now = yield* TestClock.currentTimeMillis
        for (const [at] of fired.slice(seen)) assert.isAtMost(at, now)
        seen = fired.length
      }
      yield* TestClock.adjust(1000)
      const expected = all.filter((w) => !cancelled.has(w)).map((w) => w.at).sort((a, b) => a - b)
      assert.deepStrictEqual(fired.map(([at]) => at), expected)
      for (const w of all) yield* Wakeups.cancel(w)
    }))

  it.effect("cancelling the earliest entry while the fiber sleeps on it: the next entry still fires at its time", () =>
    Effect.gen(function*() {
      const fired: Array<string> = []
      const now = yield* TestClock.currentTimeMillis
      const a = yield* Wakeups.schedule(now + 100, () => fired.push("a"))
      yield* Wakeups.schedule(now + 200, () => fired.push("b"))
      yield* Effect.yieldNow()
      yield* Wakeups.cancel(a)
      yield* TestClock.adjust(199)
      assert.deepStrictEqual(fired, [])
      yield* TestClock.adjust(1)
      assert.deepStrictEqual(fired, ["b"])
    }))

  it.effect("a fire that schedules a sooner wake-up (re-entrant) is honoured", () =>
    Effect.gen(function*() {
      const fired: Array<string> = []
      const now = yield* TestClock.currentTimeMillis
      yield* Wakeups.schedule(now + 100, () => {
        fired.push("a")
        Effect.runFork(Effect.withClock(Wakeups.schedule(now + 150, () => fired.push("c")), clock))
      })
      const clock = yield* Effect.clock
      yield* Wakeups.schedule(now + 1000, () => fired.push("b"))
      yield* TestClock.adjust(100)
      yield* Effect.yieldNow()
      yield* TestClock.adjust(50)
      assert.deepStrictEqual(fired, ["a", "c"])
      yield* TestClock.adjust(850)
      assert.deepStrictEqual(fired, ["a", "c", "b"])
    }))
})

describe("TokenManager (hostile): many managers on one clock", () => {
  it.effect("200 managers with different lifetimes each refresh at their own point; closing half stops only theirs", () =>
    Effect.gen(function*() {
      const supervisor = yield* Supervisor.track
      const managers = []
      for (let i = 0; i < 200; i++) {
        const scope = yield* Scope.make()
        const fake = yield* makeFakeEndpoint(600 + 30 * i)
        const manager = yield* TokenManager.make(fake.endpoint, { policy: { jitter: 0 }, name: `m${i}` }).pipe(
          Scope.extend(scope),
          Effect.supervised(supervisor)
        )
        yield* manager.get
        managers.push({ fake, manager, scope, lifetime: (600 + 30 * i) * 1000 })
      }
      const start = yield* TestClock.currentTimeMillis
      // Close the odd ones after 2 minutes (before anyone's refresh point: the shortest is 5 minutes).
      yield* TestClock.adjust("2 minutes")
      for (let i = 1; i < 200; i += 2) yield* Scope.close(managers[i]!.scope, Exit.void)
      for (let s = 0; s < 6 * 60; s++) yield* TestClock.adjust("10 seconds")
      for (let i = 0; i < 200; i++) {
        const { fake, lifetime } = managers[i]!
        const requests = yield* fake.requests
        if (i % 2 === 1) {
          assert.strictEqual(requests.length, 1, `closed manager ${i} refreshed`)
          continue
        }
        // Refreshes at 50 % of the lifetime (the margins are far away), chained.
        let expected = start
        const times = [expected]
        while (expected + lifetime / 2 <= start + 62 * 60_000) times.push(expected += lifetime / 2)
        assert.deepStrictEqual(requests.map((t) => t - start), times.map((t) => t - start), `manager ${i}`)
      }
      for (let i = 0; i < 200; i += 2) yield* Scope.close(managers[i]!.scope, Exit.void)
      yield* Effect.yieldNow()
      assert.deepStrictEqual(yield* supervisor.value, [], "fibers left after every scope closed")
    }))
})

describe("TokenManager (hostile): idle managers hold no fiber", () => {
  it.effect("between refreshes only the shared timer fiber runs; after close none at all", () =>
    Effect.gen(function*() {
      const supervisor = yield* Supervisor.track
      const scope = yield* Scope.make()
      const scopes = [scope, yield* Scope.make(), yield* Scope.make()]
      const managers = []
      for (const s of scopes) {
        const fake = yield* makeFakeEndpoint(HOUR)
        managers.push(yield* TokenManager.make(fake.endpoint).pipe(Scope.extend(s), Effect.supervised(supervisor)))
      }
      for (const m of managers) yield* m.get.pipe(Effect.supervised(supervisor))
      // (Moving the TestClock also ends its "not advancing the clock" warning fiber, which the supervisor sees.)
      yield* TestClock.adjust("1 second")
      for (let i = 0; i < 5; i++) yield* Effect.yieldNow()
      assert.strictEqual((yield* supervisor.value).length, 1, "one timer fiber for three idle managers")
      // Across a scheduled refresh, too.
      yield* TestClock.adjust("40 minutes")
      for (let i = 0; i < 5; i++) yield* Effect.yieldNow()
      assert.strictEqual((yield* supervisor.value).length, 1, "after the refreshes")
      for (const s of scopes) yield* Scope.close(s, Exit.void)
      assert.deepStrictEqual(yield* supervisor.value, [])
    }))
})

describe("TokenManager (hostile): background refresh context", () => {
  it.effect("background refresh failures reach the creator's logger with the oauth.manager annotation", () =>
    Effect.gen(function*() {
      const { lines, logger } = collecting()
      const fake = yield* makeFakeEndpoint(HOUR)
      const scope = yield* Scope.make()
      const manager = yield* TokenManager.make(fake.endpoint, { name: "tenant-7", policy: { jitter: 0 } }).pipe(
        Scope.extend(scope),
        Effect.provide(Logger.replace(Logger.defaultLogger, logger))
      )
      yield* manager.get
      yield* fake.script(new TokenEndpointUnavailable({ reason: "Network" }), { die: "boom" })
      yield* TestClock.adjust("30 minutes")
      yield* TestClock.adjust("2 seconds")
      const failed = lines.find((l) => l.message === "access token refresh failed")
      assert.isDefined(failed, JSON.stringify(lines))
      assert.strictEqual(failed!.level, "WARN")
      assert.strictEqual(failed!.annotations["oauth.manager"], "tenant-7")
      const died = lines.find((l) => l.message === "access token refresh died")
      assert.isDefined(died, JSON.stringify(lines))
      assert.strictEqual(died!.annotations["oauth.manager"], "tenant-7")
      yield* Scope.close(scope, Exit.void)
    }))

  it.effect("closing the scope while a background refresh is mid-fetch logs no error and leaves no fiber", () =>
    Effect.gen(function*() {
      const { lines, logger } = collecting()
      const supervisor = yield* Supervisor.track
      const { endpoint, state } = controlled()
      const scope = yield* Scope.make()
      const manager = yield* TokenManager.make(endpoint, { policy: { jitter: 0 } }).pipe(
        Scope.extend(scope),
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
        Effect.provide(Logger.minimumLogLevel(LogLevel.All)),
        Effect.supervised(supervisor)
      )
      yield* manager.get.pipe(Effect.supervised(supervisor))
      state.latency = Duration.seconds(10)
      yield* TestClock.adjust("30 minutes")
      yield* TestClock.adjust("1 second")
      assert.strictEqual(state.count, 2, "the scheduled refresh is under way")
      const waiter = yield* Effect.fork(manager.get)
      yield* Scope.close(scope, Exit.void)
      for (let i = 0; i < 5; i++) yield* Effect.yieldNow()
      yield* TestClock.adjust("20 seconds")
      const bad = lines.filter((l) => l.level === "ERROR" || l.level === "WARN" || l.level === "FATAL")
      assert.deepStrictEqual(bad, [], "error or warning lines at close")
      assert.deepStrictEqual(yield* supervisor.value, [], "fibers left")
      // A caller holding the old (still usable) token is served from the cache even though closed? It must not hang.
      assert.isTrue(Option.isSome(yield* Fiber.poll(waiter)))
    }))
})

describe("TokenManager (hostile): races and closing", () => {
  it.effect("a caller waiting on the single flight when the scope closes gets the closed defect at once", () =>
    Effect.gen(function*() {
      const { endpoint, state } = controlled()
      state.latency = Duration.seconds(10)
      const scope = yield* Scope.make()
      const manager = yield* Scope.extend(TokenManager.make(endpoint), scope)
      const waiters = yield* Effect.forEach(
        Array.from({ length: 10 }),
        () => Effect.fork(Effect.exit(manager.get)),
        { concurrency: "unbounded" }
      )
      yield* TestClock.adjust("1 second")
      yield* Scope.close(scope, Exit.void)
      for (const waiter of waiters) {
        const exit = yield* Fiber.join(waiter)
        assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause), String(exit))
        assert.include(String(Exit.isFailure(exit) && Cause.squash(exit.cause)), "after its scope closed")
      }
      assert.strictEqual(state.count, 1)
      // And after the close: every entry point answers at once.
      assert.isTrue(Exit.isFailure(yield* Effect.exit(manager.get)))
      assert.isTrue(Exit.isFailure(yield* Effect.exit(manager.refresh)))
      assert.isTrue(Exit.isFailure(yield* Effect.exit(manager.invalidate(token("x", 0, 1)))))
      assert.strictEqual(Chunk.size(yield* Stream.runCollect(manager.events)), 0)
    }))

  it.effect("closing the scope while a retry wake-up is pending: nothing fires later, no fiber is left", () =>
    Effect.gen(function*() {
      const supervisor = yield* Supervisor.track
      const { endpoint, state } = controlled()
      const scope = yield* Scope.make()
      const manager = yield* TokenManager.make(endpoint, { policy: { jitter: 0 } }).pipe(
        Scope.extend(scope),
        Effect.supervised(supervisor)
      )
      yield* manager.get.pipe(Effect.supervised(supervisor))
      state.fail = 100
      yield* TestClock.adjust("30 minutes")
      yield* TestClock.adjust("100 millis")
      const before = state.count
      assert.isAtLeast(before, 2)
      yield* Scope.close(scope, Exit.void)
      yield* TestClock.adjust("1 hour")
      assert.strictEqual(state.count, before)
      assert.deepStrictEqual(yield* supervisor.value, [])
    }))

  it.effect("refresh (forced) and invalidate racing a scheduled refresh: one token request per refresh point", () =>
    Effect.gen(function*() {
      const { endpoint, state } = controlled()
      const scope = yield* Scope.make()
      const manager = yield* TokenManager.make(endpoint, { policy: { jitter: 0 } }).pipe(Scope.extend(scope))
      const first = yield* manager.get
      state.latency = Duration.seconds(2)
      yield* TestClock.adjust("30 minutes")
      // The scheduled refresh is under way: a forced refresh, many gets, an invalidate of the old token all join it.
      const forced = yield* Effect.fork(manager.refresh)
      const gets = yield* Effect.fork(
        Effect.all(Array.from({ length: 50 }, () => manager.get), { concurrency: "unbounded" })
      )
      const dropped = yield* manager.invalidate(first)
      const after = yield* Effect.fork(manager.get)
      yield* TestClock.adjust("2 seconds")
      const refreshed = yield* Fiber.join(forced)
      assert.strictEqual(state.count, 2)
      assert.isTrue(dropped)
      assert.strictEqual(Redacted.value((yield* Fiber.join(after)).value), "t-2")
      assert.strictEqual(Redacted.value(refreshed.value), "t-2")
      assert.strictEqual((yield* Fiber.join(gets)).length, 50)
      // The next refresh point is the new token's: once, 30 minutes on.
      yield* TestClock.adjust("29 minutes")
      assert.strictEqual(state.count, 2)
      yield* TestClock.adjust("1 minute")
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(state.count, 3)
      yield* Scope.close(scope, Exit.void)
    }))

  it.effect("a forced refresh just before the refresh point moves it: no second request at the old point", () =>
    Effect.gen(function*() {
      const { endpoint, state } = controlled()
      const scope = yield* Scope.make()
      const manager = yield* TokenManager.make(endpoint, { policy: { jitter: 0 } }).pipe(Scope.extend(scope))
      yield* manager.get
      yield* TestClock.adjust("29 minutes")
      yield* manager.refresh
      assert.strictEqual(state.count, 2)
      yield* TestClock.adjust("2 minutes")
      assert.strictEqual(state.count, 2)
      yield* TestClock.adjust("28 minutes")
      assert.strictEqual(state.count, 3)
      yield* Scope.close(scope, Exit.void)
    }))

  it.effect("a caller running with another Clock: the refresh is still scheduled on the manager's clock", () =>
    Effect.gen(function*() {
      const { endpoint, state } = controlled()
      const scope = yield* Scope.make()
      const manager = yield* TokenManager.make(endpoint, { policy: { jitter: 0 } }).pipe(Scope.extend(scope))
      const testClock = yield* Effect.clock
      // Tells the same time, but its sleeps never end: a wake-up scheduled on it would never fire.
      const stalled: Clock.Clock = {
        ...testClock,
        sleep: () => Effect.never,
        unsafeCurrentTimeMillis: () => testClock.unsafeCurrentTimeMillis(),
        unsafeCurrentTimeNanos: () => testClock.unsafeCurrentTimeNanos()
      }
      yield* Effect.withClock(manager.get, stalled)
      assert.strictEqual(state.count, 1)
      yield* TestClock.adjust("31 minutes")
      assert.strictEqual(state.count, 2)
      yield* Scope.close(scope, Exit.void)
    }))

  it.effect("an endpoint that never answers (bounded by its own timeout): callers get the typed error, never hang", () =>
    Effect.gen(function*() {
      const { endpoint: inner, state } = controlled(120_000)
      const endpoint: TokenEndpoint.Service = {
        request: Effect.timeoutFail(inner.request, {
          duration: Duration.seconds(10),
          onTimeout: () => new TokenEndpointUnavailable({ reason: "Timeout" })
        })
      }
      const scope = yield* Scope.make()
      const manager = yield* TokenManager.make(endpoint, { policy: { jitter: 0 } }).pipe(Scope.extend(scope))
      yield* manager.get
      state.hang = true
      // Refresh point at 60 s; retries while usable (until 90 s: the margin is a quarter of 2 minutes).
      const outcomes: Array<string> = []
      for (let s = 0; s < 200; s++) {
        const fiber = yield* Effect.fork(Effect.either(manager.get))
        yield* TestClock.adjust("1 second")
        const polled = yield* Fiber.poll(fiber)
        if (Option.isNone(polled)) {
          yield* TestClock.adjust("10 seconds")
          const late = yield* Fiber.poll(fiber)
          assert.isTrue(Option.isSome(late), `a get hung past the request timeout at step ${s}`)
        }
        const exit = Option.getOrUndefined(yield* Fiber.poll(fiber))
        if (exit !== undefined && Exit.isSuccess(exit) && exit.value._tag === "Left") {
          outcomes.push(exit.value.left._tag)
        }
      }
      assert.isTrue(outcomes.length > 0)
      assert.isTrue(outcomes.every((tag) => tag === "TokenEndpointUnavailable"), outcomes.join())
      // Requests stay paced: no storm of requests while it hangs.
      assert.isBelow(state.count, 60, `requests: ${state.count}`)
      state.hang = false
      yield* TestClock.adjust("20 seconds")
      assert.isTrue(Exit.isSuccess(yield* Effect.exit(manager.get)))
      yield* Scope.close(scope, Exit.void)
    }))

  it.effect("background refreshes that die keep being tried per token; callers see the defect, then recover", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeEndpoint(HOUR)
      const scope = yield* Scope.make()
      const manager = yield* TokenManager.make(fake.endpoint, { policy: { jitter: 0 } }).pipe(Scope.extend(scope))
      yield* manager.get
      yield* fake.script({ die: "a" }, { die: "b" })
      yield* TestClock.adjust("31 minutes")
      assert.strictEqual((yield* fake.requests).length, 2)
      // Given up on that token; when it becomes unusable a caller fetches (and sees the second defect).
      yield* TestClock.adjust("29 minutes")
      const exit = yield* Effect.exit(manager.get)
      assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause), String(exit))
      // Remembered for the cooldown, then fetched again.
      yield* TestClock.adjust("5 seconds")
      assert.isTrue(Exit.isSuccess(yield* Effect.exit(manager.get)))
      assert.strictEqual((yield* fake.requests).length, 4)
      yield* Scope.close(scope, Exit.void)
    }))

  it.effect("a custom endpoint that interrupts itself: callers get a failure, not an interruption of their own fiber", () =>
    Effect.gen(function*() {
      let calls = 0
      const endpoint: TokenEndpoint.Service = { request: Effect.suspend(() => (calls++, Effect.interrupt)) }
      const scope = yield* Scope.make()
      const manager = yield* Scope.extend(TokenManager.make(endpoint), scope)
      const exit = yield* Effect.exit(manager.get)
      assert.isTrue(Exit.isFailure(exit), String(exit))
      assert.isFalse(Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause), "the caller saw an interruption")
      assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
      // Remembered like any failure: a loop of callers does not turn into a loop of requests.
      for (let i = 0; i < 100; i++) yield* Effect.exit(manager.get)
      assert.strictEqual(calls, 1)
      yield* Scope.close(scope, Exit.void)
    }))
})

describe("TokenManager (hostile): events", () => {
  it.effect("subscribe after close ends at once; a subscriber at close ends; unsubscribing mid-way is clean", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeEndpoint(HOUR)
      const scope = yield* Scope.make()
      const manager = yield* Scope.extend(TokenManager.make(fake.endpoint), scope)
      const early = yield* Effect.fork(Stream.runCollect(Stream.take(manager.events, 1)))
      const open = yield* Effect.fork(Stream.runCollect(manager.events))
      yield* Effect.yieldNow()
      yield* manager.get
      assert.strictEqual(Chunk.size(yield* Fiber.join(early)), 1)
      yield* manager.refresh
      yield* Effect.yieldNow()
      yield* Scope.close(scope, Exit.void)
      const collected = yield* Fiber.join(open)
      assert.deepStrictEqual(Chunk.toReadonlyArray(collected).map((e) => e._tag), ["Fetched", "Refreshed"])
      assert.strictEqual(Chunk.size(yield* Stream.runCollect(manager.events)), 0)
    }))

  it.effect("events queued for a subscriber when the manager closes are still delivered, then its stream ends", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeEndpoint(HOUR)
      const scope = yield* Scope.make()
      const manager = yield* Scope.extend(TokenManager.make(fake.endpoint), scope)
      const reading = yield* Deferred.make<void>()
      // Subscribed at once, but takes nothing further until the manager has closed.
      const subscriber = yield* Effect.fork(Stream.runCollect(
        Stream.mapEffect(manager.events, (event) => Effect.as(Deferred.await(reading), event._tag))
      ))
      yield* Effect.yieldNow()
      yield* manager.get
      yield* manager.refresh
      yield* manager.refresh
      yield* Scope.close(scope, Exit.void)
      yield* Deferred.succeed(reading, undefined)
      assert.deepStrictEqual(Chunk.toReadonlyArray(yield* Fiber.join(subscriber)), [
        "Fetched",
        "Refreshed",
        "Refreshed"
      ])
    }))

  it.effect("10,000 events to a subscriber that does not read: bounded (sliding), the manager never blocks", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeEndpoint(HOUR)
      const scope = yield* Scope.make()
      const manager = yield* Scope.extend(TokenManager.make(fake.endpoint), scope)
      const gate = yield* Deferred.make<void>()
      const seen: Array<string> = []
      const slow = yield* Effect.fork(
        Stream.runForEach(
          manager.events,
          (event) => Effect.zipRight(Deferred.await(gate), Effect.sync(() => seen.push(event._tag)))
        )
      )
      yield* Effect.yieldNow()
      for (let i = 0; i < 10_000; i++) yield* manager.refresh
      assert.strictEqual((yield* fake.requests).length, 10_000)
      yield* Deferred.succeed(gate, undefined)
      yield* Effect.yieldNow()
      yield* Scope.close(scope, Exit.void)
      yield* Fiber.join(slow)
      assert.isAtMost(seen.length, 1024 + 4096, `events kept: ${seen.length}`)
      assert.isAtLeast(seen.length, 1)
    }))
})

describe("TokenManager (hostile): two changes of the token at once", () => {
  it.effect(
    "a fetched token and a store change applied concurrently: the wake-up is for the token kept",
    () =>
      Effect.gen(function*() {
        const failures: Array<string> = []
        const kepts: Record<string, number> = {}
        for (let k = 0; k < 6 * 48; k++) {
          const ops = 16 + (k % 48)
          const delta = Math.floor(k / 48)
          const changes = yield* Queue.unbounded<Option.Option<AccessToken>>()
          let requests = 0
          const endpoint: TokenEndpoint.Service = {
            request: Effect.gen(function*() {
              const now = yield* Clock.currentTimeMillis
              requests++
              if (requests === 1) {
                // Another process publishes a token (2 h) while this one's (1 h) is on its way back.
                yield* Queue.offer(changes, Option.some(token("theirs", now, 2 * HOUR * 1000)))
              }
              return token(`mine-${requests}`, now, HOUR * 1000)
            })
          }
          const store: TokenStore.Service = {
            slot: () =>
              Effect.succeed({
                get: Effect.succeed(Option.none()),
                claim: Effect.succeed(TokenStore.Claim.Claimed({ lease: { id: "l" } })),
                publish: () => Effect.void,
                release: () => Effect.void,
                invalidate: () => Effect.succeed(false),
                changes: Stream.fromQueue(changes)
              })
          }
          const scope = yield* Scope.make()
          const manager = yield* TokenManager.make(endpoint, { store, policy: { jitter: 0 } }).pipe(
            Effect.withMaxOpsBeforeYield(ops),
            Scope.extend(scope)
          )
          yield* Effect.withMaxOpsBeforeYield(manager.get, 16 + delta)
          for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
          const kept = yield* manager.get
          kepts[Redacted.value(kept.value)] = (kepts[Redacted.value(kept.value)] ?? 0) + 1
          const start = yield* Clock.currentTimeMillis
          const refreshPoint = kept.issuedAt + kept.lifetimeMillis / 2
          yield* TestClock.adjust(refreshPoint - start + 1000)
          for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
          if (requests !== 2) {
            failures.push(`ops ${ops} delta ${delta}: kept ${Redacted.value(kept.value)}, requests ${requests}`)
          }
          yield* Scope.close(scope, Exit.void)
        }
        assert.isAbove(kepts["theirs"] ?? 0, 0)
        assert.isAbove(kepts["mine-1"] ?? 0, 0)
        assert.deepStrictEqual(failures, [])
      }),
    60_000
  )
})

describe("TokenManager (hostile): nothing left behind", () => {
  it.effect("after the last manager on a clock closes, no root fiber of theirs is alive and the timer state is empty", () =>
    Effect.gen(function*() {
      const before = new Set(yield* Fiber.roots)
      const scopes: Array<Scope.CloseableScope> = []
      for (let i = 0; i < 5; i++) {
        const scope = yield* Scope.make()
        const { endpoint, state } = controlled((600 + 60 * i) * 1000)
        const manager = yield* Scope.extend(TokenManager.make(endpoint, { policy: { jitter: 0 } }), scope)
        yield* manager.get
        if (i === 0) {
          state.fail = 3
          state.latency = Duration.seconds(1)
        }
        scopes.push(scope)
      }
      // Refreshes, a retry pending for the first, a refresh under way somewhere.
      yield* TestClock.adjust("5 minutes")
      yield* TestClock.adjust("500 millis")
      for (const scope of scopes) yield* Scope.close(scope, Exit.void)
      for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
      const alive = (yield* Fiber.roots).filter((fiber) => !before.has(fiber) && fiber.unsafePoll() === null)
      // The TestClock's own "not advancing the clock" warning fiber aside.
      assert.isAtMost(alive.length, 1, `root fibers left: ${alive.length}`)
      const timers = globalValue(
        Symbol.for("@effect-oauth/core/internal/wakeups"),
        () => new WeakMap<object, { heap: Array<unknown>; fiber: unknown }>()
      ).get(yield* Effect.clock)
      assert.strictEqual(timers?.heap.length, 0)
      assert.isUndefined(timers?.fiber)
      yield* TestClock.adjust("1 hour")
    }))
})
