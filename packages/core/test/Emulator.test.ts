/**
 * The engine over a real socket against the provider emulator: what the server saw, and what a failing run printed.
 */
import { Emulator, Fault, Recorder } from "@effect-oauth/testing"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as Util from "node:util"
import type { AccessToken } from "../src/AccessToken.js"
import * as TokenEndpoint from "../src/TokenEndpoint.js"
import * as TokenManager from "../src/TokenManager.js"

const SECRET = "s3cr3t+/=value"

const setup = (options: TokenManager.Options = {}) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.make({ provider: "rfc6749", clients: [{ id: "app", secret: SECRET }] })
    const endpoint = yield* TokenEndpoint.make({
      tokenUrl: emulator.tokenUrl,
      clientId: "app",
      clientSecret: Redacted.make(SECRET)
    })
    const manager = yield* TokenManager.make(endpoint, options)
    return { emulator, manager }
  })

describe("TokenManager against the emulator", () => {
  it.scoped("1,000 concurrent get on a cold cache make one token request at the server", () =>
    Effect.gen(function*() {
      const { emulator, manager } = yield* setup()
      const tokens = yield* Effect.all(Array.from({ length: 1000 }, () => manager.get), { concurrency: "unbounded" })
      const stats = yield* emulator.stats
      assert.strictEqual(stats.tokenRequests, 1)
      assert.isTrue(tokens.every((token) => token === tokens[0]))
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scoped("no log line, event, error, token or span of a failing run shows the secret or a token", () =>
    Effect.gen(function*() {
      const recorder = yield* Recorder.make

      const run = Effect.gen(function*() {
        const { emulator, manager } = yield* setup({ policy: { jitter: 0 } })
        const events = yield* Queue.unbounded<TokenManager.TokenEvent>()
        yield* Stream.runForEach(manager.events, (event) => Queue.offer(events, event)).pipe(Effect.forkScoped)
        yield* Effect.yieldNow()
        const tokens: Array<AccessToken> = [yield* manager.get]
        const seen: Array<TokenManager.TokenEvent> = [yield* Queue.take(events)]

        // The refresh meets a 503 with Retry-After, then a regenerated secret.
        yield* emulator.injectFault(Fault.unavailable("5 seconds"))
        yield* TestClock.adjust("30 minutes")
        seen.push(yield* Queue.take(events))
        yield* emulator.regenerateSecret("app")
        yield* TestClock.adjust("5 seconds")
        seen.push(yield* Queue.take(events))
        // Still usable: callers are served; once unusable, errors reach them with their tags.
        tokens.push(yield* manager.get)
        yield* TestClock.adjust("30 minutes")
        yield* emulator.injectFault(Fault.malformedJson)
        const invalid = yield* Effect.flip(manager.get)
        // The failure is remembered for the policy's cooldown (3 s): the next request goes out after it.
        assert.strictEqual(yield* Effect.flip(manager.get), invalid)
        yield* TestClock.adjust("4 seconds")
        const error = yield* Effect.flip(manager.get)
        assert.deepStrictEqual([invalid._tag, error._tag], ["TokenResponseInvalid", "InvalidCredentials"])
        seen.push(...(yield* Queue.takeAll(events)))
        assert.deepStrictEqual(
          seen.map((event) => event._tag === "Failed" ? event.error : event._tag),
          ["Fetched", "TokenEndpointUnavailable", "InvalidCredentials", "TokenResponseInvalid", "InvalidCredentials"]
        )
        return { tokens, seen, errors: [invalid, error], requests: yield* emulator.requests }
      })

      const { errors, requests, seen, tokens } = yield* recorder.record(run)
      assert.strictEqual(requests.length, 5)
      assert.isAbove(recorder.logs.length, 1)
      const sensitive = [SECRET, encodeURIComponent(SECRET), ...tokens.map((token) => Redacted.value(token.value))]
      const renderings = [
        // The emulator's own server spans hold the provider's answers: the provider's business, not the client's.
        ...Recorder.renderings(recorder, { spans: (span) => span.kind !== "server" }),
        JSON.stringify(seen),
        Util.inspect(seen, { depth: Infinity }),
        ...errors.flatMap((error) => [
          String(error),
          JSON.stringify(error),
          Util.inspect(error, { depth: Infinity }),
          Cause.pretty(Cause.fail(error))
        ]),
        ...tokens.flatMap((token) => [String(token), JSON.stringify(token), Util.inspect(token, { depth: Infinity })])
      ]
      for (const rendering of renderings) {
        for (const value of sensitive) assert.notInclude(rendering, value)
      }
      assert.isTrue(recorder.spans.some((span) => span.name === "TokenManager.fetch"))
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scoped("an interrupted caller does not cancel the shared fetch for the others", () =>
    Effect.gen(function*() {
      const { emulator, manager } = yield* setup()
      yield* emulator.injectFault(Fault.latency("2 seconds"))
      const impatient = yield* Effect.fork(manager.get)
      const patient = yield* Effect.fork(manager.get)
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(impatient)
      yield* TestClock.adjust("2 seconds")
      const token = yield* Fiber.join(patient)
      assert.isTrue(Redacted.value(token.value).length > 0)
      assert.strictEqual((yield* emulator.stats).tokenRequests, 1)
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})

describe("server clock skew", () => {
  it.scoped("a created_at far from the local clock is reported in the event and logged as a warning", () =>
    Effect.gen(function*() {
      const recorder = yield* Recorder.make
      const emulator = yield* Emulator.make({ provider: "bringg", clients: [{ id: "oms", secret: SECRET }] })
      const endpoint = yield* TokenEndpoint.make({
        tokenUrl: emulator.tokenUrl,
        clientId: "oms",
        clientSecret: Redacted.make(SECRET),
        authMethod: "client_secret_post",
        encoding: "multipart"
      })
      const manager = yield* TokenManager.make(endpoint)
      const events = yield* Queue.unbounded<TokenManager.TokenEvent>()
      yield* Stream.runForEach(manager.events, (event) => Queue.offer(events, event)).pipe(Effect.forkScoped)
      yield* Effect.yieldNow()
      yield* TestClock.adjust("1 hour")
      yield* recorder.record(manager.get)
      yield* emulator.injectFault(Fault.clockSkew("5 minutes", "behind"))
      yield* recorder.record(manager.refresh)
      const [fetched, refreshed] = yield* Queue.takeN(events, 2)
      assert.deepStrictEqual(
        [fetched, refreshed].map((event) =>
          event?._tag === "Fetched" || event?._tag === "Refreshed" ? event.serverClockSkew : null
        ),
        [Option.some(0), Option.some(300_000)]
      )
      assert.strictEqual(recorder.logs.filter((line) => line.includes("clock differs")).length, 1)
      assert.include(recorder.logs.find((line) => line.includes("clock differs")), "skewSeconds=300")
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})
