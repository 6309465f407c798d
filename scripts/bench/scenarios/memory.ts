/**
 * Memory: a multi-tenant service holding one effect-oauth `TokenManager` per tenant. In a fresh child process
 * (`--expose-gc`), 10,000 managers are built with the core's `TokenManager.make` over a `TokenEndpoint` against the
 * loopback token server (each its own client id, all in one scope, one `FetchHttpClient`): first cold (no token
 * yet), then each fetches once so that it holds a token, and sits idle. Reports the heap growth per manager after a
 * full GC, the active timers and the live fibers per manager (counted by a tracking `Supervisor` on the runtime).
 */
import { TokenEndpoint, TokenManager } from "@effect-oauth/core"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as Supervisor from "effect/Supervisor"
import type { Context as ChildContext } from "../child.js"
import * as children from "../children.js"
import { sleep } from "../clock.js"
import { fixed, int } from "../format.js"
import { type Context, type Section, tenant } from "./context.js"

const config = { managers: 10_000, concurrency: 250, warmupManagers: 500, idleMs: 1000 }

/** The target of issue 12: bytes of heap per idle effect-oauth manager. */
export const targetBytes = 5 * 1024

export interface Result {
  readonly endpointBytes: number
  readonly coldBytesPerManager: number
  readonly heapBytesPerManager: number
  readonly timersPerManager: number
  readonly fibersPerManager: number
  readonly failed: number
}

const collect = async () => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error("run with --expose-gc")
  for (let i = 0; i < 3; i++) {
    gc()
    await sleep(20)
  }
  return process.memoryUsage().heapUsed
}

const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === "Timeout").length

const program = (tokenUrl: string, prefix: string) =>
  Effect.gen(function*() {
    const supervisor = yield* Supervisor.track
    const scope = yield* Scope.make()
    const endpoints = (name: string, count: number) =>
      Effect.forEach(
        Array.from({ length: count }, (_, index) => `${prefix}-${name}-${index}`),
        (clientId) => TokenEndpoint.make({ tokenUrl, clientId, clientSecret: Redacted.make("bench-secret") })
      )
    const managers = (endpoints: ReadonlyArray<TokenEndpoint.Service>) =>
      Effect.forEach(endpoints, (endpoint) => Scope.extend(TokenManager.make(endpoint, { name: "bench" }), scope))
    const fetchAll = (managers: ReadonlyArray<TokenManager.Service>) =>
      Effect.map(
        Effect.forEach(managers, (manager) => Effect.either(manager.get), { concurrency: config.concurrency }),
        (results) => results.filter((result) => result._tag === "Left").length
      )
    // Warm-up: load and compile every code path a manager uses, so the measure is the managers' own memory.
    yield* fetchAll(yield* managers(yield* endpoints("warm", config.warmupManagers)))
    const fibersBefore = (yield* supervisor.value).length
    const timersBefore = timers()
    const start = yield* Effect.promise(collect)
    const built = yield* endpoints("m", config.managers)
    const before = yield* Effect.promise(collect)
    const held = yield* managers(built)
    const cold = yield* Effect.promise(collect)
    const failed = yield* fetchAll(held)
    yield* Effect.sleep(config.idleMs)
    const warm = yield* Effect.promise(collect)
    const result: Result = {
      endpointBytes: (before - start) / config.managers,
      coldBytesPerManager: (cold - before) / config.managers,
      heapBytesPerManager: (warm - before) / config.managers,
      timersPerManager: (timers() - timersBefore) / config.managers,
      fibersPerManager: ((yield* supervisor.value).length - fibersBefore) / config.managers,
      failed
    }
    yield* Scope.close(scope, Exit.void)
    return result
  }).pipe(
    Effect.provide(FetchHttpClient.layer),
    Logger.withMinimumLogLevel(LogLevel.Error)
  )

export const child = async ({ ready, task }: ChildContext): Promise<Result> => {
  const { prefix } = task.config as { readonly prefix: string }
  await ready()
  return Effect.runPromise(program(task.endpoints.tokenUrl, prefix))
}

export const run = async (context: Context): Promise<{ readonly section: Section; readonly result: Result }> => {
  context.log(`memory: ${int(config.managers)} effect-oauth managers`)
  const result = await children.run<Result>({
    scenario: "memory",
    contender: "effect-oauth",
    endpoints: context.endpoints,
    config: { prefix: tenant("memory", "effect-oauth").clientId }
  }, 120_000)
  const kib = (bytes: number) => `${fixed(bytes / 1024, 2)} KiB`
  return {
    result,
    section: {
      id: "memory",
      title: `Memory: ${int(config.managers)} idle effect-oauth managers`,
      reading: "TokenManager.make over a TokenEndpoint against the loopback token server, one client id each, in " +
        "one process. Heap growth after a full GC divided by the managers (the endpoints built first and measured apart): cold (built, no token yet) and idle " +
        "(each fetched one token, then 1 s idle). Fibers and timers are what the managers added to the process.",
      config: { ...config, targetBytes },
      headers: ["measure", "per manager", `for ${int(config.managers)}`],
      rows: [
        [
          "heap of its TokenEndpoint (not counted below)",
          kib(result.endpointBytes),
          `${fixed(result.endpointBytes * 10 / 1024, 1)} MiB`
        ],
        [
          "heap, cold (no token yet)",
          kib(result.coldBytesPerManager),
          `${fixed(result.coldBytesPerManager * 10 / 1024, 1)} MiB`
        ],
        [
          "heap, idle holding a token",
          kib(result.heapBytesPerManager),
          `${fixed(result.heapBytesPerManager * 10 / 1024, 1)} MiB`
        ],
        ["live fibers", fixed(result.fibersPerManager, 3), int(result.fibersPerManager * config.managers)],
        ["active timers", fixed(result.timersPerManager, 3), int(result.timersPerManager * config.managers)],
        ["failed token fetches", "", int(result.failed)]
      ],
      notes: [],
      raw: result
    }
  }
}
