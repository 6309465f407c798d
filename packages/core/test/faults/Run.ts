/**
 * Runs one generated scenario against the emulator over real sockets, with TestClock time.
 *
 * Time and the wire are kept apart: the clock only moves when nothing is in flight on the wire (`settle`), and then
 * only to the next instant a fiber sleeps until (`advance`), so a response is never overtaken by a timeout that the
 * same clock jump fired. A token request held by an injected latency is "parked" at the server on a TestClock sleep:
 * it counts as settled until the clock reaches its end.
 */
import { Emulator, Fault, Recorder } from "@effect-oauth/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Supervisor from "effect/Supervisor"
import * as TestClock from "effect/TestClock"
import * as AuthorizedClient from "../../src/AuthorizedClient.js"
import * as OAuthError from "../../src/OAuthError.js"
import * as TokenEndpoint from "../../src/TokenEndpoint.js"
import * as TokenManager from "../../src/TokenManager.js"
import type { Action, Caller, FaultSpec, Scenario } from "./Scenario.js"
import * as W from "./World.js"

export const CLIENT_ID = "fault-app"
// Characters that every encoding of the secret changes (form, percent, JSON, Basic), so each form is searched for.
export const SECRET = "f4ult+su1te/s3cr3t=%20&\"value\""

/** A resource server answer that is neither a success nor a token rejection: never expected from the emulator. */
export class UnexpectedStatus extends Data.TaggedError("UnexpectedStatus")<{ readonly status: number }> {}

/** Everything a run leaves for the invariants. */
export interface Report {
  readonly world: W.World
  readonly recorder: Recorder.Recorder
  /** Fibers forked under the run's supervisor still alive after the manager's scope closed. */
  readonly fibersLeft: ReadonlyArray<string>
  /** The recovery phase: whether it ran, its calls' exits, and the token requests it took. */
  readonly recovery: {
    readonly ran: boolean
    readonly exits: ReadonlyArray<Exit.Exit<void, unknown>>
    readonly requests: number
    readonly bound: number
    readonly boundText: string
  }
  /** A `get` on the closed manager: must fail at once. */
  readonly afterClose: Option.Option<Exit.Exit<unknown, unknown>>
}

export const toFault = (spec: FaultSpec): Fault.Fault => {
  switch (spec.kind) {
    case "latency":
      return Fault.latency(Duration.millis(spec.millis))
    case "status":
      return Fault.status(
        spec.status,
        spec.retryAfterSeconds === undefined ? {} : { retryAfter: Duration.seconds(spec.retryAfterSeconds) }
      )
    case "reset":
      return Fault.connectionReset
    case "malformed":
      return Fault.malformedJson
    case "html":
      return Fault.htmlError(spec.status)
    case "missingToken":
      return Fault.missingFields("access_token")
    case "revokedOnIssue":
      return Fault.revokedOnIssue
    case "rejected":
      return Fault.status(spec.status)
  }
}

// One turn of the event loop and its timers: lets sockets and fibers scheduled on timers make progress.
const tick = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 1)))

// Resource responses are read whole inside the counted region, so once the count is back to zero no resource
// request or body read is left on the wire.
const counting = (client: HttpClient.HttpClient, world: W.World): HttpClient.HttpClient =>
  HttpClient.transformResponse(client, (response) =>
    Effect.acquireUseRelease(
      Effect.sync(() => world.apiInflight++),
      () =>
        Effect.flatMap(response, (received) =>
          Effect.map(received.arrayBuffer, (body) =>
            HttpClientResponse.fromWeb(
              received.request,
              new Response(body, { status: received.status, headers: received.headers as Record<string, string> })
            ))),
      () => Effect.sync(() => world.apiInflight--)
    ))

