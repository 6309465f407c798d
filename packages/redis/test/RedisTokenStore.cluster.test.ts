import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { createCluster } from "redis"
import * as RedisTokenStore from "../src/RedisTokenStore.js"
import { makeToken, uniquePrefix } from "./utils/helpers.js"
import * as RedisCluster from "./utils/redisCluster.js"
import * as RedisServer from "./utils/redisServer.js"

const KEY = "https://auth.example.com/oauth/token client_id=cluster-app"
let cluster: RedisCluster.RedisCluster | undefined

// The caller's own cluster client, as the README shows: the store connects it and never closes it.
const clusterClient = Effect.acquireRelease(
  Effect.sync(() => {
    const client = createCluster({
      rootNodes: cluster!.urls.map((url) => ({ url })),
      defaults: { disableOfflineQueue: true }
    })
    client.on("error", () => {})
    return client
  }),
  (client) => Effect.promise(() => client.close()).pipe(Effect.ignore)
)

const openSlot = (prefix: string) =>
  Effect.gen(function*() {
    const client = yield* clusterClient
    const store = yield* RedisTokenStore.make({
      client: client as unknown as RedisTokenStore.RedisClient,
      prefix,
      ...RedisServer.loadedMachineTimeouts
    })
    return yield* store.slot(KEY)
  }).pipe(Effect.orDie)

describe.skipIf(!RedisServer.available())("RedisTokenStore on a Redis Cluster (3 masters, the caller's client)", () => {
  beforeAll(async () => {
    cluster = await RedisCluster.start()
  }, 60_000)
  afterAll(async () => {
    await cluster?.stop()
  })

  it.scopedLive(
    "one lease, the token announced to another process's store, fenced invalidation",
    () =>
      Effect.gen(function*() {
        const prefix = uniquePrefix("cluster")
        const a = yield* openSlot(prefix)
        const b = yield* openSlot(prefix)
        assert.isTrue(Option.isNone(yield* a.get))
        const heard = yield* Effect.fork(Stream.runHead(b.changes))
        const claim = yield* a.claim
        assert.strictEqual(claim._tag, "Claimed")
        assert.strictEqual((yield* b.claim)._tag, "Busy")
        if (claim._tag !== "Claimed") return
        const token = makeToken("cluster-token", yield* Clock.currentTimeMillis, 60_000)
        yield* a.publish(token, claim.lease)
        const change = yield* Fiber.join(heard).pipe(Effect.timeout("10 seconds"))
        assert.deepStrictEqual(
          Option.map(Option.flatten(change), (t) => Redacted.value(t.value)),
          Option.some("cluster-token")
        )
        const read = yield* b.get
        assert.deepStrictEqual(Option.map(read, (t) => Redacted.value(t.value)), Option.some("cluster-token"))
        assert.isTrue(yield* b.invalidate(token))
        assert.isFalse(yield* a.invalidate(token))
        assert.isTrue(Option.isNone(yield* a.get))
      }),
    60_000
  )
})
