import type { AccessToken } from "@effect-oauth/core/AccessToken"
import type * as TokenStore from "@effect-oauth/core/TokenStore"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as RedisTokenStore from "../src/RedisTokenStore.js"
import {
  dump,
  eventually,
  makeToken,
  publishUntilHeard,
  rawClient,
  skewedClock,
  uniquePrefix
} from "./utils/helpers.js"
import * as RedisServer from "./utils/redisServer.js"

const KEY = "https://auth.example.com/oauth/token client_id=app-1 scope=read+write"
let server: RedisServer.RedisServer | undefined

const value = (token: Option.Option<AccessToken>) => Option.map(token, (t) => Redacted.value(t.value))

// Opens the slot of KEY on a new store (its own connections: another process, as far as Redis can tell). The
// timeouts are sized for a loaded CI machine, where a 500 ms command budget is sometimes exceeded; tests of the
// timeouts set their own.
const openSlot = (options: Partial<RedisTokenStore.Options> & { readonly prefix: string }) =>
  Effect.flatMap(
    RedisTokenStore.make({ url: server!.url, ...RedisServer.loadedMachineTimeouts, ...options }),
    (store) => store.slot(KEY)
  ).pipe(Effect.orDie)

const nextChange = (slot: TokenStore.Slot) =>
  Stream.runHead(slot.changes).pipe(Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => "no change" }))

