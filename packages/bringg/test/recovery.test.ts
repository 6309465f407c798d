/**
 * What happens after the first token, over a real socket against the Bringg emulator: a regenerated secret, an
 * expired or revoked token, and several apps side by side.
 */
import { Emulator, Fault } from "@effect-oauth/testing"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { app, BILLING, callService, describeEvent, eventsOf, OMS, WMS } from "./utils.js"

describe("a regenerated secret", () => {
  it.scoped("the next API call fails with InvalidCredentials after one refetch; the new secret works", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ provider: "bringg", clients: [OMS] })
      const oms = yield* app(emulator, OMS)
      const events = yield* eventsOf(oms.manager)
      assert.strictEqual((yield* callService(oms.client, "get_task")).status, 200)

      const secret = yield* emulator.regenerateSecret(OMS.id)
      yield* emulator.reset
      const error = yield* Effect.flip(callService(oms.client, "get_task"))
      assert.strictEqual(error._tag, "InvalidCredentials")
      // The emulator saw exactly: the API call with the old token (refused), then one token request (refused).
      const stats = yield* emulator.stats
      assert.deepStrictEqual(
        [stats.resourceRequests, stats.resourceRejections, stats.tokenRequests, stats.tokensIssued],
        [1, 1, 1, 0]
      )
      assert.deepStrictEqual((yield* emulator.requests).map((request) => [request.clientId, request.status]), [
        [OMS.id, 401]
      ])
      assert.deepStrictEqual((yield* Queue.takeAll(events)).pipe((all) => [...all].map(describeEvent)), [
        "Fetched",
        "Invalidated",
        "Failed:InvalidCredentials"
      ])
      // It stays a typed, permanent failure: no retry loop behind the caller's back (a later call, past the failure's
      // short memory, asks once more and fails the same way).
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* Effect.flip(callService(oms.client, "get_task")))._tag, "InvalidCredentials")
      assert.strictEqual((yield* emulator.stats).tokenRequests, 2)

      const rotated = yield* app(emulator, { id: OMS.id, secret })
      assert.deepStrictEqual((yield* callService(rotated.client, "get_task")).body.client_id, OMS.id)
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})

