import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Supervisor from "effect/Supervisor"
import * as TestClock from "effect/TestClock"
import { AccessToken } from "../src/AccessToken.js"
import { InvalidCredentials, TokenEndpointUnavailable } from "../src/OAuthError.js"
import * as RefreshPolicy from "../src/RefreshPolicy.js"
import { TokenEndpoint } from "../src/TokenEndpoint.js"
import * as TokenManager from "../src/TokenManager.js"
import { makeFakeEndpoint } from "./utils/FakeEndpoint.js"

const HOUR = 3600

// Moves the TestClock forward in steps, calling `onStep` after each one (where callers use the manager).
const advance = <E>(total: Duration.DurationInput, step: Duration.DurationInput, onStep: Effect.Effect<void, E>) =>
  Effect.gen(function*() {
    const steps = Math.ceil(Duration.toMillis(total) / Duration.toMillis(step))
    for (let i = 0; i < steps; i++) {
      yield* TestClock.adjust(step)
      yield* onStep
    }
  })

const setup = (lifetime: number, options: TokenManager.Options = {}) =>
  Effect.gen(function*() {
    const fake = yield* makeFakeEndpoint(lifetime)
    const manager = yield* TokenManager.make(fake.endpoint, options)
    return { fake, manager }
  })

describe("TokenManager", () => {
  it.scoped("refreshes before expiry across 10 lifetimes with no caller-visible failure", () =>
    Effect.gen(function*() {
      const { fake, manager } = yield* setup(HOUR)
      let served = 0
      const use = Effect.gen(function*() {
        const token = yield* manager.get
        const now = yield* Clock.currentTimeMillis
        assert.isTrue(now < token.expiresAt - 30_000, "a caller received a token about to expire")
        served++
      })
      yield* use
      yield* advance(Duration.hours(10), Duration.minutes(2), use)
      const requests = yield* fake.requests
      // 50 % ± 10 % of an hour: 20 refreshes in 10 hours, give or take one for jitter.
      assert.isAtLeast(requests.length, 19)
      assert.isAtMost(requests.length, 23)
      assert.strictEqual(served, 301)
      // Every refresh fell inside its jitter window: 45 % to 55 % of the previous token's lifetime.
      for (let i = 1; i < requests.length; i++) {
        const gap = requests[i]! - requests[i - 1]!
        assert.isAtLeast(gap, 0.45 * HOUR * 1000)
        assert.isAtMost(gap, 0.55 * HOUR * 1000)
      }
    }))

  it.scoped("1,000 concurrent get on a cold cache share one token request", () =>
    Effect.gen(function*() {
      const { fake, manager } = yield* setup(HOUR)
      const tokens = yield* Effect.all(Array.from({ length: 1000 }, () => manager.get), { concurrency: "unbounded" })
      assert.strictEqual((yield* fake.requests).length, 1)
      assert.isTrue(tokens.every((token) => token === tokens[0]))
    }))

  it.scoped("a failed fetch is not cached: remembered for the cooldown, then the next get fetches again", () =>
    Effect.gen(function*() {
      const { fake, manager } = yield* setup(HOUR, { policy: { jitter: 0 } })
      yield* fake.script(new TokenEndpointUnavailable({ reason: "ServerError", status: 503 }))
      const first = yield* Effect.flip(manager.get)
      assert.strictEqual(first._tag, "TokenEndpointUnavailable")
      // Within the cooldown (3 s by default): the same error at once, no request.
      assert.strictEqual(yield* Effect.flip(manager.get), first)
      assert.strictEqual((yield* fake.requests).length, 1)
      yield* TestClock.adjust("3 seconds")
      const token = yield* manager.get
      assert.strictEqual(Redacted.value(token.value), "token-2")
      assert.strictEqual((yield* fake.requests).length, 2)
    }))

  it.scoped("backoff honours Retry-After while the current token is usable", () =>
    Effect.gen(function*() {
      const { fake, manager } = yield* setup(HOUR, { policy: { jitter: 0 } })
      yield* manager.get
      const unavailable = new TokenEndpointUnavailable({
        reason: "RateLimited",
        status: 429,
        retryAfter: Duration.seconds(120)
      })
      yield* fake.script(unavailable, unavailable)
      yield* advance(Duration.minutes(40), Duration.seconds(15), Effect.asVoid(manager.get))
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 4)
      assert.strictEqual(requests[1], HOUR / 2 * 1000)
      assert.isAtLeast(requests[2]! - requests[1]!, 120_000)
      assert.isAtMost(requests[2]! - requests[1]!, 125_000)
      assert.isAtLeast(requests[3]! - requests[2]!, 120_000)
      const token = yield* manager.get
      assert.strictEqual(Redacted.value(token.value), "token-4")
    }))

  it.scoped("transient failures back off exponentially, then give up when the token becomes unusable", () =>
    Effect.gen(function*() {
      const { fake, manager } = yield* setup(60, {
        policy: { jitter: 0, retryBase: "1 second", retryMax: "4 seconds" }
      })
      const failure = new TokenEndpointUnavailable({ reason: "Network" })
      yield* manager.get
      yield* fake.script(...Array.from({ length: 100 }, () => failure))
      yield* TestClock.adjust("55 seconds")
      const requests = yield* fake.requests
      const gaps = requests.slice(2).map((at, i) => at - requests[i + 1]!)
      // Equal jitter: each delay lies in [d/2, d] of 1 s, 2 s, 4 s, 4 s, …
      assert.isAtLeast(gaps[0]!, 500)
      assert.isAtMost(gaps[0]!, 1000)
      assert.isAtLeast(gaps[1]!, 1000)
      assert.isAtMost(gaps[1]!, 2000)
      assert.isTrue(gaps.slice(2).every((gap) => gap >= 2000 && gap <= 4000))
      // The token of 60 s is refreshed at 30 s, unusable from 52.5 s (margin capped at 12.5 % of the lifetime):
      // retries stop there.
      const last = requests[requests.length - 1]!
      assert.isBelow(last, 52_500)
      const countAtGiveUp = requests.length
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* fake.requests).length, countAtGiveUp)
      // A caller now finds no usable token: it fetches itself and sees the transient error.
      const error = yield* Effect.flip(manager.get)
      assert.strictEqual(error._tag, "TokenEndpointUnavailable")
    }))

  it.scoped("InvalidCredentials on refresh is not retried and surfaces once the token is unusable", () =>
    Effect.gen(function*() {
      const { fake, manager } = yield* setup(HOUR, { policy: { jitter: 0 } })
      const first = yield* manager.get
      yield* fake.script(new InvalidCredentials({ status: 401, error: "invalid_client" }))
      yield* TestClock.adjust("31 minutes")
      assert.strictEqual((yield* fake.requests).length, 2)
      // Still usable: callers keep getting the current token, and nothing is retried.
      yield* advance("28 minutes", "1 minute", Effect.asVoid(manager.get))
      assert.strictEqual(yield* manager.get, first)
      assert.strictEqual((yield* fake.requests).length, 2)
      yield* fake.script(new InvalidCredentials({ status: 401, error: "invalid_client" }))
      yield* TestClock.adjust("1 minute")
      const error = yield* Effect.flip(manager.get)
      assert.strictEqual(error._tag, "InvalidCredentials")
      assert.strictEqual((yield* fake.requests).length, 3)
    }))

  it.scoped("a defect in the endpoint does not kill the refresh fiber", () =>
    Effect.gen(function*() {
      const { fake, manager } = yield* setup(HOUR, { policy: { jitter: 0 } })
      yield* manager.get
      yield* fake.script({ die: "bug in a custom endpoint" })
      yield* TestClock.adjust("31 minutes")
      assert.strictEqual((yield* fake.requests).length, 2)
      // Given up on that token: callers fetch once it is unusable, and the next token is refreshed on schedule.
      yield* TestClock.adjust("30 minutes")
      const token = yield* manager.get
      assert.strictEqual(Redacted.value(token.value), "token-3")
      yield* TestClock.adjust("31 minutes")
      assert.strictEqual((yield* fake.requests).length, 4)
    }))

  it.scoped("invalidate drops a token only while it is current: 50 rejections cause one refetch", () =>
    Effect.gen(function*() {
      const { fake, manager } = yield* setup(HOUR)
      const seen = yield* manager.get
      const results = yield* Effect.all(
        Array.from({ length: 50 }, () => Effect.zipRight(manager.invalidate(seen), manager.get)),
        { concurrency: "unbounded" }
      )
      assert.strictEqual((yield* fake.requests).length, 2)
      assert.isTrue(results.every((token) => Redacted.value(token.value) === "token-2"))
      assert.isFalse(yield* manager.invalidate(seen))
      assert.strictEqual((yield* fake.requests).length, 2)
    }))

  it.scoped("refresh forces a new token", () =>
    Effect.gen(function*() {
      const { fake, manager } = yield* setup(HOUR)
      yield* manager.get
      const fresh = yield* manager.refresh
      assert.strictEqual(Redacted.value(fresh.value), "token-2")
      assert.strictEqual(yield* manager.get, fresh)
      assert.strictEqual((yield* fake.requests).length, 2)
    }))

  it.scoped("a token that lives seconds is fetched about once per usable lifetime, never in a loop", () =>
    Effect.gen(function*() {
      // 2 s: shorter than the 5 s floor under refreshes, so it is not refreshed ahead; callers fetch on expiry
      // (usable for 1.75 s: the expiry margin is capped at 12.5 % of the lifetime).
      const { fake, manager } = yield* setup(2)
      yield* manager.get
      yield* advance("40 seconds", "250 millis", Effect.asVoid(manager.get))
      const count = (yield* fake.requests).length
      assert.isAtLeast(count, 20)
      assert.isAtMost(count, 24)
    }))

  it.scoped("with the floor at 1 s, a 2-second token is refreshed ahead once per lifetime", () =>
    Effect.gen(function*() {
      const { fake, manager } = yield* setup(2, { policy: { minRefreshInterval: "1 second" } })
      yield* manager.get
      yield* advance("40 seconds", "250 millis", Effect.asVoid(manager.get))
      const requests = yield* fake.requests
      assert.isAtLeast(requests.length, 36)
      assert.isAtMost(requests.length, 41)
      for (let i = 1; i < requests.length; i++) assert.isAtLeast(requests[i]! - requests[i - 1]!, 1000)
    }))

  it.scoped("a token that lives ten years is still refreshed daily", () =>
    Effect.gen(function*() {
      const { fake, manager } = yield* setup(10 * 365 * 24 * HOUR)
      yield* manager.get
      yield* TestClock.adjust("23 hours")
      assert.strictEqual((yield* fake.requests).length, 1)
      yield* TestClock.adjust("2 hours")
      assert.strictEqual((yield* fake.requests).length, 2)
    }))

  it.scoped("events report fetches, refreshes, failures and invalidations without secrets", () =>
    Effect.gen(function*() {
      const { fake, manager } = yield* setup(HOUR, { policy: { jitter: 0 } })
      const collected = yield* Stream.runCollect(Stream.take(manager.events, 4)).pipe(Effect.fork)
      yield* Effect.yieldNow()
      const token = yield* manager.get
      yield* fake.script(new InvalidCredentials({ status: 401, error: "invalid_client" }))
      yield* TestClock.adjust("31 minutes")
      yield* manager.invalidate(token)
      yield* manager.get
      const events = Chunk.toReadonlyArray(yield* Fiber.join(collected))
      assert.deepStrictEqual(events.map((event) => event._tag), ["Fetched", "Failed", "Invalidated", "Fetched"])
      assert.strictEqual(events[0]!._tag === "Fetched" && events[0]!.reason, "initial")
      assert.strictEqual(events[1]!._tag === "Failed" && events[1]!.error, "InvalidCredentials")
      assert.strictEqual(events[3]!._tag === "Fetched" && events[3]!.reason, "invalidated")
      assert.notInclude(JSON.stringify(events), "token-")
    }))

  it.effect("closing the scope stops the refresh fiber and every fetch: no fiber is left running", () =>
    Effect.gen(function*() {
      const supervisor = yield* Supervisor.track
      const scope = yield* Scope.make()
      const fake = yield* makeFakeEndpoint(HOUR)
      const manager = yield* TokenManager.make(fake.endpoint).pipe(Scope.extend(scope), Effect.supervised(supervisor))
      yield* manager.get.pipe(Effect.supervised(supervisor))
      assert.isAtLeast((yield* supervisor.value).length, 1)
      yield* Scope.close(scope, Exit.void)
      assert.deepStrictEqual(yield* supervisor.value, [])
    }))

  it.effect("the layer builds over the TokenEndpoint in context", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeEndpoint(HOUR)
      const token = yield* Effect.flatMap(TokenManager.TokenManager, (manager) => manager.get).pipe(
        Effect.provide(TokenManager.layer({ name: "test" })),
        Effect.provideService(TokenEndpoint, fake.endpoint)
      )
      assert.strictEqual(Redacted.value(token.value), "token-1")
    }))
})

