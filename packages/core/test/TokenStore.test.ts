import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import type * as TokenEndpoint from "../src/TokenEndpoint.js"
import * as TokenManager from "../src/TokenManager.js"
import * as TokenStore from "../src/TokenStore.js"
import { makeFakeEndpoint } from "./utils/FakeEndpoint.js"

const HOUR = 3600

// Several managers of one client, sharing `store` (as processes of a fleet share Redis), over one counting endpoint.
const fleet = (n: number, store: TokenStore.Service, options: TokenManager.Options = {}, lifetime = HOUR) =>
  Effect.gen(function*() {
    const fake = yield* makeFakeEndpoint(lifetime)
    const endpoint: TokenEndpoint.Service = { request: fake.endpoint.request, key: "https://auth.example/token id" }
    const managers = yield* Effect.all(
      Array.from({ length: n }, (_, i) => TokenManager.make(endpoint, { ...options, store, name: `worker-${i}` }))
    )
    return { fake, managers }
  })

// A store whose every operation fails while `down` is true (an unreachable Redis), else delegates to `inner`.
const flaky = (inner: TokenStore.Service, down: Ref.Ref<boolean>): TokenStore.Service => ({
  slot: (key) =>
    Effect.map(inner.slot(key), (slot) => {
      const guard = <A>(effect: Effect.Effect<A, TokenStore.StoreUnavailable>) =>
        Effect.flatMap(
          Ref.get(down),
          (isDown) => isDown ? Effect.fail(new TokenStore.StoreUnavailable({ detail: "connection refused" })) : effect
        )
      return {
        get: guard(slot.get),
        claim: guard(slot.claim),
        publish: (token, lease) => guard(slot.publish(token, lease)),
        release: (lease) => guard(slot.release(lease)),
        invalidate: (token) => guard(slot.invalidate(token)),
        changes: slot.changes
      }
    })
})

