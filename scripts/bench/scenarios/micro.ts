/**
 * effect-oauth in process, no network: what the authorized client adds to a request over an in-memory `HttpClient`
 * that answers at once (against the same request with a fixed header through that client), and `TokenManager.get`
 * on a warm cache against a bare `Ref.get` in the same loop; with a `redis-server`, the warm `get` over the Redis
 * store and a local miss served by Redis (`slot.get`). Alternating rounds after a warm-up, in one child process.
 */
import { AccessToken, AuthorizedClient, TokenManager } from "@effect-oauth/core"
import { RedisTokenStore } from "@effect-oauth/redis"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { performance } from "node:perf_hooks"
import { Bench } from "tinybench"
import type { Context as ChildContext } from "../child.js"
import * as children from "../children.js"
import { fixed, withSpread } from "../format.js"
import { type Spread, spread } from "../stats.js"
import type { Context, Section } from "./context.js"

const config = { requestsPerBatch: 1000, getsPerBatch: 10_000, redisReads: 1000, rounds: 5, timeMs: 400 }

/** The target of issue 12 for each measure. */
export const targets = { addedMicrosPerRequest: 2.5, getOverRefGet: 1.5 }

const url = "https://api.example.com/orders"

// A token endpoint answering at once with a one-hour token.
const endpoint = {
  key: "https://auth.example.com/oauth/token client_id=bench",
  request: Effect.map(Clock.currentTimeMillis, (now) =>
    new AccessToken.AccessToken({
      value: Redacted.make("bench-token"),
      tokenType: "Bearer",
      issuedAt: now,
      expiresAt: now + 3_600_000,
      scope: Option.none(),
      serverCreatedAt: Option.none()
    }))
}

const answered = new Response(null, { status: 200 })
const inMemory = HttpClient.make((request) => Effect.succeed(HttpClientResponse.fromWeb(request, answered)))

const times = <A, E>(n: number, effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    for (let i = 0; i < n; i++) yield* effect
  })

interface Timing {
  readonly nsPerOp: number
}

/**
 * tinybench, each task a batch of `operations` run in one `runPromise` (so the promise's cost is spread thin): a
 * warm-up, then `rounds` runs of the pair, each for `timeMs`; ns per operation from tinybench's mean.
 */
const pairs = <E>(operations: number, a: Effect.Effect<unknown, E>, b: Effect.Effect<unknown, E>) =>
  Effect.promise(async () => {
    const rounds: Array<{ readonly a: Timing; readonly b: Timing }> = []
    for (let round = 0; round < config.rounds; round++) {
      const bench = new Bench({ time: config.timeMs, warmupTime: round === 0 ? config.timeMs : 0, iterations: 5 })
      bench.add("a", () => Effect.runPromise(a)).add("b", () => Effect.runPromise(b))
      if (round === 0) await bench.warmup()
      await bench.run()
      const nsPerOp = (name: string) => (bench.getTask(name)!.result!.mean * 1e6) / operations
      rounds.push({ a: { nsPerOp: nsPerOp("a") }, b: { nsPerOp: nsPerOp("b") } })
    }
    return rounds
  })

export interface Result {
  readonly request: ReadonlyArray<{ readonly a: Timing; readonly b: Timing }>
  readonly requestUntraced: ReadonlyArray<{ readonly a: Timing; readonly b: Timing }>
  readonly get: ReadonlyArray<{ readonly a: Timing; readonly b: Timing }>
  readonly redisGet?: ReadonlyArray<{ readonly a: Timing; readonly b: Timing }> | undefined
  readonly redisSlotGet?: Timing | undefined
}

const program = (redisUrl: string | undefined) =>
  Effect.gen(function*() {
    const manager = yield* TokenManager.make(endpoint)
    const authorized = yield* AuthorizedClient.make(inMemory, manager, { origins: ["https://api.example.com"] })
    const request = yield* pairs(
      config.requestsPerBatch,
      times(config.requestsPerBatch, authorized.get(url)),
      times(config.requestsPerBatch, inMemory.get(url, { headers: { authorization: "Bearer bench-token" } }))
    )
    // The same pair with tracing off: what the authorized client adds besides the client span it opens in place of
    // the platform's (which would hold the request carrying the token).
    const requestUntraced = yield* pairs(
      config.requestsPerBatch,
      Effect.withTracerEnabled(times(config.requestsPerBatch, authorized.get(url)), false),
      Effect.withTracerEnabled(
        times(config.requestsPerBatch, inMemory.get(url, { headers: { authorization: "Bearer bench-token" } })),
        false
      )
    )
    const ref = yield* Ref.make(0)
    const get = yield* pairs(
      config.getsPerBatch,
      times(config.getsPerBatch, manager.get),
      times(config.getsPerBatch, Ref.get(ref))
    )
    if (redisUrl === undefined) return { request, requestUntraced, get } satisfies Result
    const store = yield* RedisTokenStore.make({ url: redisUrl })
    const shared = yield* TokenManager.make(endpoint, { store })
    const redisGet = yield* pairs(
      config.getsPerBatch,
      times(config.getsPerBatch, shared.get),
      times(config.getsPerBatch, manager.get)
    )
    const slot = yield* store.slot(endpoint.key)
    yield* slot.get
    const started = performance.now()
    yield* times(config.redisReads, slot.get)
    const redisSlotGet = { nsPerOp: ((performance.now() - started) * 1e6) / config.redisReads }
    return { request, requestUntraced, get, redisGet, redisSlotGet } satisfies Result
  })

