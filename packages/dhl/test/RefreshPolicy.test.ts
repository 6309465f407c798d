/**
 * The default refresh policy over four hours of TestClock against the emulator: DHL's advice (refresh every 15 to 30
 * minutes, so that no request meets an expired token) holds.
 */
import type * as TokenManager from "@effect-oauth/core/TokenManager"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as DhlEcommerceClient from "../src/DhlEcommerceClient.js"
import * as DhlEcommerceProvider from "../src/DhlEcommerceProvider.js"
import { setup } from "./utils/setup.js"

const MINUTE = 60_000

// The HTTP client, reporting each token request as it starts: the test then waits for its outcome before moving the
// clock on, so that a token's receipt time is the time at which it was requested.
const reportingTokenRequests = (started: Queue.Enqueue<void>) =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (client) =>
      HttpClient.tapRequest(client, (request) =>
        request.url.endsWith(DhlEcommerceProvider.tokenPath) ? Queue.offer(started, undefined) : Effect.void))
  ).pipe(Layer.provide(FetchHttpClient.layer))

describe("the default refresh policy", () => {
  it.scoped("over 4 hours with a caller every minute: refreshes 15–30 minutes apart, no expired token anywhere", () =>
    Effect.gen(function*() {
      const started = yield* Queue.unbounded<void>()
      yield* Effect.gen(function*() {
        const { emulator, options } = yield* setup()
        // The token request's timeout runs on the TestClock too: a one-minute step would otherwise expire the
        // default 10 seconds while the refresh's request is still on the (real) socket.
        const app = yield* DhlEcommerceClient.make({ ...options, timeout: "5 minutes" })
        const events = yield* Queue.unbounded<TokenManager.TokenEvent>()
        yield* Stream.runForEach(app.manager.events, (event) => Queue.offer(events, event)).pipe(Effect.forkScoped)
        yield* Effect.yieldNow()

        const received: Array<TokenManager.TokenEvent> = []
        let closestToExpiry = Infinity
        const call = Effect.gen(function*() {
          const response = yield* app.client.get("/tracking/v4/package", { urlParams: { trackingId: "1" } })
          assert.strictEqual(response.status, 200)
          const token = yield* app.manager.get
          closestToExpiry = Math.min(closestToExpiry, token.expiresAt - (yield* Clock.currentTimeMillis))
        })
        // Waits for the outcome of every token request that started, before the clock moves on.
        const settle = Effect.gen(function*() {
          for (let n = Chunk.size(yield* Queue.takeAll(started)); n > 0; n--) received.push(yield* Queue.take(events))
        })

        yield* call
        yield* settle
        for (let minute = 1; minute <= 240; minute++) {
          yield* TestClock.adjust("1 minute")
          yield* call
          yield* settle
        }

        assert.deepStrictEqual(
          received.map((event) => event._tag === "Refreshed" || event._tag === "Fetched" ? event.reason : event._tag),
          ["initial", ...Array.from({ length: received.length - 1 }, () => "scheduled")]
        )
        const issued = received.map((event) =>
          event._tag === "Refreshed" || event._tag === "Fetched" ? event.issuedAt : 0
        )
        const intervals = issued.slice(1).map((at, i) => (at - issued[i]!) / MINUTE)
        for (const interval of intervals) {
          assert.isTrue(interval >= 15 && interval <= 30, `refreshed after ${interval} min`)
        }
        // 240 minutes at one refresh every 20¼–24¾ minutes (measured to the next whole minute).
        assert.isTrue(intervals.length >= 9 && intervals.length <= 12, `${intervals.length} refreshes`)
        // Every token handed out had far more than the 30-second expiry margin left.
        assert.isAbove(closestToExpiry, 30 * MINUTE)
        const stats = yield* emulator.stats
        assert.deepStrictEqual(
          [stats.tokenRequests, stats.resourceRequests, stats.resourceRejections],
          [received.length, 241, 0]
        )
      }).pipe(Effect.provide(reportingTokenRequests(started)))
    }))
})