describe("RefreshPolicy", () => {
  const token = (lifetimeSeconds: number) =>
    new AccessToken({
      value: Redacted.make("t"),
      tokenType: "Bearer",
      issuedAt: 0,
      expiresAt: lifetimeSeconds * 1000,
      scope: Option.none(),
      serverCreatedAt: Option.none()
    })

  it("keeps the refresh point inside its jitter window and before the usable limit", () => {
    const policy = RefreshPolicy.defaults
    for (const random of [0, 0.25, 0.5, 0.75, 0.9999]) {
      const at = RefreshPolicy.refreshPoint(policy, token(HOUR), random)
      assert.isAtLeast(at, 0.45 * HOUR * 1000)
      assert.isAtMost(at, 0.55 * HOUR * 1000)
    }
    assert.strictEqual(RefreshPolicy.usableUntil(policy, token(HOUR)), (HOUR - 30) * 1000)
  })

  it("never refreshes later than expiry − 60 s, nor after the usable limit for short tokens", () => {
    const late = Either.getOrThrow(RefreshPolicy.make({ refreshAt: 1, jitter: 0, minRefreshInterval: "1 second" }))
    assert.strictEqual(RefreshPolicy.refreshPoint(late, token(HOUR), 0.5), (HOUR - 60) * 1000)
    for (const lifetime of [3, 5, 30, 90]) {
      assert.isBelow(
        RefreshPolicy.refreshPoint(late, token(lifetime), 0.99),
        RefreshPolicy.usableUntil(late, token(lifetime))
      )
    }
  })

  it("rejects out-of-range values with a ConfigError naming the field", () => {
    const cases: ReadonlyArray<readonly [RefreshPolicy.Options, string]> = [
      [{ refreshAt: 1.5 }, "refreshAt"],
      [{ refreshAt: 0 }, "refreshAt"],
      [{ jitter: -0.1 }, "jitter"],
      [{ jitter: 2 }, "jitter"],
      [{ maxMarginRatio: 1 }, "maxMarginRatio"],
      [{ defaultLifetime: 0 }, "defaultLifetime"],
      [{ maxRefreshInterval: "1 millis" }, "maxRefreshInterval"],
      [{ minRefreshInterval: "10 millis" }, "minRefreshInterval"],
      [{ minRefreshInterval: "10 seconds", maxRefreshInterval: "5 seconds" }, "maxRefreshInterval"],
      [{ retryBase: "1 millis" }, "retryBase"],
      [{ retryBase: "10 seconds", retryMax: "1 second" }, "retryMax"],
      [{ failureCooldown: 0 }, "failureCooldown"],
      [{ maxRetryAfter: "1 day" }, "maxRetryAfter"],
      [{ refreshMargin: "2 days" }, "refreshMargin"],
      [{ expiryMargin: Number.NaN }, "expiryMargin"],
      [{ retryMax: -1 }, "retryMax"],
      [{ refreshAt: "half" as unknown as number }, "refreshAt"],
      [{ retryMax: "soon" as Duration.DurationInput }, "retryMax"]
    ]
    for (const [options, field] of cases) {
      const result = RefreshPolicy.make(options)
      assert.isTrue(Either.isLeft(result), field)
      const error = Either.isLeft(result) ? result.left : undefined
      assert.isTrue(error !== undefined && ConfigError.isInvalidData(error) && error.path[0] === field, field)
      assert.include(String(error), field)
    }
    assert.isTrue(Either.isRight(RefreshPolicy.make({ refreshAt: 1e-9 })))
  })

  it("retry delays double from the base, cap at the maximum and honour Retry-After", () => {
    const policy = RefreshPolicy.defaults
    assert.strictEqual(Duration.toMillis(RefreshPolicy.retryDelay(policy, 1, 0.9999)), 200)
    assert.strictEqual(Duration.toMillis(RefreshPolicy.retryDelay(policy, 3, 0)), 400)
    assert.strictEqual(Duration.toMillis(RefreshPolicy.retryDelay(policy, 20, 0.99999)), 30_000)
    assert.strictEqual(Duration.toMillis(RefreshPolicy.retryDelay(policy, 1, 0, Duration.seconds(90))), 90_000)
  })
})

