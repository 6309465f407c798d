import { Recorder } from "@effect-oauth/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import { AccessToken } from "../src/AccessToken.js"
import {
  InvalidCredentials,
  TokenEndpointUnavailable,
  type TokenError,
  TokenRequestRejected
} from "../src/OAuthError.js"
import { TokenEndpoint } from "../src/TokenEndpoint.js"
import type * as TokenEndpointModule from "../src/TokenEndpoint.js"
import * as TokenManager from "../src/TokenManager.js"
import { makeFakeEndpoint } from "./utils/FakeEndpoint.js"

const HOUR = 3600

// An endpoint whose every request takes `latency` of the (Test)Clock, then answers a token of `lifetimeMillis`.
const slowEndpoint = (latency: Duration.DurationInput, lifetimeMillis = HOUR * 1000) => {
  let count = 0
  const endpoint: TokenEndpointModule.Service = {
    request: Effect.gen(function*() {
      count++
      yield* Effect.sleep(latency)
      const now = yield* Clock.currentTimeMillis
      return new AccessToken({
        value: Redacted.make(`slow-${count}`),
        tokenType: "Bearer",
        issuedAt: now,
        expiresAt: now + lifetimeMillis,
        scope: Option.none(),
        serverCreatedAt: Option.none()
      })
    })
  }
  return { endpoint, count: () => count }
}

// Completes within `bound` of TestClock time, or fails the test: a hang becomes an assertion, not a timeout.
const within = <A, E>(bound: Duration.DurationInput, effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    yield* TestClock.adjust(bound)
    const exit = yield* Fiber.poll(fiber)
    assert.isTrue(Option.isSome(exit), `still running after ${Duration.format(Duration.decode(bound))}`)
    yield* Fiber.interrupt(fiber)
    return (exit as Option.Some<Exit.Exit<A, E>>).value
  })

describe("TokenManager: cancellation never orphans the shared fetch (9.1)", () => {
  it.scoped("a caller interrupted after any number of steps leaves a manager whose next get works", () =>
    Effect.gen(function*() {
      // Sweep the interruption point: the caller's fiber yields every `ops` operations (16 to 47; Effect's runtime
      // cannot run with fewer), and the test interrupts it after `steps` of those yields, so that over the sweep the
      // interruption lands between every two operations from the first look at the cache to awaiting the fetch.
      for (let ops = 16; ops < 48; ops++) {
        for (let steps = 0; steps < 4; steps++) {
          const scope = yield* Scope.make()
          const slow = slowEndpoint("1 second")
          const manager = yield* Scope.extend(TokenManager.make(slow.endpoint), scope)
          const caller = yield* Effect.fork(Effect.withMaxOpsBeforeYield(manager.get, ops))
          for (let i = 0; i < steps; i++) yield* Effect.yieldNow()
          yield* Fiber.interrupt(caller)
          const label = `interrupted after ${steps} yields of ${ops} operations`
          const exit = yield* within("2 seconds", manager.get)
          assert.isTrue(Exit.isSuccess(exit), `${label}: ${String(exit)}`)
          assert.isAtMost(slow.count(), 1, label)
          const refreshed = yield* within("2 seconds", manager.refresh)
          assert.isTrue(Exit.isSuccess(refreshed), label)
          yield* Scope.close(scope, Exit.void)
        }
      }
    }))

  it.scoped("callers timing out while a fetch is under way do not cancel it for the others", () =>
    Effect.gen(function*() {
      const slow = slowEndpoint("10 seconds")
      const manager = yield* TokenManager.make(slow.endpoint)
      const impatient = yield* Effect.fork(
        Effect.all(Array.from({ length: 50 }, () => Effect.timeout(manager.get, "1 second")), {
          concurrency: "unbounded",
          mode: "either"
        })
      )
      const patient = yield* Effect.fork(manager.get)
      yield* TestClock.adjust("10 seconds")
      const timedOut = yield* Fiber.join(impatient)
      assert.isTrue(timedOut.every((result) => result._tag === "Left" && result.left._tag === "TimeoutException"))
      const token = yield* Fiber.join(patient)
      assert.strictEqual(Redacted.value(token.value), "slow-1")
      assert.strictEqual(slow.count(), 1)
    }))
})

