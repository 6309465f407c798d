import * as TokenStore from "@effect-oauth/core/TokenStore"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { createClient } from "redis"
import * as RedisTokenStore from "../src/RedisTokenStore.js"
import * as Blackhole from "./utils/blackhole.js"
import { eventually, publishUntilHeard, uniquePrefix } from "./utils/helpers.js"
import * as RedisServer from "./utils/redisServer.js"

const KEY = "https://auth.example.com/oauth/token client_id=app-1"
let server: RedisServer.RedisServer | undefined

const proxy = Effect.acquireRelease(
  Effect.promise(() => Blackhole.start(server!.port)),
  (blackhole) => Effect.promise(() => blackhole.close())
)

const openSlot = (options: RedisTokenStore.Options) =>
  Effect.flatMap(RedisTokenStore.make(options), (store) => store.slot(KEY)).pipe(Effect.orDie)

// A connection that says it is ready and never answers (node-redis#3108 after a Redis restart, or a half-open TCP
// connection) is reopened by the store when it owns it; without that, the process would stay unshared for good.
describe.skipIf(!RedisServer.available())("RedisTokenStore connections that stop answering (real redis-server)", () => {
  beforeAll(async () => {
    server = await RedisServer.start()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it.scopedLive(
    "the command connection: a command times out, the store reopens it, and the next ones answer",
    () =>
      Effect.gen(function*() {
        const blackhole = yield* proxy
        const slot = yield* openSlot({
          url: blackhole.url,
          prefix: uniquePrefix("command"),
          commandTimeout: "1 second"
        })
        assert.isTrue(Option.isNone(yield* slot.get))
        const before = blackhole.accepted()
        blackhole.swallowOpenConnections()
        const lost = yield* Effect.flip(slot.get)
        assert.instanceOf(lost, TokenStore.StoreUnavailable)
        assert.match(lost.detail, /got no answer within 1000 ms/)
        assert.isTrue(Option.isNone(yield* eventually(slot.get, "30 seconds")))
        assert.isAbove(blackhole.accepted(), before)
      }),
    60_000
  )

  it.scopedLive(
    "the subscriber connection: an unanswered PING reopens it, and announcements arrive again",
    () =>
      Effect.gen(function*() {
        const blackhole = yield* proxy
        const prefix = uniquePrefix("subscriber")
        const listener = yield* openSlot({ url: blackhole.url, prefix, commandTimeout: "1 second" })
        const publisher = yield* openSlot({ url: server!.url, prefix, ...RedisServer.loadedMachineTimeouts })
        blackhole.swallowOpenConnections()
        const change = yield* Effect.fork(Stream.runHead(listener.changes))
        // Nothing reaches the listener through the swallowed connection: what it hears came through a reopened one.
        yield* publishUntilHeard(publisher, change, "after")
        const heard = yield* Fiber.join(change).pipe(Effect.timeout("1 second"))
        assert.isTrue(Option.isSome(heard) && Option.isSome(heard.value))
      }),
    60_000
  )

  it.live(
    "closing a store whose connections stopped answering ends within its timeouts, not never",
    () =>
      Effect.gen(function*() {
        const blackhole = yield* proxy
        const closed = yield* Effect.scoped(Effect.gen(function*() {
          const slot = yield* openSlot({
            url: blackhole.url,
            prefix: uniquePrefix("close"),
            commandTimeout: "1 second"
          })
          assert.isTrue(Option.isNone(yield* slot.get))
          blackhole.swallowOpenConnections()
        })).pipe(Effect.timeout("20 seconds"), Effect.either)
        assert.isTrue(closed._tag === "Right", "the scope did not close within 20 s")
      }).pipe(Effect.scoped),
    60_000
  )

  it.scopedLive(
    "the caller's own client is never closed or reopened, even when it stops answering",
    () =>
      Effect.gen(function*() {
        const blackhole = yield* proxy
        const client = createClient({ url: blackhole.url, disableOfflineQueue: true })
        client.on("error", () => {})
        yield* Effect.addFinalizer(() => Effect.promise(() => client.disconnect()).pipe(Effect.ignore))
        yield* Effect.promise(() => client.connect())
        const slot = yield* openSlot({ client, prefix: uniquePrefix("own"), commandTimeout: "500 millis" })
        blackhole.swallowOpenConnections()
        const accepted = blackhole.accepted()
        assert.instanceOf(yield* Effect.flip(slot.get), TokenStore.StoreUnavailable)
        yield* Effect.sleep("1 second")
        assert.isTrue(client.isOpen && client.isReady)
        // Only the store's own subscriber connection may have been reopened meanwhile, never the caller's client.
        assert.isAtMost(blackhole.accepted() - accepted, 1)
      }),
    60_000
  )
})
