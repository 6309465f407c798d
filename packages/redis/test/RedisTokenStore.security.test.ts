import * as TokenManager from "@effect-oauth/core/TokenManager"
import * as TokenStore from "@effect-oauth/core/TokenStore"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { createClient } from "redis"
import * as RedisTokenStore from "../src/RedisTokenStore.js"
import { dump, makeToken, rawClient, uniquePrefix } from "./utils/helpers.js"
import * as RedisServer from "./utils/redisServer.js"

const KEY = "https://auth.example.com/oauth/token client_id=app-1 scope=read+write"
const key1 = Redacted.make(Buffer.alloc(32, 1).toString("base64"))
const key2 = Redacted.make(Buffer.alloc(32, 2).toString("base64"))
let server: RedisServer.RedisServer | undefined

const openSlot = (options: Partial<RedisTokenStore.Options> & { readonly prefix: string }) =>
  Effect.flatMap(
    RedisTokenStore.make({ url: server!.url, ...RedisServer.loadedMachineTimeouts, ...options }),
    (store) => store.slot(KEY)
  ).pipe(Effect.orDie)

// Publishes `token` through a slot of a store with `options`.
const publish = (options: Partial<RedisTokenStore.Options> & { readonly prefix: string }, tokenValue: string) =>
  Effect.gen(function*() {
    const slot = yield* openSlot(options)
    const claim = yield* slot.claim
    if (claim._tag !== "Claimed") return assert.fail("expected the lease")
    yield* slot.publish(makeToken(tokenValue, yield* Clock.currentTimeMillis, 60_000), claim.lease)
  })