const tracked = (endpoint: TokenEndpoint.Service, world: W.World): TokenEndpoint.Service => ({
  ...endpoint,
  request: Effect.flatMap(Clock.currentTimeMillis, (start) => {
    const request = W.startRequest(world, start)
    return Effect.onExit(endpoint.request, (exit) =>
      Effect.map(Clock.currentTimeMillis, (end) =>
        W.endRequest(
          world,
          request,
          end,
          Exit.match(exit, {
            onSuccess: (token): W.Outcome => ({ _tag: "Token", token }),
            onFailure: (cause): W.Outcome =>
              Option.match(Cause.failureOption(cause), {
                onSome: (error) => ({
                  _tag: "Failure",
                  error: error._tag,
                  retryAfter: OAuthError.isTransient(error) && error.retryAfter !== undefined
                    ? Duration.toMillis(error.retryAfter)
                    : undefined
                }),
                onNone: () => Cause.isInterruptedOnly(cause) ? { _tag: "Interrupted" } : { _tag: "Defect" }
              })
          })
        )))
  })
})

/**
 * Runs `scenario`; fails (a defect) only when the harness itself cannot go on (the system does not settle, or the
 * clock has too many instants to visit); every invariant is checked afterwards on the report.
 */
export const run = (scenario: Scenario): Effect.Effect<Report> =>
  Effect.scoped(Effect.gen(function*() {
    const world = W.makeWorld(scenario)
    // Outside the supervised and recorded region: the emulator's own fibers and logs are not the manager's.
    const emulator = yield* Emulator.make({
      provider: "rfc6749",
      clients: [{ id: CLIENT_ID, secret: SECRET, tokenLifetime: Duration.seconds(scenario.lifetimeSeconds) }],
      oneTokenPerClient: scenario.oneTokenPerClient
    }).pipe(Effect.orDie)
    const httpLayer = scenario.httpClient === "fetch" ? FetchHttpClient.layer : NodeHttpClient.layerUndici
    const http = Context.get(yield* Layer.build(httpLayer), HttpClient.HttpClient)

    const supervisor = yield* Supervisor.track
    const recorder = yield* Recorder.make
    const managerScope = yield* Scope.make()

    const now = TestClock.currentTimeMillis

    const isParked = (at: number, arrivals: number, sleeps: ReadonlyArray<number>) => {
      const pending = world.requests.find((request) => request.outcome._tag === "Pending")
      return pending !== undefined && pending.fault?.kind === "latency" && arrivals === world.requests.length &&
        at < pending.start + Math.min(pending.fault.millis, world.timeoutMillis) &&
        sleeps.includes(pending.start + pending.fault.millis)
    }

    // Waits (in real time, bounded) until nothing is on the wire but parked token requests, and nothing changed for
    // a few turns of the event loop.
    const settle = Effect.gen(function*() {
      let quiet = 0
      let last = ""
      for (let poll = 0; poll < 10_000; poll++) {
        const at = yield* now
        const arrivals = (yield* emulator.stats).tokenRequests
        const sleeps = Chunk.toReadonlyArray(yield* TestClock.sleeps())
        const done = world.callers.filter((caller) => caller.exit !== undefined).length
        const snapshot =
          [world.tokenInflight, world.requests.length, arrivals, world.apiInflight, done, world.events.length]
            .join("/") + `/${sleeps.length}`
        const idle = world.apiInflight === 0 && (world.tokenInflight === 0 || isParked(at, arrivals, sleeps))
        quiet = idle && snapshot === last ? quiet + 1 : 0
        last = snapshot
        if (quiet >= 3) return
        yield* tick
      }
      return yield* Effect.dieMessage(`the run did not settle: in flight ${last}`)
    })

    // Moves the clock `millis` forward, one sleeping instant at a time, settling before each.
    const advance = (millis: number) =>
      Effect.gen(function*() {
        const target = (yield* now) + millis
        for (let instants = 0; instants < 2_000; instants++) {
          yield* settle
          const at = yield* now
          const next = Chunk.toReadonlyArray(yield* TestClock.sleeps()).filter((sleep) => sleep > at)
            .reduce((min, sleep) => Math.min(min, sleep), Infinity)
          if (next > target) {
            if (target > at) yield* TestClock.setTime(target)
            return yield* settle
          }
          yield* TestClock.setTime(next)
        }
        return yield* Effect.dieMessage(`more than 2000 timer instants in ${millis} ms: something loops`)
      })

    const body = Effect.gen(function*() {
      const endpoint = yield* TokenEndpoint.make({
        tokenUrl: emulator.tokenUrl,
        clientId: CLIENT_ID,
        clientSecret: Redacted.make(SECRET),
        timeout: Duration.seconds(scenario.timeoutSeconds)
      }).pipe(Effect.provideService(HttpClient.HttpClient, http), Effect.orDie)
      const manager = yield* TokenManager.make(tracked(endpoint, world), { policy: scenario.policy, name: "faults" })
        .pipe(Scope.extend(managerScope), Effect.orDie)
      const client = yield* AuthorizedClient.make(counting(http, world), manager, { origins: [emulator.baseUrl] })
        .pipe(Effect.orDie)
      yield* Stream.runForEach(manager.events, (event) => Effect.sync(() => W.onEvent(world, event))).pipe(
        Effect.forkIn(managerScope)
      )

      const api = Effect.gen(function*() {
        const response = yield* client.get(`${emulator.baseUrl}/api/orders`)
        if (response.status !== 200) return yield* new UnexpectedStatus({ status: response.status })
        yield* response.json
      })

      const launch = (id: string, caller: Caller) =>
        Effect.gen(function*() {
          const at = yield* now
          const current = W.usable(world, at)
          const record: W.CallerRecord = {
            id,
            kind: caller.kind,
            start: at,
            usableAtStart: current !== undefined,
            validAtStart: current !== undefined && !current.serverInvalid,
            interruptRequested: false,
            pendingAtClose: false,
            end: undefined,
            exit: undefined
          }
          world.callers.push(record)
          const call: Effect.Effect<void, unknown> = caller.kind === "get" ? Effect.asVoid(manager.get) : api
          const fiber = yield* Effect.fork(Effect.onExit(call, (exit) =>
            Effect.map(Clock.currentTimeMillis, (end) => {
              record.end = end
              record.exit = exit
            })))
          return { record, fiber }
        })

      const apply = (action: Action) =>
        Effect.gen(function*() {
          const at = yield* now
          switch (action._tag) {
            case "Nothing":
            case "Close":
              return
            case "Inject": {
              const times = action.times === 0 ? Infinity : action.times
              yield* emulator.clearFaults
              yield* emulator.injectFault(toFault(action.fault), { times })
              world.queued = { fault: action.fault, remaining: times }
              return
            }
            case "Clear":
              yield* emulator.clearFaults
              world.queued = undefined
              return
            case "Revoke":
              yield* emulator.revokeClientTokens(CLIENT_ID).pipe(Effect.orDie)
              return W.invalidateAll(world, at, "tokens revoked")
            case "Regenerate":
              yield* emulator.regenerateSecret(CLIENT_ID, action.known ? SECRET : undefined).pipe(Effect.orDie)
              world.mismatch = !action.known
              return W.invalidateAll(world, at, "secret regenerated")
            case "OneTokenPerClient":
              yield* emulator.setOneTokenPerClient(action.enabled)
              world.oneTokenPerClient = action.enabled
              return
          }
        })

      yield* settle
      let closed = false
      for (const [index, step] of scenario.steps.entries()) {
        yield* settle
        if (step.action._tag === "Close") {
          closed = true
          break
        }
        yield* apply(step.action)
        const launched = []
        for (const [n, caller] of step.callers.entries()) launched.push(yield* launch(`${index}.${n}`, caller))
        for (const [n, caller] of step.callers.entries()) {
          if (caller.interruptAfterYields === undefined) continue
          for (let i = 0; i < caller.interruptAfterYields; i++) yield* Effect.yieldNow()
          launched[n]!.record.interruptRequested = true
          yield* Fiber.interruptFork(launched[n]!.fiber)
        }
        yield* advance(step.advanceMillis)
      }

      let recovery: Report["recovery"] = { ran: false, exits: [], requests: 0, bound: 0, boundText: "" }
      if (!closed) recovery = yield* recover(launch)
      yield* settle
      world.closedAt = yield* now
      for (const caller of world.callers) caller.pendingAtClose = caller.exit === undefined
      yield* Scope.close(managerScope, Exit.void)
      yield* settle
      const afterClose = yield* Effect.fork(Effect.timeout(manager.get, "1 second"))
      yield* advance(1_000)
      return { recovery, afterClose: yield* Fiber.poll(afterClose) }
    })

    // The faults stop: the queue is cleared and the server takes the app's secret again. The token request under
    // way (a latency) ends, the longest failure memory passes, then a `get` and an API call must succeed.
    const recover = (
      launch: (id: string, caller: Caller) => Effect.Effect<{ readonly record: W.CallerRecord }>
    ) =>
      Effect.gen(function*() {
        yield* settle
        yield* emulator.clearFaults
        world.queued = undefined
        world.recoveryAt = yield* now
        if (world.mismatch) {
          yield* emulator.regenerateSecret(CLIENT_ID, SECRET).pipe(Effect.orDie)
          world.mismatch = false
          W.invalidateAll(world, world.recoveryAt, "the app's secret restored on the server")
        }
        for (let i = 0; i < 100 && world.tokenInflight > 0; i++) yield* advance(1_000)
        const memoryEnd = world.requests.reduce(
          (max, request) =>
            request.outcome._tag === "Failure" ? Math.max(max, request.end! + W.memoryMillis(world, request)) : max,
          0
        )
        yield* advance(Math.max(0, memoryEnd - (yield* now)))
        const waited = (yield* now) - world.recoveryAt
        const calls = [
          yield* launch("recovery.get", { kind: "get" }),
          yield* launch("recovery.api", { kind: "api" })
        ]
        // A replacement after a rejection may wait for the refresh floor; a latency under way ends by the timeout.
        for (let i = 0; i < 120 && calls.some((call) => call.record.exit === undefined); i++) yield* advance(1_000)
        const again = yield* launch("recovery.again", { kind: "api" })
        yield* settle
        calls.push(again)
        const requests = world.requests.filter((request) => request.start >= world.recoveryAt!).length
        const gap = refreshGap(world)
        const bound = 3 + Math.ceil((waited + 121_000) / gap)
        return {
          ran: true,
          exits: calls.map((call) => call.record.exit ?? Exit.die("still running")),
          requests,
          bound,
          boundText:
            `3 (a retry or refresh under way, the get, the replay of a rejected token) + one per refresh gap ` +
            `(${gap} ms) in the ${waited} ms waited and the 121 s the calls may take`
        }
      })

    const result = yield* body.pipe(
      recorder.record,
      Effect.supervised(supervisor),
      Effect.withRandom(Random.make(scenario.randomSeed))
    )
    yield* settle
    const alive = yield* supervisor.value
    const fibersLeft = alive.map((fiber) => `fiber #${fiber.id().id}`)
    return { world, recorder, fibersLeft, ...result }
  }))

/**
 * The shortest time between two scheduled refreshes of the generated tokens: `minRefreshInterval`, or the refresh
 * point of `RefreshPolicy.refreshPoint` at its earliest jitter when that is later.
 */
export const refreshGap = (world: W.World): number => {
  const policy = world.policy
  const lifetime = world.scenario.lifetimeSeconds * 1000
  const jittered = lifetime * policy.refreshAt * (1 - policy.jitter)
  const latest = lifetime - Math.min(Duration.toMillis(policy.refreshMargin), lifetime * policy.maxMarginRatio)
  return Math.max(Duration.toMillis(policy.minRefreshInterval), Math.min(jittered, latest))
}