describe("TokenManager: no response and no policy can make it loop (9.2)", () => {
  for (const lifetimeMillis of [1, 0.001, 1e-9, 500, Number.NaN, -5000]) {
    it.scoped(`a token living ${lifetimeMillis} ms from a custom endpoint is refused, and a hot loop sends one request`, () =>
      Effect.gen(function*() {
        const slow = slowEndpoint(0, lifetimeMillis)
        const manager = yield* TokenManager.make(slow.endpoint)
        for (let i = 0; i < 1000; i++) {
          const error = yield* Effect.flip(manager.get)
          assert.strictEqual(error._tag, "TokenResponseInvalid")
        }
        assert.include((yield* Effect.flip(manager.get)).message, "the minimum is 1 second")
        yield* TestClock.adjust("1 minute")
        assert.strictEqual(slow.count(), 1)
      }))
  }

  it.scoped("an endpoint that dies (a bug in a custom one) is remembered too: a hot loop sends one request", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeEndpoint(HOUR)
      yield* fake.script(...Array.from({ length: 10 }, () => ({ die: "bug in a custom endpoint" })))
      const manager = yield* TokenManager.make(fake.endpoint)
      for (let i = 0; i < 1000; i++) {
        const exit = yield* Effect.exit(manager.get)
        assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
      }
      assert.strictEqual((yield* fake.requests).length, 1)
    }))

  it.scoped("refreshAt: 1e-9 and a one-second lifetime floor: refreshes stay at least 5 seconds apart", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeEndpoint(HOUR)
      const manager = yield* TokenManager.make(fake.endpoint, { policy: { refreshAt: 1e-9 } })
      yield* manager.get
      yield* TestClock.adjust("1 minute")
      const requests = yield* fake.requests
      assert.isAtMost(requests.length, 13)
      for (let i = 1; i < requests.length; i++) assert.isAtLeast(requests[i]! - requests[i - 1]!, 5000)
    }))

  it.effect("policies outside sane bounds fail the layer with a ConfigError naming the field, never a defect", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeEndpoint(HOUR)
      const policies = [
        [{ jitter: 2 }, "jitter"],
        [{ maxMarginRatio: 1, refreshMargin: "2 hours" }, "maxMarginRatio"],
        [{ maxRefreshInterval: "1 millis" }, "maxRefreshInterval"]
      ] as const
      for (const [policy, field] of policies) {
        // A defect here would fail the test itself: flip sees only the typed failure.
        const error = yield* Effect.flip(
          Effect.scoped(Layer.build(TokenManager.layer({ policy }))).pipe(
            Effect.provideService(TokenEndpoint, fake.endpoint)
          )
        )
        assert.isTrue(ConfigError.isInvalidData(error), field)
        assert.deepStrictEqual((error as ConfigError.InvalidData).path, ["policy", field])
        assert.include(String(error), field)
      }
      const named = [[{ name: "" }, "name"], [{ metricsLabel: 3 as unknown as string }, "metricsLabel"], [{
        clockSkewWarning: "never" as Duration.DurationInput
      }, "clockSkewWarning"]] as const
      for (const [options, field] of named) {
        const error = yield* Effect.flip(Effect.scoped(TokenManager.make(fake.endpoint, options)))
        assert.isTrue(ConfigError.isInvalidData(error) && error.path[0] === field, field)
      }
    }))
})

describe("TokenManager: callers share one attempt and its outcome (9.6, 9.11)", () => {
  it.scoped("200 callers rejecting the same token against an endpoint failing fast cause one token request", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeEndpoint(HOUR)
      const manager = yield* TokenManager.make(fake.endpoint)
      const rejected = yield* manager.get
      yield* fake.script(new TokenEndpointUnavailable({ reason: "ServerError", status: 503 }))
      const results = yield* Effect.all(
        Array.from({ length: 200 }, () => Effect.either(Effect.zipRight(manager.invalidate(rejected), manager.get))),
        { concurrency: "unbounded" }
      )
      assert.strictEqual((yield* fake.requests).length, 2)
      assert.isTrue(
        results.every((result) => result._tag === "Left" && result.left._tag === "TokenEndpointUnavailable")
      )
    }))

  it.scoped.each([
    new InvalidCredentials({ status: 401, error: "invalid_client" }),
    new TokenRequestRejected({ status: 400, error: "invalid_scope" })
  ])("a loop meeting $_tag sends one request per cooldown, not one per call", (invalid) =>
    Effect.gen(function*() {
      const fake = yield* makeFakeEndpoint(HOUR)
      const manager = yield* TokenManager.make(fake.endpoint, { policy: { failureCooldown: "5 seconds", jitter: 0 } })
      yield* fake.script(...Array.from({ length: 100 }, () => invalid))
      const errors: Array<TokenError> = []
      for (let i = 0; i < 1000; i++) errors.push(yield* Effect.flip(manager.get))
      assert.strictEqual((yield* fake.requests).length, 1)
      assert.isTrue(errors.every((error) => error._tag === invalid._tag))
      yield* TestClock.adjust("4 seconds")
      yield* Effect.flip(manager.get)
      assert.strictEqual((yield* fake.requests).length, 1)
      yield* TestClock.adjust("1 second")
      yield* Effect.flip(manager.get)
      assert.strictEqual((yield* fake.requests).length, 2)
      // A forced refresh bypasses the memory.
      assert.strictEqual((yield* Effect.flip(manager.refresh))._tag, invalid._tag)
      assert.strictEqual((yield* fake.requests).length, 3)
    }))

  it.scoped("a Retry-After binds callers too, capped at maxRetryAfter", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeEndpoint(HOUR)
      const manager = yield* TokenManager.make(fake.endpoint, { policy: { maxRetryAfter: "2 minutes" } })
      yield* fake.script(
        new TokenEndpointUnavailable({ reason: "RateLimited", status: 429, retryAfter: Duration.seconds(90) }),
        new TokenEndpointUnavailable({ reason: "RateLimited", status: 429, retryAfter: Duration.infinity })
      )
      yield* Effect.flip(manager.get)
      yield* TestClock.adjust("89 seconds")
      assert.strictEqual((yield* Effect.flip(manager.get))._tag, "TokenEndpointUnavailable")
      assert.strictEqual((yield* fake.requests).length, 1)
      yield* TestClock.adjust("1 second")
      yield* Effect.flip(manager.get)
      assert.strictEqual((yield* fake.requests).length, 2)
      // An infinite Retry-After counts as the cap: the manager comes back after 2 minutes, not never.
      yield* TestClock.adjust("119 seconds")
      yield* Effect.flip(manager.get)
      assert.strictEqual((yield* fake.requests).length, 2)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(Redacted.value((yield* manager.get).value), "token-3")
    }))

  it.scoped("a resource server rejecting every token gets one replacement per minRefreshInterval", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeEndpoint(HOUR)
      const manager = yield* TokenManager.make(fake.endpoint)
      // Each "API call" is rejected: the caller invalidates its token and gets a new one, in a loop, for 20 s.
      const loop = Effect.forever(Effect.flatMap(manager.get, (token) => manager.invalidate(token)))
      const fiber = yield* Effect.fork(loop)
      yield* TestClock.adjust("20 seconds")
      yield* Fiber.interrupt(fiber)
      // The first replacement is immediate, later ones at least 5 s apart: 1 + 1 + 4 at most.
      const requests = yield* fake.requests
      assert.isAtMost(requests.length, 6)
      for (let i = 2; i < requests.length; i++) assert.isAtLeast(requests[i]! - requests[i - 1]!, 5000)
    }))
})