export const child = async ({ ready, task }: ChildContext): Promise<Result> => {
  await ready()
  return Effect.runPromise(Effect.scoped(program(task.endpoints.redisUrl)))
}

export interface Summary {
  readonly addedMicros: Spread
  readonly addedUntracedMicros: Spread
  readonly authorizedMicros: Spread
  readonly fixedMicros: Spread
  readonly getNs: Spread
  readonly refGetNs: Spread
  readonly getOverRefGet: Spread
  readonly redisGetOverGet?: Spread | undefined
  readonly redisSlotGetMicros?: number | undefined
}

export const summarise = (result: Result): Summary => ({
  addedMicros: spread(result.request.map((round) => (round.a.nsPerOp - round.b.nsPerOp) / 1000)),
  addedUntracedMicros: spread(result.requestUntraced.map((round) => (round.a.nsPerOp - round.b.nsPerOp) / 1000)),
  authorizedMicros: spread(result.request.map((round) => round.a.nsPerOp / 1000)),
  fixedMicros: spread(result.request.map((round) => round.b.nsPerOp / 1000)),
  getNs: spread(result.get.map((round) => round.a.nsPerOp)),
  refGetNs: spread(result.get.map((round) => round.b.nsPerOp)),
  getOverRefGet: spread(result.get.map((round) => round.a.nsPerOp / round.b.nsPerOp)),
  redisGetOverGet: result.redisGet === undefined
    ? undefined
    : spread(result.redisGet.map((round) => round.a.nsPerOp / round.b.nsPerOp)),
  redisSlotGetMicros: result.redisSlotGet === undefined ? undefined : result.redisSlotGet.nsPerOp / 1000
})

const verdict = (value: number, target: number) => (value <= target ? "met" : "not met")

export const run = async (context: Context): Promise<{ readonly section: Section; readonly summary: Summary }> => {
  context.log("effect-oauth in process (in-memory HttpClient, get against Ref.get)")
  const result = await children.run<Result>({
    scenario: "micro",
    contender: "effect-oauth",
    endpoints: context.endpoints,
    config
  }, 180_000)
  const summary = summarise(result)
  const micros = (value: number) => `${fixed(value, 2)} µs`
  const ns = (value: number) => `${fixed(value, 1)} ns`
  const ratio = (value: number) => fixed(value, 2)
  const rows: Array<ReadonlyArray<string>> = [
    [
      "time added per authorized request (in-memory HttpClient)",
      withSpread(summary.addedMicros, micros),
      `≤ ${targets.addedMicrosPerRequest} µs`,
      verdict(summary.addedMicros.median, targets.addedMicrosPerRequest)
    ],
    ["authorized request", withSpread(summary.authorizedMicros, micros), "", ""],
    ["the same request with a fixed header (the reference)", withSpread(summary.fixedMicros, micros), "", ""],
    [
      "time added per authorized request, tracing off (Effect.withTracerEnabled(false))",
      withSpread(summary.addedUntracedMicros, micros),
      "",
      ""
    ],
    ["TokenManager.get, warm cache", withSpread(summary.getNs, ns), "", ""],
    ["Ref.get, same loop", withSpread(summary.refGetNs, ns), "", ""],
    [
      "get / Ref.get",
      withSpread(summary.getOverRefGet, ratio),
      `≤ ${targets.getOverRefGet}`,
      verdict(summary.getOverRefGet.median, targets.getOverRefGet)
    ]
  ]
  if (summary.redisGetOverGet !== undefined) {
    rows.push([
      "get with the Redis store / in-memory get, warm cache",
      withSpread(summary.redisGetOverGet, ratio),
      "",
      ""
    ])
  }
  if (summary.redisSlotGetMicros !== undefined) {
    rows.push(["a local miss served by Redis (slot.get)", micros(summary.redisSlotGetMicros), "", ""])
  }
  return {
    summary,
    section: {
      id: "micro",
      title: "effect-oauth in process: the authorized client and the cache hit",
      reading:
        `tinybench, ${config.rounds} rounds of ${config.timeMs} ms per task after a warm-up; a task is a batch of ` +
        `${config.requestsPerBatch.toLocaleString("en-US")} sequential requests or ` +
        `${config.getsPerBatch.toLocaleString("en-US")} gets in one fiber. One process, no network. Targets are ` +
        "issue 12's; they are reported, not asserted.",
      config,
      headers: ["measure", "median (min–max)", "target", "verdict"],
      rows,
      notes: context.endpoints.redisUrl === undefined ? ["Redis rows skipped: no redis-server."] : [],
      raw: { result, summary }
    }
  }
}