describe("an expired token on an API call", () => {
  it.scoped("a token that lives shorter than its expires_in said: the 401 is recovered with one refetch", () =>
    Effect.gen(function*() {
      // Bringg's write APIs get 30-minute tokens; the answer claims 4 hours.
      const emulator = yield* Emulator.make({ provider: "bringg", clients: [OMS], tokenLifetime: "30 minutes" })
      yield* emulator.injectFault(Fault.expiresIn(4 * 60 * 60))
      const oms = yield* app(emulator, OMS)
      const events = yield* eventsOf(oms.manager)
      assert.strictEqual((yield* callService(oms.client, "create_task")).status, 200)
      yield* TestClock.adjust("45 minutes")
      const reply = yield* callService(oms.client, "create_task")
      assert.deepStrictEqual(reply.body, { success: true, service: "create_task", method: "POST", client_id: OMS.id })
      const stats = yield* emulator.stats
      assert.deepStrictEqual(
        [stats.tokenRequests, stats.resourceRequests, stats.resourceRejections],
        [2, 3, 1]
      )
      assert.deepStrictEqual([...(yield* Queue.takeAll(events))].map(describeEvent), [
        "Fetched",
        "Invalidated",
        "Fetched"
      ])
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scoped("a revoked token: the 401 is recovered with one refetch", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ provider: "bringg", clients: [OMS] })
      const oms = yield* app(emulator, OMS)
      const token = yield* oms.manager.get
      assert.isTrue(yield* emulator.revokeToken(Redacted.value(token.value)))
      assert.strictEqual((yield* callService(oms.client, "update_task")).status, 200)
      const stats = yield* emulator.stats
      assert.deepStrictEqual(
        [stats.tokenRequests, stats.resourceRequests, stats.resourceRejections],
        [2, 2, 1]
      )
      const fresh = yield* oms.manager.get
      assert.notStrictEqual(Redacted.value(fresh.value), Redacted.value(token.value))
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})

describe("three apps in one program", () => {
  it.scoped("OMS, WMS and billing: independent tokens, refreshes and failures", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ provider: "bringg", clients: [OMS, WMS, BILLING] })
      const policy = { jitter: 0 }
      const oms = yield* app(emulator, OMS, { name: "bringg-oms", ttl: "30 minutes", policy })
      const wms = yield* app(emulator, WMS, { name: "bringg-wms", ttl: "1 hour", policy })
      const billing = yield* app(emulator, BILLING, { name: "bringg-billing", ttl: "4 hours", policy })
      const events = {
        oms: yield* eventsOf(oms.manager),
        wms: yield* eventsOf(wms.manager),
        billing: yield* eventsOf(billing.manager)
      }
      const drain = Effect.all({
        oms: Queue.takeAll(events.oms),
        wms: Queue.takeAll(events.wms),
        billing: Queue.takeAll(events.billing)
      }).pipe(
        Effect.map(({ billing, oms, wms }) => ({
          oms: [...oms].map(describeEvent),
          wms: [...wms].map(describeEvent),
          billing: [...billing].map(describeEvent)
        }))
      )
      const byClient = Effect.map(emulator.stats, (stats) => stats.tokenRequestsByClient)

      const replies = yield* Effect.all([
        callService(oms.client, "create_task"),
        callService(wms.client, "get_open_tasks"),
        callService(billing.client, "get_task")
      ], { concurrency: "unbounded" })
      assert.deepStrictEqual(replies.map(({ body }) => body.client_id), [OMS.id, WMS.id, BILLING.id])
      const tokens = yield* Effect.all([oms.manager.get, wms.manager.get, billing.manager.get])
      assert.strictEqual(new Set(tokens.map((token) => Redacted.value(token.value))).size, 3)
      assert.deepStrictEqual(tokens.map((token) => token.lifetimeMillis / 60_000), [30, 60, 240])
      assert.deepStrictEqual(yield* byClient, { oms: 1, wms: 1, billing: 1 })
      assert.deepStrictEqual(yield* drain, { oms: ["Fetched"], wms: ["Fetched"], billing: ["Fetched"] })

      // Each refresh fiber follows its own token: at 15 minutes only the OMS token (30 minutes) is refreshed.
      yield* TestClock.adjust("15 minutes")
      assert.strictEqual(describeEvent(yield* Queue.take(events.oms)), "Refreshed")
      assert.deepStrictEqual(yield* byClient, { oms: 2, wms: 1, billing: 1 })
      // At 30 minutes: the OMS token again, and the WMS token (1 hour) for the first time.
      yield* TestClock.adjust("15 minutes")
      assert.strictEqual(describeEvent(yield* Queue.take(events.oms)), "Refreshed")
      assert.strictEqual(describeEvent(yield* Queue.take(events.wms)), "Refreshed")
      assert.deepStrictEqual(yield* byClient, { oms: 3, wms: 2, billing: 1 })
      assert.deepStrictEqual(yield* drain, { oms: [], wms: [], billing: [] })

      // Regenerating the WMS secret breaks the WMS app only.
      yield* emulator.regenerateSecret(WMS.id)
      assert.strictEqual((yield* Effect.flip(callService(wms.client, "get_open_tasks")))._tag, "InvalidCredentials")
      assert.strictEqual((yield* callService(oms.client, "create_task")).status, 200)
      assert.strictEqual((yield* callService(billing.client, "get_task")).status, 200)
      assert.deepStrictEqual(yield* byClient, { oms: 3, wms: 3, billing: 1 })
      assert.deepStrictEqual(yield* drain, {
        oms: [],
        wms: ["Invalidated", "Failed:InvalidCredentials"],
        billing: []
      })
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})