describe("TokenManager: use after close fails fast (9.7)", () => {
  it.effect("get, refresh and invalidate after the scope closed die at once with a clear message", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeEndpoint(HOUR)
      const scope = yield* Scope.make()
      const manager = yield* Scope.extend(TokenManager.make(fake.endpoint, { name: "closed-one" }), scope)
      const token = yield* manager.get
      yield* Scope.close(scope, Exit.void)
      const calls: ReadonlyArray<Effect.Effect<unknown, unknown>> = [
        manager.get,
        manager.refresh,
        manager.invalidate(token)
      ]
      for (const call of calls) {
        const exit = yield* within("1 second", call)
        assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause), String(exit))
        assert.include(String(exit), "closed-one")
        assert.include(String(exit), "after its scope closed")
      }
    }))

  it.effect("callers waiting on a fetch when the scope closes are released at once", () =>
    Effect.gen(function*() {
      const slow = slowEndpoint("1 hour")
      const scope = yield* Scope.make()
      const manager = yield* Scope.extend(TokenManager.make(slow.endpoint), scope)
      const waiting = yield* Effect.fork(manager.get)
      yield* TestClock.adjust("1 second")
      yield* Scope.close(scope, Exit.void)
      const exit = yield* within("1 second", Fiber.join(waiting))
      assert.isTrue(Exit.isFailure(exit))
    }))
})

describe("TokenManager: metrics cardinality (9.10)", () => {
  it.scoped("managers sharing a metricsLabel share one series, whatever their names", () =>
    Effect.gen(function*() {
      for (let i = 0; i < 200; i++) {
        const fake = yield* makeFakeEndpoint(HOUR)
        const manager = yield* Effect.scoped(
          Effect.tap(TokenManager.make(fake.endpoint, { name: `tenant-${i}`, metricsLabel: "tenants" }), (m) => m.get)
        )
        assert.isDefined(manager)
      }
      const series = (yield* Metric.snapshot).filter((pair) =>
        pair.metricKey.name === "effect_oauth_token_requests_total" &&
        pair.metricKey.tags.some((tag) => tag.key === "manager" && tag.value.startsWith("tenant"))
      )
      assert.strictEqual(series.length, 1)
    }))
})

describe("TokenManager: logs (8.5)", () => {
  it.scoped("every line carries oauth.manager, no line repeats a key, a caller's failure is logged once at Debug", () =>
    Effect.gen(function*() {
      const recorder = yield* Recorder.make
      yield* recorder.record(Effect.gen(function*() {
        const fake = yield* makeFakeEndpoint(HOUR)
        const manager = yield* TokenManager.make(fake.endpoint, { name: "logged" })
        const token = yield* manager.get
        yield* manager.invalidate(token)
        yield* fake.script(new TokenEndpointUnavailable({ reason: "ServerError", status: 503 }))
        yield* Effect.flip(manager.get)
      }))
      const lines = recorder.jsonLogs.map((line) =>
        JSON.parse(line) as { message: unknown; logLevel: string; annotations: Record<string, unknown> }
      )
      assert.isAtLeast(lines.length, 3)
      for (const line of lines) assert.strictEqual(line.annotations["oauth.manager"], "logged", String(line.message))
      for (const line of recorder.logs) assert.strictEqual(line.split(" message=").length, 2, line)
      const failures = lines.filter((line) => String(line.message).includes("failed"))
      assert.strictEqual(failures.length, 1)
      assert.strictEqual(failures[0]!.logLevel, "DEBUG")
      assert.notProperty(failures[0]!.annotations, "message")
    }))
})