describe("TokenManager in a Node process", () => {
  it("an idle process exits once the program ends: the refresh fiber holds no timer", async () => {
    const { execFile } = await import("node:child_process")
    const { fileURLToPath } = await import("node:url")
    const script = fileURLToPath(new URL("./fixtures/idle-exit.ts", import.meta.url))
    // The bound is a failure detector, not a wait: the process normally exits in well under a second after start-up.
    const result = await new Promise<{ code: number | null; stdout: string; killed: boolean }>((resolve) => {
      const child = execFile(
        process.execPath,
        ["--import", "tsx", script],
        { timeout: 30_000 },
        (error, stdout) =>
          resolve({
            code: error ? (typeof error.code === "number" ? error.code : null) : 0,
            stdout,
            killed: child.killed
          })
      )
    })
    assert.isFalse(result.killed, "the process was still running after 30 seconds")
    assert.strictEqual(result.code, 0)
    assert.strictEqual(result.stdout.trim(), "done")
  })
})

describe("TokenManager metrics", () => {
  it.scoped("count token requests by outcome and failures by tag, labelled with the manager's name", () =>
    Effect.gen(function*() {
      const name = "metrics-test"
      const { fake, manager } = yield* setup(HOUR, { name })
      yield* fake.script(new InvalidCredentials({ status: 401 }), new TokenEndpointUnavailable({ reason: "Network" }))
      yield* Effect.flip(manager.get)
      yield* TestClock.adjust("5 seconds") // past the failure memory
      yield* Effect.flip(manager.get)
      yield* TestClock.adjust("5 seconds")
      yield* manager.get
      // Read from the registry by name and tags, as an exporter would.
      const count = (metric: string, tags: Record<string, string>) =>
        Effect.map(Metric.snapshot, (pairs) =>
          pairs
            .filter((pair) =>
              pair.metricKey.name === metric &&
              Object.entries(tags).every(([key, value]) =>
                pair.metricKey.tags.some((tag) => tag.key === key && tag.value === value)
              )
            )
            .reduce((sum, pair) => sum + Number((pair.metricState as { count?: number | bigint }).count ?? 0), 0))
      assert.strictEqual(yield* count("effect_oauth_token_requests_total", { manager: name, outcome: "success" }), 1)
      assert.strictEqual(yield* count("effect_oauth_token_requests_total", { manager: name, outcome: "failure" }), 2)
      assert.strictEqual(
        yield* count("effect_oauth_token_failures_total", { manager: name, error: "InvalidCredentials" }),
        1
      )
      assert.strictEqual(
        yield* count("effect_oauth_token_failures_total", { manager: name, error: "TokenEndpointUnavailable" }),
        1
      )
    }))
})
