/**
 * `pnpm demo:fleet`: four worker processes of one client share one token through Redis. The script starts a
 * `redis-server` of its own (on a free loopback port, nothing saved) and an emulator whose tokens live 6 seconds and
 * where each new token revokes the previous one (one token per client, as some providers do); then each worker (a
 * separate Node process importing the library) calls the API twice a second for 20 seconds and narrates its token
 * events. Without a store the four would revoke each other's tokens all day; with it they make the token requests
 * of one process and no call fails. Without `redis-server` installed it says how to install it and exits.
 */
import { Provider, type TokenManager } from "@effect-oauth/core"
import { RedisTokenStore } from "@effect-oauth/redis"
import { Emulator } from "@effect-oauth/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as RedisServer from "./redis-server.js"

const WORKERS = 4
const SECONDS = 20
const clientId = "fleet-app"
const clientSecret = "fleet-secret-7Hq2Vd9Lx4"

interface WorkerConfig {
  readonly n: number
  readonly redisUrl: string
  readonly tokenUrl: string
  readonly apiBaseUrl: string
  readonly start: number
}

// One worker process: a manager sharing its token through Redis, calling the API twice a second.
const worker = (config: WorkerConfig) =>
  Effect.scoped(Effect.gen(function*() {
    const start = config.start
    const say = (line: string) =>
      Effect.map(Clock.currentTimeMillis, (now) =>
        console.log(`${((now - start) / 1000).toFixed(1).padStart(5)} s  worker ${config.n}  ${line}`))
    const store = yield* RedisTokenStore.make({ url: config.redisUrl })
    const app = yield* Provider.make(
      {
        name: "fleet",
        tokenUrl: config.tokenUrl,
        apiBaseUrl: config.apiBaseUrl,
        authMethod: "client_secret_basic",
        encoding: "form"
      },
      { clientId, clientSecret: Redacted.make(clientSecret) },
      { store, policy: { minRefreshInterval: "1 second" } }
    )
    yield* Effect.forkScoped(Stream.runForEach(app.manager.events, (event: TokenManager.TokenEvent) =>
      event._tag === "Fetched" || event._tag === "Refreshed"
        ? say(`fetched a token from the provider (${event._tag === "Fetched" ? event.reason : "refresh"})`)
        : event._tag === "Adopted"
        ? say("took the shared token from Redis")
        : event._tag === "StoreUnavailable" || event._tag === "StoreRecovered"
        ? say(event._tag)
        : Effect.void))
    let ok = 0
    let failed = 0
    for (let i = 0; i < SECONDS * 2; i++) {
      const status = yield* app.client.get("/orders").pipe(
        Effect.map((response) =>
          response.status
        ),
        Effect.catchAll(() =>
          Effect.succeed(0)
        )
      )
      if (status === 200) ok++
      else failed++
      yield* Effect.sleep(Duration.millis(500))
    }
    console.log(`@@${JSON.stringify({ ok, failed })}`)
  })).pipe(Effect.provide(NodeHttpClient.layerUndici))

const runWorker = (config: WorkerConfig) =>
  new Promise<{ ok: number; failed: number }>((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      [
        "--conditions=@effect-oauth/source",
        "--import",
        "tsx",
        fileURLToPath(import.meta.url),
        "worker",
        JSON.stringify(config)
      ],
      { stdio: ["ignore", "pipe", "inherit"] }
    )
    let result: { ok: number; failed: number } | undefined
    child.stdout!.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (line.startsWith("@@")) result = JSON.parse(line.slice(2))
        else if (line.trim() !== "") console.log(line)
      }
    })
    child.once("exit", (code) => result ? resolve(result) : reject(new Error(`worker ${config.n} exited with ${code}`)))
  })

const main = async () => {
  const redis = await RedisServer.start()
  if (redis === undefined) {
    console.log(`pnpm demo:fleet needs a local redis-server, and none is installed: ${RedisServer.installHint}.`)
    return
  }
  try {
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const emulator = yield* Emulator.make({
        provider: "rfc6749",
        oneTokenPerClient: true,
        clients: [{ id: clientId, secret: clientSecret, tokenLifetime: "6 seconds" }]
      })
      console.log(
        `${WORKERS} worker processes, one client, tokens living 6 s, each new token revoking the last; ` +
          `sharing through redis-server at ${redis.url}\n`
      )
      const base = {
        redisUrl: redis.url,
        tokenUrl: emulator.tokenUrl,
        apiBaseUrl: `${emulator.baseUrl}/api`,
        start: yield* Clock.currentTimeMillis
      }
      const results = yield* Effect.promise(() =>
        Promise.all(Array.from({ length: WORKERS }, (_, i) => runWorker({ ...base, n: i + 1 })))
      )
      const stats = yield* emulator.stats
      const ok = results.reduce((sum, r) => sum + r.ok, 0)
      const failed = results.reduce((sum, r) => sum + r.failed, 0)
      console.log(
        `\n${WORKERS} workers, ${SECONDS} s: ${ok} API calls succeeded, ${failed} failed; ` +
          `${stats.tokenRequests} token requests for the whole fleet ` +
          `(one process alone refreshes about every 3 s: ~${Math.ceil(SECONDS / 3) + 1}).`
      )
      if (failed > 0) process.exitCode = 1
    })))
  } finally {
    redis.stop()
  }
}

if (process.argv[2] === "worker") {
  Effect.runPromise(worker(JSON.parse(process.argv[3]!))).catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
} else {
  main().catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
}
