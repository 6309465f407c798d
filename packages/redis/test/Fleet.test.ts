/**
 * The fleet, for real: 8 worker processes (Node, importing the library from source) share tokens through a real
 * redis-server, against the emulator over sockets. Token requests are counted by the emulator per client id.
 */
import * as Emulator from "@effect-oauth/testing/Emulator"
import * as Fault from "@effect-oauth/testing/Fault"
import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { setTimeout as sleep } from "node:timers/promises"
import * as Fleet from "./utils/fleet.js"
import { dump, rawClient } from "./utils/helpers.js"
import * as RedisServer from "./utils/redisServer.js"

const N = 8
const KEY = Buffer.alloc(32, 7).toString("base64")
const scope = Effect.runSync(Scope.make())
const run = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>) => Effect.runPromise(Scope.extend(effect, scope))

let redis: RedisServer.RedisServer
let emulator: Emulator.Handle
let single: Emulator.Handle
let lease: Emulator.Handle
let workers: Array<Fleet.Worker> = []

const secretOf = (id: string) => `secret-of-${id}-Zq9`
const client = (id: string, lifetime: Duration.DurationInput = "1 hour") => ({
  id,
  secret: secretOf(id),
  tokenLifetime: lifetime
})
const app = (on: Emulator.Handle, id: string, shared: boolean, extra: Record<string, unknown> = {}) => ({
  config: {
    tokenUrl: on.tokenUrl,
    apiBaseUrl: `${on.baseUrl}/api`,
    clientId: id,
    clientSecret: secretOf(id),
    ...(shared ? { redisUrl: redis.url } : {}),
    ...extra
  }
})
// Epoch milliseconds of the live clock (the emulator's request log uses the same).
const now = () => Effect.runSync(Clock.currentTimeMillis)
const requestsOf = async (on: Emulator.Handle, id: string) =>
  (await Effect.runPromise(on.stats)).tokenRequestsByClient[id] ?? 0
const requestTimes = async (on: Emulator.Handle, id: string) =>
  (await Effect.runPromise(on.requests)).filter((request) => request.clientId === id).map((request) => request.at)

