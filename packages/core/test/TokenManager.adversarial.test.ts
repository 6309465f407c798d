import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { AccessToken } from "../src/AccessToken.js"
import { TokenEndpointUnavailable } from "../src/OAuthError.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import * as TokenManager from "../src/TokenManager.js"
import * as TokenStore from "../src/TokenStore.js"
import { makeFakeEndpoint } from "./utils/FakeEndpoint.js"
import * as HttpTestServer from "./utils/HttpTestServer.js"

const HOUR = 3_600_000

// A custom endpoint whose tokens carry the times `times(now)` returns (not anchored at receipt). Counts requests.
const stamping = (times: (now: number) => readonly [issuedAt: number, expiresAt: number]) => {
  let count = 0
  const request = Effect.map(Clock.currentTimeMillis, (now) => {
    count++
    const [issuedAt, expiresAt] = times(now)
    return new AccessToken({
      value: Redacted.make(`token-${count}`),
      tokenType: "Bearer",
      issuedAt,
      expiresAt,
      scope: Option.none(),
      serverCreatedAt: Option.none()
    })
  })
  return { endpoint: { request }, count: () => count }
}

describe("TokenManager against tokens whose times lie", () => {
  it.scoped("a token claiming to be 10 hours old: refreshes stay minRefreshInterval apart, no spin", () =>
    Effect.gen(function*() {
      const fake = stamping((now) => [now - 10 * HOUR, now + HOUR])
      const manager = yield* TokenManager.make(fake.endpoint)
      yield* manager.get
      for (let i = 0; i < 60; i++) yield* TestClock.adjust("1 second")
      // 1 + one refresh per 5 s at most.
      assert.isAtMost(fake.count(), 13)
      assert.isAtLeast(fake.count(), 2)
    }))

  it.scoped("a token already expired when it arrives is refused (TokenResponseInvalid) and the failure remembered", () =>
    Effect.gen(function*() {
      const fake = stamping((now) => [now - 2 * HOUR, now - HOUR])
      const manager = yield* TokenManager.make(fake.endpoint)
      for (let i = 0; i < 100; i++) {
        const error = yield* Effect.flip(manager.get)
        assert.strictEqual(error._tag, "TokenResponseInvalid")
      }
      assert.strictEqual(fake.count(), 1)
    }))

  it.live(
    "expires_in 2 s with a body taking 3 s: the token is refused, never handed out dead",
    () =>
      Effect.gen(function*() {
        const server = yield* HttpTestServer.make(() => ({
          status: 200,
          headers: { "content-type": "application/json" },
          write: (res) => {
            res.write(`{"access_token":"abc","token_type":"Bearer",`)
            const timer = setTimeout(() => res.end(`"expires_in":2}`), 3000)
            res.on("close", () => clearTimeout(timer))
          }
        }))
        const endpoint = yield* TokenEndpoint.make({
          tokenUrl: `${server.origin}/t`,
          clientId: "id",
          clientSecret: Redacted.make("a-realistic-secret")
        })
        const manager = yield* TokenManager.make(endpoint)
        const error = yield* Effect.flip(manager.get)
        assert.strictEqual(error._tag, "TokenResponseInvalid")
        assert.include(error.message, "already unusable when it arrived")
      }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)),
    20_000
  )
})

describe("TokenManager when the wall clock steps back", () => {
  it.scoped("after a rejection and a step back of an hour, the next replacement still waits at most 5 s", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(10 * HOUR)
      const fake = yield* makeFakeEndpoint(24 * 3600)
      const manager = yield* TokenManager.make(fake.endpoint)
      yield* manager.invalidate(yield* manager.get)
      const second = yield* manager.get
      yield* TestClock.setTime(9 * HOUR)
      yield* manager.invalidate(second)
      const fiber = yield* Effect.fork(manager.get)
      yield* TestClock.adjust("5 seconds")
      assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)))
    }))

  it.scoped("a remembered failure is forgotten when the clock steps back, not stretched by the step", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(10 * HOUR)
      const fake = yield* makeFakeEndpoint(3600)
      yield* fake.script(new TokenEndpointUnavailable({ reason: "ServerError", status: 503 }))
      const manager = yield* TokenManager.make(fake.endpoint)
      yield* Effect.flip(manager.get)
      yield* TestClock.setTime(9 * HOUR)
      assert.strictEqual(Redacted.value((yield* manager.get).value), "token-2")
    }))
})

describe("TokenManager against a store that is always busy", () => {
  it.scoped("Busy with retryIn 1 ms: a cold get costs a few store commands a second, and ends by itself", () =>
    Effect.gen(function*() {
      let commands = 0
      const store: TokenStore.Service = {
        slot: () =>
          Effect.succeed({
            get: Effect.sync(() => (commands++, Option.none())),
            claim: Effect.sync(() => (commands++, TokenStore.Claim.Busy({ retryIn: Duration.millis(1) }))),
            publish: () => Effect.void,
            release: () => Effect.void,
            invalidate: () => Effect.succeed(false),
            changes: Stream.never
          })
      }
      const fake = yield* makeFakeEndpoint(3600)
      const manager = yield* TokenManager.make(fake.endpoint, { store })
      const fiber = yield* Effect.fork(manager.get)
      for (let i = 0; i < 61; i++) yield* TestClock.adjust("1 second")
      // The wait for another lease holder is bounded (60 s): then the manager fetches itself.
      assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)))
      assert.strictEqual((yield* fake.requests).length, 1)
      assert.isBelow(commands, 200)
    }))
})

describe("TokenManager.make with odd options from untyped JavaScript", () => {
  const odd: ReadonlyArray<readonly [string, unknown, string | undefined]> = [
    ["store: {}", { store: {} }, "store"],
    ["store: 42", { store: 42 }, "store"],
    ["store: { slot: 1 }", { store: { slot: 1 } }, "store"],
    ["policy: 'fast'", { policy: "fast" }, "policy"],
    ["policy: 42", { policy: 42 }, "policy"],
    ["policy: []", { policy: [] }, "policy"],
    ["clockSkewWarning: -5", { clockSkewWarning: -5 }, "clockSkewWarning"],
    ["options: 'x'", "x", undefined],
    ["options: null", null, undefined]
  ]
  it.scoped("each fails with a ConfigError naming the field, never a defect, never silently accepted", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeEndpoint(3600)
      for (const [label, options, field] of odd) {
        const exit = yield* Effect.exit(
          Effect.scoped(TokenManager.make(fake.endpoint, options as TokenManager.Options))
        )
        assert.isTrue(Exit.isFailure(exit) && Cause.isFailType(exit.cause), label)
        const error = Exit.isFailure(exit) && Cause.isFailType(exit.cause) ? exit.cause.error : undefined
        assert.isTrue(error !== undefined && ConfigError.isInvalidData(error), label)
        if (field !== undefined) assert.strictEqual((error as ConfigError.InvalidData).path[0], field, label)
      }
    }))
})