describe.skipIf(!RedisServer.available())("RedisTokenStore encryption and options (real redis-server)", () => {
  beforeAll(async () => {
    server = await RedisServer.start()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it.scopedLive("with encryption nothing in Redis (keys, values, announcements) reveals the token", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("sealed")
      const token = "tok_" + "s3cr3t-token-value".repeat(2)
      const sniffer = yield* rawClient(server!.url)
      const heard: Array<string> = []
      const listener = yield* Effect.sync(() => sniffer.duplicate())
      yield* Effect.promise(() => listener.connect())
      yield* Effect.addFinalizer(() => Effect.promise(() => listener.disconnect()).pipe(Effect.ignore))
      yield* Effect.promise(() => listener.pSubscribe(`${prefix}*`, (message) => heard.push(message)))
      yield* publish({ prefix, encryptionKeys: [key1] }, token)
      yield* Effect.sleep("100 millis")
      const everything = yield* dump(sniffer)
      const mine = everything.filter((entry) => entry.key.startsWith(prefix))
      assert.isAbove(mine.length, 0)
      assert.isAbove(heard.length, 0)
      const forms = [token, Buffer.from(token).toString("base64"), encodeURIComponent(token), "s3cr3t"]
      for (const text of [...everything.flatMap((entry) => [entry.key, entry.content]), ...heard]) {
        for (const form of forms) assert.notInclude(text, form)
      }
      // Readable names: host and path, client id and scope, under the prefix, in one hash slot.
      assert.match(
        mine[0]!.key,
        /^test-.*sealed:\{auth\.example\.com\/oauth\/token;client_id=app-1;scope=read\+write;[0-9a-f]{16}\}:token$/
      )
      // The same with a key rotated in: sealed with the new key, read by a process holding both or only the new one.
      const rotated = yield* openSlot({ prefix, encryptionKeys: [key2, key1] })
      assert.deepStrictEqual(Option.map(yield* rotated.get, (t) => Redacted.value(t.value)), Option.some(token))
      const newOnly = yield* openSlot({ prefix, encryptionKeys: [key2] })
      const unreadable = yield* Effect.flip(newOnly.get)
      assert.strictEqual(unreadable._tag, "StoreUnavailable")
      assert.notInclude(unreadable.detail, token)
      const plain = yield* openSlot({ prefix })
      assert.strictEqual((yield* Effect.flip(plain.get))._tag, "StoreUnavailable")
    }))

  it.scopedLive("without encryption the token is stored (that is what encryption is for), never anything else", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("plain")
      yield* publish({ prefix }, "plain-token")
      const mine = (yield* dump(yield* rawClient(server!.url))).filter((entry) => entry.key.startsWith(prefix))
      assert.strictEqual(mine.length, 1)
      assert.include(mine[0]!.content, "plain-token")
      // A plaintext value is not trusted by a process with encryption on: it reads as absent, and is replaced.
      const sealed = yield* openSlot({ prefix, encryptionKeys: [key1] })
      assert.isTrue(Option.isNone(yield* sealed.get))
    }))

  it.scopedLive("a wrong-length or malformed key fails the store with a ConfigError naming the field", () =>
    Effect.gen(function*() {
      const bad = [
        Redacted.make("c2hvcnQ="),
        Redacted.make("not base64!!"),
        Redacted.make(Buffer.alloc(33).toString("base64"))
      ]
      for (const key of bad) {
        const error = yield* Effect.flip(RedisTokenStore.make({ url: server!.url, encryptionKeys: [key1, key] }))
        assert.strictEqual(error._op, "InvalidData")
        assert.deepStrictEqual(error._op === "InvalidData" ? error.path : [], ["encryptionKeys", "1"])
        assert.notInclude(String(error), Redacted.value(key))
      }
      const cases: ReadonlyArray<[Record<string, unknown>, string]> = [
        [{ url: "http://example.com" }, "url"],
        [{}, "url"],
        [{ url: server!.url, leaseTime: "forever" }, "leaseTime"],
        [{ url: server!.url, commandTimeout: -1 }, "commandTimeout"],
        [{ url: server!.url, prefix: "a b" }, "prefix"],
        [{ url: server!.url, encryptionKeys: "one key" }, "encryptionKeys"]
      ]
      for (const [options, field] of cases) {
        const error = yield* Effect.flip(RedisTokenStore.make(options as RedisTokenStore.Options))
        assert.deepStrictEqual(error._op === "InvalidData" ? error.path[0] : error._op, field)
      }
    }))

  it.effect("layerConfig reads REDIS_URL and the keys; an invalid variable is a ConfigError naming it", () =>
    Effect.gen(function*() {
      const build = (env: Record<string, string>) =>
        Effect.either(Effect.scoped(Layer.build(RedisTokenStore.layerConfig({ connectTimeout: "100 millis" })))).pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
        )
      const missing = yield* build({})
      assert.isTrue(Either.isLeft(missing) && String(missing.left).includes("REDIS_URL"))
      const badKeys = yield* build({
        REDIS_URL: server!.url,
        REDIS_TOKEN_ENCRYPTION_KEYS: `${Redacted.value(key1)},short`
      })
      assert.isTrue(Either.isLeft(badKeys))
      if (Either.isLeft(badKeys)) {
        assert.include(String(badKeys.left), "REDIS_TOKEN_ENCRYPTION_KEYS")
        assert.notInclude(String(badKeys.left), Redacted.value(key1))
      }
      const ok = yield* build({ REDIS_URL: server!.url, REDIS_TOKEN_ENCRYPTION_KEYS: Redacted.value(key1) })
      assert.isTrue(Either.isRight(ok))
    }))

  it.scopedLive("built with layer, a manager's warm get sends no Redis command (the hot path stays local)", () =>
    Effect.gen(function*() {
      const raw = yield* rawClient(server!.url)
      const commands = Effect.promise(async () => {
        const stats = await raw.info("commandstats")
        return [...stats.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)]
          // The store's liveness PINGs (every 5 s) are not the managers' commands.
          .filter(([, name]) => name !== "info" && name !== "ping")
          .reduce((sum, [, , calls]) => sum + Number(calls), 0)
      })
      const store = yield* Layer.build(
        RedisTokenStore.layer({ url: server!.url, prefix: uniquePrefix("layer"), ...RedisServer.loadedMachineTimeouts })
      ).pipe(Effect.map(Context.get(TokenStore.TokenStore)))
      const endpoint = {
        key: KEY,
        request: Effect.map(Clock.currentTimeMillis, (now) => makeToken("layer-token", now, 3_600_000))
      }
      const manager = yield* TokenManager.make(endpoint, { store })
      yield* manager.get
      const before = yield* commands
      assert.isAbove(before, 0) // the cold get went through Redis: the count sees the store's commands
      for (let i = 0; i < 1_000; i++) yield* manager.get
      assert.strictEqual((yield* commands) - before, 0)
    }))

  it.scopedLive("accepts the caller's own node-redis client, and leaves it open", () =>
    Effect.gen(function*() {
      const client = createClient({ url: server!.url, disableOfflineQueue: true })
      client.on("error", () => {})
      yield* Effect.addFinalizer(() => Effect.promise(() => client.disconnect()).pipe(Effect.ignore))
      const prefix = uniquePrefix("own")
      yield* Effect.scoped(Effect.gen(function*() {
        const store = yield* RedisTokenStore.make({ client, prefix })
        const slot = yield* store.slot(KEY)
        assert.strictEqual((yield* slot.claim)._tag, "Claimed")
      }))
      assert.isTrue(client.isOpen)
      assert.strictEqual(yield* Effect.promise(() => client.ping()), "PONG")
    }))
})