describe.skipIf(!RedisServer.available())("RedisTokenStore slot operations (real redis-server)", () => {
  beforeAll(async () => {
    server = await RedisServer.start()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it.scopedLive("get, claim, publish, release: a lease is exclusive until published or released by its owner", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("lease")
      const a = yield* openSlot({ prefix, leaseTime: "20 seconds", pollInterval: "5 seconds" })
      const b = yield* openSlot({ prefix, leaseTime: "20 seconds", pollInterval: "5 seconds" })
      assert.isTrue(Option.isNone(yield* a.get))
      const claimed = yield* a.claim
      assert.strictEqual(claimed._tag, "Claimed")
      const busy = yield* b.claim
      assert.strictEqual(busy._tag, "Busy")
      if (busy._tag === "Busy") {
        const ms = Duration.toMillis(busy.retryIn)
        assert.isTrue(ms > 0 && ms <= 5_000, `retryIn ${ms} is capped by pollInterval`)
      }
      // Only the owner releases: a stranger's lease id changes nothing.
      yield* b.release({ id: "not-the-owner" })
      assert.strictEqual((yield* b.claim)._tag, "Busy")
      if (claimed._tag !== "Claimed") return
      yield* a.release(claimed.lease)
      const second = yield* b.claim
      assert.strictEqual(second._tag, "Claimed")
      if (second._tag !== "Claimed") return
      const now = yield* Clock.currentTimeMillis
      const changed = yield* Effect.fork(nextChange(a))
      yield* Effect.sleep("50 millis") // the fork is subscribed to the queue; the subscription itself is older
      yield* b.publish(makeToken("token-1", now, 60_000), second.lease)
      assert.deepStrictEqual(value(yield* a.get), Option.some("token-1"))
      const change = yield* changed
      assert.deepStrictEqual(Option.map(change, value), Option.some(Option.some("token-1")))
      // Publishing gave the lease up.
      assert.strictEqual((yield* a.claim)._tag, "Claimed")
      // Publishing with a lease one no longer holds stores the token but leaves the new holder's lease alone.
      yield* b.publish(makeToken("token-2", now, 60_000), second.lease)
      assert.strictEqual((yield* b.claim)._tag, "Busy")
      assert.deepStrictEqual(value(yield* b.get), Option.some("token-2"))
    }))

  it.scopedLive("a lease no holder could have set (no expiry, too long, not a string) is taken over by a claim", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("stuck")
      const a = yield* openSlot({ prefix, leaseTime: "20 seconds" })
      const first = yield* a.claim
      if (first._tag !== "Claimed") return assert.fail("expected the lease")
      const raw = yield* rawClient(server!.url)
      const leaseKey = (yield* Effect.promise(() => raw.keys(`${prefix}*`))).find((key) => key.endsWith(":lease"))!
      const stuck: ReadonlyArray<readonly [string, () => Promise<unknown>]> = [
        ["no expiry", () => raw.set(leaseKey, "someone")],
        ["a PTTL longer than any lease", () => raw.set(leaseKey, "someone", { PX: 1e12 })],
        ["a hash", () => raw.del(leaseKey).then(() => raw.hSet(leaseKey, "owner", "someone"))]
      ]
      for (const [label, write] of stuck) {
        yield* Effect.promise(write)
        const b = yield* openSlot({ prefix, leaseTime: "20 seconds" })
        yield* b.get
        assert.strictEqual((yield* b.claim)._tag, "Claimed", label)
      }
    }))

  it.scopedLive("a claim after someone else published since this slot's read is Busy: read again, not fetch", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("fence")
      const a = yield* openSlot({ prefix })
      const b = yield* openSlot({ prefix })
      assert.isTrue(Option.isNone(yield* a.get))
      assert.isTrue(Option.isNone(yield* b.get))
      const claim = yield* b.claim
      if (claim._tag !== "Claimed") return assert.fail("expected the lease")
      yield* b.publish(makeToken("fresh", yield* Clock.currentTimeMillis, 60_000), claim.lease)
      // `a` read "no token" before the publish: its claim must not succeed, or it would fetch a token for nothing.
      const late = yield* a.claim
      assert.strictEqual(late._tag, "Busy")
      assert.deepStrictEqual(value(yield* a.get), Option.some("fresh"))
      assert.strictEqual((yield* a.claim)._tag, "Claimed")
    }))

  it.scopedLive("the Redis TTL is the token's remaining life, and a reader rebases it on its own clock", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("skew")
      // The writer's clock is an hour ahead, the reader's ten minutes behind: both see 60 s left.
      const writer = yield* openSlot({ prefix })
      const reader = yield* openSlot({ prefix })
      const ahead = skewedClock(3_600_000)
      const behind = skewedClock(-600_000)
      yield* Effect.withClock(ahead)(Effect.gen(function*() {
        const claim = yield* writer.claim
        if (claim._tag !== "Claimed") return assert.fail("expected the lease")
        const now = yield* Clock.currentTimeMillis
        yield* writer.publish(makeToken("skewed", now - 30_000, 90_000), claim.lease)
      }))
      const token = yield* Effect.withClock(behind)(reader.get)
      assert.isTrue(Option.isSome(token))
      if (Option.isNone(token)) return
      const left = token.value.expiresAt - behind.unsafeCurrentTimeMillis()
      assert.isTrue(left > 55_000 && left <= 60_000, `remaining ${left} ms`)
      assert.strictEqual(token.value.lifetimeMillis, 90_000)
      assert.deepStrictEqual(token.value.scope, Option.some("read write"))
      const client = yield* rawClient(server!.url)
      const keys = (yield* dump(client)).filter((entry) => entry.key.startsWith(prefix))
      const tokenKey = keys.find((entry) => entry.key.endsWith(":token"))!
      const ttl = yield* Effect.promise(() => client.pTTL(tokenKey.key))
      assert.isTrue(ttl > 55_000 && ttl <= 60_000, `redis ttl ${ttl} ms`)
    }))

  it.scopedLive("invalidate removes the token only while it is the stored one, and announces the removal", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("invalidate")
      const a = yield* openSlot({ prefix })
      const b = yield* openSlot({ prefix })
      const now = yield* Clock.currentTimeMillis
      const current = makeToken("current", now, 60_000)
      const claim = yield* a.claim
      if (claim._tag !== "Claimed") return assert.fail("expected the lease")
      yield* a.publish(current, claim.lease)
      assert.isFalse(yield* b.invalidate(makeToken("older", now, 60_000)))
      assert.deepStrictEqual(value(yield* b.get), Option.some("current"))
      const removal = yield* Effect.fork(nextChange(a))
      yield* Effect.sleep("50 millis")
      assert.isTrue(yield* b.invalidate(makeToken("current", now, 60_000)))
      assert.isFalse(yield* a.invalidate(current))
      assert.isTrue(Option.isNone(yield* a.get))
      assert.deepStrictEqual(yield* removal, Option.some(Option.none()))
    }))

  it.scopedLive("garbage in Redis reads as no token and is replaced; garbage announcements are ignored", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("garbage")
      const slot = yield* openSlot({ prefix })
      const now = yield* Clock.currentTimeMillis
      const claim = yield* slot.claim
      if (claim._tag !== "Claimed") return assert.fail("expected the lease")
      yield* slot.publish(makeToken("real", now, 60_000), claim.lease)
      const client = yield* rawClient(server!.url)
      const entries = (yield* dump(client)).filter((entry) => entry.key.startsWith(prefix))
      const tokenKey = entries.find((entry) => entry.key.endsWith(":token"))!.key
      const channel = tokenKey.replace(/:token$/, ":changes")
      const garbage: ReadonlyArray<() => Promise<unknown>> = [
        () => client.set(tokenKey, "garbage", { PX: 60_000 }),
        () => client.set(tokenKey, `${"0".repeat(64)}:p1:{"value":42}`, { PX: 60_000 }),
        () => client.set(tokenKey, `${"0".repeat(64)}:p1:not json`),
        async () => {
          await client.del(tokenKey)
          await client.hSet(tokenKey, "a", "b")
        }
      ]
      for (const write of garbage) {
        yield* Effect.promise(write)
        assert.isTrue(Option.isNone(yield* slot.get))
      }
      // A sealed value, while this process holds no key, is an outage of the store for it (it works alone).
      yield* Effect.promise(() => client.set(tokenKey, `${"0".repeat(64)}:e1:AAAA.BBBB`, { PX: 60_000 }))
      assert.strictEqual((yield* Effect.flip(slot.get))._tag, "StoreUnavailable")
      // A publish overwrites whatever was there.
      const again = yield* slot.claim
      if (again._tag !== "Claimed") return assert.fail("expected the lease")
      yield* slot.publish(makeToken("replacement", now, 60_000), again.lease)
      assert.deepStrictEqual(value(yield* slot.get), Option.some("replacement"))

      const received = yield* Effect.fork(
        Stream.runCollect(Stream.take(slot.changes, 3)).pipe(Effect.timeout("5 seconds"))
      )
      yield* Effect.sleep("50 millis")
      for (const message of ["junk", "s:abc:def", "s:1000:garbage", `s:1000:${"0".repeat(64)}:p1:{}`, ""]) {
        yield* Effect.promise(() => client.publish(channel, message))
      }
      const other = yield* openSlot({ prefix })
      const third = yield* other.claim
      if (third._tag !== "Claimed") return assert.fail("expected the lease")
      yield* other.publish(makeToken("after-garbage", now, 60_000), third.lease)
      const changes = Chunk.toReadonlyArray(yield* received)
      // Everything announced since the slot opened, in order, without the garbage.
      assert.deepStrictEqual(changes.map(value), [
        Option.some("real"),
        Option.some("replacement"),
        Option.some("after-garbage")
      ])
    }))

  it.scopedLive("an unreachable or unresponsive Redis is a StoreUnavailable within the command timeout", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(() => RedisServer.freePort())
      const nowhere = yield* RedisTokenStore.make({ url: `redis://127.0.0.1:${port}`, connectTimeout: "300 millis" })
      const slot = yield* nowhere.slot(KEY)
      const error = yield* Effect.flip(slot.get)
      assert.strictEqual(error._tag, "StoreUnavailable")
      assert.strictEqual((yield* Effect.flip(slot.claim))._tag, "StoreUnavailable")

      const paused = yield* Effect.acquireRelease(
        Effect.promise(() => RedisServer.start()),
        (s) => Effect.promise(() => s.stop())
      )
      const store = yield* RedisTokenStore.make({ url: paused.url, commandTimeout: "200 millis" })
      const live = yield* store.slot(KEY)
      assert.isTrue(Option.isNone(yield* live.get))
      paused.pause()
      const timeout = yield* Effect.flip(live.get).pipe(Effect.ensuring(Effect.sync(() => paused.resume())))
      assert.strictEqual(timeout._tag, "StoreUnavailable")
      assert.include(timeout.detail, "200 ms")
      // Answers again once resumed (a failure detector: on a loaded machine the store may have found the connection
      // unanswering and be reopening it).
      assert.isTrue(
        Option.isNone(
          yield* eventually(live.get, "10 seconds")
        )
      )
    }))

  it.scopedLive(
    "Redis down when the store starts: it builds, fails fast, and shares (announcements too) once Redis is up",
    () =>
      Effect.gen(function*() {
        const port = yield* Effect.promise(() => RedisServer.freePort())
        const url = `redis://127.0.0.1:${port}`
        const late = yield* RedisTokenStore.make({ url, connectTimeout: "200 millis", pollInterval: "200 millis" })
        const slot = yield* late.slot(KEY)
        assert.strictEqual((yield* Effect.flip(slot.get))._tag, "StoreUnavailable")
        yield* Effect.acquireRelease(
          Effect.promise(() => RedisServer.start(port)),
          (s) => Effect.promise(() => s.stop())
        )
        // node-redis reconnects by itself (at most a second between attempts); the bounds are failure detectors,
        // sized for a loaded CI machine.
        yield* eventually(slot.get, "30 seconds")
        const other = yield* openSlot({ prefix: "effect-oauth:", url })
        const change = yield* Effect.fork(
          Stream.runHead(slot.changes).pipe(
            Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => "no change" })
          )
        )
        // The subscription that failed at start is retried every pollInterval: publish until it hears one.
        yield* publishUntilHeard(other, change, "late")
        const heard = yield* Fiber.join(change)
        assert.isTrue(Option.isSome(heard) && Option.isSome(heard.value))
        assert.isTrue(
          Option.isSome(
            yield* eventually(slot.get, "10 seconds")
          )
        )
      }),
    90_000
  )

  // node-redis before 5.10 could leave a connection ready but dead after this restart (redis/node-redis#3108); the
  // store now also reopens a connection that stops answering (RedisTokenStore.liveness.test.ts).
  it.scopedLive(
    "after Redis restarts, the subscriber connection resubscribes: announcements arrive again",
    () =>
      Effect.gen(function*() {
        const restarting = yield* Effect.acquireRelease(
          Effect.promise(() => RedisServer.start()),
          (s) => Effect.promise(() => s.stop())
        )
        const options = { prefix: "effect-oauth:", url: restarting.url }
        const listener = yield* openSlot(options)
        const publisher = yield* openSlot(options)
        yield* Effect.promise(() => restarting.kill())
        yield* Effect.promise(() => restarting.restart())
        // Both connections come back by themselves. The waits are failure detectors, sized for a loaded CI machine
        // (reconnecting with backoff can take seconds there), not expectations of speed.
        yield* eventually(publisher.get, "30 seconds")
        const change = yield* Effect.fork(
          Stream.runHead(listener.changes).pipe(
            Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => "no change" })
          )
        )
        // A claim is fenced by the slot's last read: read before each one, or only the first would be granted and
        // a single announcement sent before the listener's connection is back would be all there is.
        yield* publishUntilHeard(publisher, change, "after-restart")
        const heard = yield* Fiber.join(change)
        assert.isTrue(Option.isSome(heard) && Option.isSome(heard.value))
        assert.match(Option.getOrThrow(value(Option.flatten(heard))), /^after-restart-/)
      }),
    90_000
  )
})