describe("TokenStore seam: managers sharing a store", () => {
  it.scoped("8 managers x 100 concurrent get on a cold cache make one token request", () =>
    Effect.gen(function*() {
      const { fake, managers } = yield* fleet(8, yield* TokenStore.makeMemory())
      const tokens = yield* Effect.all(
        managers.flatMap((manager) => Array.from({ length: 100 }, () => manager.get)),
        { concurrency: "unbounded" }
      )
      assert.strictEqual((yield* fake.requests).length, 1)
      assert.isTrue(tokens.every((token) => Redacted.value(token.value) === "token-1"))
    }))

  it.scoped("over 10 lifetimes the fleet refreshes about once per refresh point, not once per manager", () =>
    Effect.gen(function*() {
      const { fake, managers } = yield* fleet(8, yield* TokenStore.makeMemory(), {}, 60)
      yield* Effect.forEach(managers, (manager) => manager.get, { discard: true })
      for (let i = 0; i < 600; i++) {
        yield* TestClock.adjust("1 second")
        yield* Effect.forEach(managers, (manager) => manager.get, { discard: true })
      }
      const requests = (yield* fake.requests).length
      // One manager alone refreshes a 60 s token at ~30 s: ~20 requests in 10 minutes. Eight unshared: ~160.
      assert.isAtMost(requests, 22)
      assert.isAtLeast(requests, 15)
    }))

  it.scoped("a token rejected in one manager is replaced once, and the others follow", () =>
    Effect.gen(function*() {
      const { fake, managers } = yield* fleet(8, yield* TokenStore.makeMemory())
      const first = yield* managers[0]!.get
      yield* Effect.forEach(managers, (manager) => manager.get, { discard: true })
      // Every manager sees the same rejection at once.
      yield* Effect.forEach(managers, (manager) => Effect.zipRight(manager.invalidate(first), manager.get), {
        concurrency: "unbounded",
        discard: true
      })
      const tokens = yield* Effect.forEach(managers, (manager) => manager.get)
      assert.strictEqual((yield* fake.requests).length, 2)
      assert.isTrue(tokens.every((token) => Redacted.value(token.value) === "token-2"))
    }))

  it.scoped("when the lease holder never answers, another manager fetches once the lease runs out", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.makeMemory({ leaseTime: "10 seconds" })
      const key = "https://auth.example/token id"
      const stuck: TokenEndpoint.Service = { request: Effect.never, key }
      const fake = yield* makeFakeEndpoint(HOUR)
      const holder = yield* TokenManager.make(stuck, { store })
      const other = yield* TokenManager.make({ request: fake.endpoint.request, key }, { store })
      yield* Effect.fork(holder.get)
      yield* TestClock.adjust("1 second")
      const waiting = yield* Effect.fork(other.get)
      yield* TestClock.adjust("8 seconds")
      assert.isTrue(Option.isNone(yield* Fiber.poll(waiting)))
      assert.strictEqual((yield* fake.requests).length, 0)
      yield* TestClock.adjust("2 seconds")
      const token = yield* Fiber.join(waiting)
      assert.strictEqual(Redacted.value(token.value), "token-1")
      assert.strictEqual((yield* fake.requests).length, 1)
    }))

  it.scoped("a store outage fails open: calls succeed, one StoreUnavailable event, sharing resumes after", () =>
    Effect.gen(function*() {
      const down = yield* Ref.make(true)
      const { fake, managers } = yield* fleet(2, flaky(yield* TokenStore.makeMemory(), down))
      const events = yield* Stream.runCollect(Stream.take(managers[0]!.events, 3)).pipe(Effect.fork)
      yield* Effect.yieldNow()
      // Down: each manager works alone.
      for (let i = 0; i < 20; i++) yield* Effect.forEach(managers, (manager) => manager.get, { discard: true })
      assert.strictEqual((yield* fake.requests).length, 2)
      yield* Ref.set(down, false)
      yield* TestClock.adjust("5 seconds") // the manager leaves a failed store alone for 5 s
      // Back: a forced refresh in one is adopted by the other.
      const fresh = yield* managers[0]!.refresh
      const adopted = yield* managers[1]!.get
      assert.strictEqual(Redacted.value(adopted.value), Redacted.value(fresh.value))
      assert.strictEqual((yield* fake.requests).length, 3)
      const tags = Chunk.toReadonlyArray(yield* Fiber.join(events)).map((event) => event._tag)
      assert.deepStrictEqual(tags, ["StoreUnavailable", "Fetched", "StoreRecovered"])
    }))

  it.scoped("a store that dies or hangs never fails a get", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeEndpoint(HOUR)
      const broken: TokenStore.Service = {
        slot: () =>
          Effect.succeed({
            get: Effect.die("bug in a store"),
            claim: Effect.die("bug"),
            publish: () => Effect.die("bug"),
            release: () => Effect.die("bug"),
            invalidate: () => Effect.die("bug"),
            changes: Stream.die("bug")
          })
      }
      const manager = yield* TokenManager.make(fake.endpoint, { store: broken })
      const token = yield* manager.get
      assert.isTrue(yield* manager.invalidate(token))
      yield* manager.get
      assert.strictEqual((yield* fake.requests).length, 2)
    }))

  it.scoped("a store whose commands never answer delays a cold get by its 2 s bound, then the manager works alone", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeEndpoint(HOUR)
      const hung: TokenStore.Service = {
        slot: () =>
          Effect.succeed({
            get: Effect.never,
            claim: Effect.never,
            publish: () => Effect.never,
            release: () => Effect.never,
            invalidate: () => Effect.never,
            changes: Stream.never
          })
      }
      const manager = yield* TokenManager.make(fake.endpoint, { store: hung })
      const first = yield* Effect.fork(manager.get)
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(Redacted.value((yield* Fiber.join(first)).value), "token-1")
      // Within 5 s of the failure the store is left alone: no second 2 s wait.
      yield* manager.invalidate(yield* manager.get)
      assert.strictEqual(Redacted.value((yield* manager.get).value), "token-2")
    }))
})