describe.skipIf(!RedisServer.available())("a fleet of 8 processes sharing tokens through Redis", () => {
  beforeAll(async () => {
    redis = await RedisServer.start()
    emulator = await run(Emulator.make({
      provider: "rfc6749",
      clients: [
        client("burst"),
        client("alone", "3 seconds"),
        client("shared", "3 seconds"),
        client("unshared", "3 seconds"),
        client("reject"),
        client("outage", "3 seconds")
      ]
    }))
    single = await run(Emulator.make({
      provider: "rfc6749",
      oneTokenPerClient: true,
      clients: [client("single", "4 seconds"), client("single-unshared", "4 seconds")]
    }))
    // Its own emulator: an injected fault applies to the next token request of any client.
    lease = await run(Emulator.make({ provider: "rfc6749", clients: [client("kill")] }))
    workers = await Promise.all(Array.from({ length: N }, () => Fleet.spawnWorker()))
  }, 90_000)

  // Every test's apps end with it: no refresh of an earlier test runs (or takes a fault) during a later one.
  const opened = new Set<string>()
  const open = (targets: ReadonlyArray<Fleet.Worker>, name: string, config: ReturnType<typeof app>) => {
    opened.add(name)
    return Promise.all(targets.map((worker) => worker.send("open", name, config)))
  }
  afterEach(async () => {
    await Promise.all([...opened].map((name) => Fleet.all(workers, "close", name)))
    opened.clear()
  })

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill()))
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await redis?.stop()
  }, 30_000)

  it("8 processes x 100 concurrent get on a cold cache: exactly 1 token request; neither secret nor token in Redis", async () => {
    await open(workers, "burst", app(emulator, "burst", true, { encryptionKey: KEY }))
    // A slow token endpoint, so that all 800 callers are waiting at once.
    await Effect.runPromise(emulator.injectFault(Fault.latency("500 millis")))
    const replies = await Fleet.all(workers, "get", "burst", { n: 100 })
    assert.deepStrictEqual(Fleet.total(replies), { ok: 800, failed: 0 })
    assert.strictEqual(await requestsOf(emulator, "burst"), 1)

    const token = (await workers[0]!.send("token", "burst")).token!
    const everything = await Effect.runPromise(Effect.scoped(Effect.flatMap(rawClient(redis.url), dump)))
    assert.isAbove(everything.length, 0)
    for (const entry of everything) {
      for (const text of [entry.key, entry.content]) {
        assert.notInclude(text, secretOf("burst"))
        assert.notInclude(text, token)
        assert.notInclude(text, Buffer.from(token).toString("base64"))
      }
    }
    console.log(`cold burst: 800 gets in ${N} processes, 1 token request; ${everything.length} keys, none revealing`)
  })

  it("10 token lifetimes: shared, the fleet makes the token requests of one process (+1); unshared, 8x", async () => {
    await open([workers[0]!], "alone", app(emulator, "alone", false))
    await open(workers, "shared", app(emulator, "shared", true))
    await open(workers, "unshared", app(emulator, "unshared", false))
    const loop = { ms: 30_000, every: 200 }
    const [alone, shared, unshared] = await Promise.all([
      workers[0]!.send("loop", "alone", loop, 60_000),
      Fleet.all(workers, "loop", "shared", loop, 60_000),
      Fleet.all(workers, "loop", "unshared", loop, 60_000)
    ])
    const counts = {
      alone: await requestsOf(emulator, "alone"),
      shared: await requestsOf(emulator, "shared"),
      unshared: await requestsOf(emulator, "unshared")
    }
    console.log(
      `10 lifetimes of 3 s: token requests alone ${counts.alone}, 8 shared ${counts.shared}, 8 unshared ` +
        `${counts.unshared}; calls alone ${JSON.stringify(alone)}, shared ${JSON.stringify(Fleet.total(shared))}, ` +
        `unshared ${JSON.stringify(Fleet.total(unshared))}`
    )
    // The fleet's calls never fail. (The unshared managers are here for their token requests; on a starved machine a
    // 3 s token can expire at the server before their own late refresh, which is not what this test is about.)
    assert.strictEqual(Fleet.total(shared).failed, 0, Fleet.details(shared))
    assert.isAtLeast(counts.alone, 9)
    assert.isAtMost(counts.shared, counts.alone + 1)
    assert.isAtLeast(counts.unshared, 6 * counts.alone)
    // The secret never reaches Redis (without encryption the token does: that is what the option is for).
    const everything = await Effect.runPromise(Effect.scoped(Effect.flatMap(rawClient(redis.url), dump)))
    for (const entry of everything) {
      for (const id of ["burst", "alone", "shared", "unshared"]) {
        assert.notInclude(entry.key + entry.content, secretOf(id))
      }
    }
  }, 90_000)

  it(
    "one token per client (each new token revokes the last): 8 shared processes calling APIs, 0 failed calls",
    async () => {
      await open(workers, "single", app(single, "single", true))
      await open(workers, "single-unshared", app(single, "single-unshared", false))
      const loop = { ms: 10_000, every: 100 }
      const [shared, unshared] = await Promise.all([
        Fleet.all(workers, "loop", "single", loop, 60_000),
        Fleet.all(workers, "loop", "single-unshared", loop, 60_000)
      ])
      const requests = {
        shared: await requestsOf(single, "single"),
        unshared: await requestsOf(single, "single-unshared")
      }
      console.log(
        `one token per client, 10 s: shared ${JSON.stringify(Fleet.total(shared))} with ${requests.shared} token ` +
          `requests; unshared ${JSON.stringify(Fleet.total(unshared))} with ${requests.unshared} token requests`
      )
      assert.strictEqual(Fleet.total(shared).failed, 0, Fleet.details(shared))
      assert.isAbove(Fleet.total(shared).ok, 8 * 50)
      assert.isAtMost(requests.shared, 7)
      assert.isBelow(requests.shared, requests.unshared)
    },
    60_000
  )

  it("the same rejected token seen by all 8 processes: 1 new token", async () => {
    await open(workers, "reject", app(emulator, "reject", true))
    await Fleet.all(workers, "get", "reject", { n: 1 })
    assert.strictEqual(await requestsOf(emulator, "reject"), 1)
    assert.strictEqual(await Effect.runPromise(emulator.revokeClientTokens("reject")), 1)
    const replies = await Fleet.all(workers, "call", "reject", { n: 1 })
    assert.deepStrictEqual(Fleet.total(replies), { ok: N, failed: 0 })
    assert.strictEqual(await requestsOf(emulator, "reject"), 2)
  })

  it(
    "Redis killed mid-run: 0 failed calls, one outage event per process; restarted: back to one token per refresh",
    async () => {
      const own = await RedisServer.start()
      try {
        await open(workers, "outage", app(emulator, "outage", false, { redisUrl: own.url }))
        const started = now()
        const loop = Fleet.all(workers, "loop", "outage", { ms: 16_000, every: 200 }, 60_000)
        await sleep(4_000)
        await own.kill()
        const killedAt = now() - started
        await sleep(4_000)
        await own.restart()
        const restartedAt = now() - started
        const replies = await loop
        const times = (await requestTimes(emulator, "outage")).map((at) => at - started)
        const during = times.filter((t) => t >= killedAt + 1_000 && t < restartedAt).length
        const after = times.filter((t) => t >= restartedAt + 5_000 && t < 16_000).length
        // A process looks at Redis again 5 s after its last failed command, at its next refresh: on a starved machine
        // (a slow restart, a late refresh) that can fall after the loop ends, so recovery is awaited, up to 30 s.
        const recovered = (events: Record<string, number>) =>
          (events["StoreRecovered"] ?? 0) >= (events["StoreUnavailable"] ?? 0)
        let events = replies.map((reply) => reply.events)
        for (let i = 0; i < 60 && !events.every(recovered); i++) {
          await sleep(500)
          events = (await Fleet.all(workers, "events", "outage")).map((reply) => reply.events)
        }
        console.log(
          `Redis outage from ${killedAt} to ${restartedAt} ms: calls ${JSON.stringify(Fleet.total(replies))}; token ` +
            `requests ${times.length} in all, ${during} in the last ${
              restartedAt - killedAt - 1_000
            } ms of the outage, ` +
            `${after} in the last ${16_000 - restartedAt - 5_000} ms after the restart; events ${
              JSON.stringify(events)
            }`
        )
        assert.strictEqual(Fleet.total(replies).failed, 0, Fleet.details(replies))
        // One outage per process; on a starved CI machine a command may also time out around it (a real, short
        // outage of its own), so allow a second; every outage must end in a recovery.
        for (const event of events) {
          assert.isAtLeast(event["StoreUnavailable"] ?? 0, 1, JSON.stringify(events))
          assert.isAtMost(event["StoreUnavailable"] ?? 0, 2, JSON.stringify(events))
          assert.isTrue(recovered(event), JSON.stringify(events))
        }
        // Alone, the 8 processes refresh 8 times per refresh point (every 1.5 s); sharing again, once.
        assert.isAtLeast(during, 8)
        assert.isAtMost(after, Math.ceil((16_000 - restartedAt - 5_000) / 1_500) + 1)
      } finally {
        await own.stop()
      }
    },
    90_000
  )

  it(
    "the lease holder SIGKILLed in the middle of its token request: another process fetches once the lease ends",
    async () => {
      const holder = await Fleet.spawnWorker()
      try {
        const config = app(lease, "kill", true, { leaseMillis: 2_000 })
        await holder.send("open", "kill", config)
        await open([workers[0]!], "kill", config)
        await Effect.runPromise(lease.injectFault(Fault.latency("60 seconds")))
        const holding = holder.send("get", "kill", { n: 1 }, 90_000).catch(() => undefined)
        for (let i = 0; i < 100 && (await requestsOf(lease, "kill")) === 0; i++) await sleep(100)
        assert.strictEqual(await requestsOf(lease, "kill"), 1, "the holder's token request reached the emulator")
        // The other process finds the lease taken and waits for the holder's token...
        const waiting = workers[0]!.send("get", "kill", { n: 1 }, 20_000)
        await sleep(300)
        await holder.kill()
        const killed = now()
        await holding
        // ...which never comes: once the lease runs out it takes it and fetches (well before the manager's own 60 s
        // bound on waiting for a lease holder, and the 20 s bound of this request).
        const reply = await waiting
        const waited = now() - killed
        console.log(`lease holder killed: another process had a token ${waited} ms later (lease time 2000 ms)`)
        assert.strictEqual(reply.ok, 1)
        assert.strictEqual(await requestsOf(lease, "kill"), 2)
      } finally {
        await holder.kill()
        await Effect.runPromise(lease.clearFaults)
      }
    },
    60_000
  )
})
