/**
 * Expiry under load: every contender at once (one child process each, same servers, same time window) sends a steady
 * stream of calls across 20 token lifetimes. Counts failed calls and token requests, and compares the p99 latency of
 * calls due within half a second of a token request (a refresh point) with the p99 of all other calls: a refresh
 * that makes callers wait shows as a step.
 */
import type { Context as ChildContext } from "../child.js"
import { now } from "../clock.js"
import { warmClient } from "../contenders/index.js"
import { fixed, int, ms } from "../format.js"
import { type Outcome, paced } from "../load.js"
import { median, percentile } from "../stats.js"
import { type Context, type Section, skippedRows, spawnPerContender } from "./context.js"

const config = {
  tokenLifetimeSeconds: 2,
  lifetimes: 20,
  callsPerSecond: 50,
  windowMs: 500,
  graceMs: 10_000,
  effectOauthMinRefreshIntervalMs: 1000
}
const durationMs = config.tokenLifetimeSeconds * 1000 * config.lifetimes

export const child = async ({ ready, task }: ChildContext): Promise<Outcome> => {
  const { client, contender } = await warmClient(task, {
    minRefreshIntervalMs: config.effectOauthMinRefreshIntervalMs
  })
  const startAt = await ready()
  const outcome = await paced(client.call, {
    startAt,
    durationMs,
    rate: config.callsPerSecond,
    graceMs: config.graceMs
  })
  await client.close()
  await contender.close()
  return outcome
}

export const analyse = (outcome: Outcome, refreshPoints: ReadonlyArray<number>) => {
  const near: Array<number> = []
  const rest: Array<number> = []
  const perPoint = refreshPoints.map(() => [] as Array<number>)
  outcome.starts.forEach((due, index) => {
    const latency = outcome.latencies[index]!
    const point = refreshPoints.findIndex((at) => Math.abs(due - at) <= config.windowMs)
    if (point === -1) rest.push(latency)
    else {
      near.push(latency)
      perPoint[point]!.push(latency)
    }
  })
  return {
    calls: outcome.starts.length,
    failed: outcome.ok.filter((ok) => !ok).length,
    failures: outcome.failures,
    tokenRequests: refreshPoints.length,
    p50Near: percentile(near, 50),
    p99Near: percentile(near, 99),
    p50Rest: percentile(rest, 50),
    p99Rest: percentile(rest, 99),
    nearCalls: near.length,
    restCalls: rest.length,
    p99PerRefreshPoint: perPoint.map((latencies) => percentile(latencies, 99))
  }
}

export const run = async (context: Context): Promise<Section> => {
  context.log(`expiry under load: ${context.contenders.length} contenders at once for ${durationMs / 1000} s`)
  const running = spawnPerContender<Outcome>(context, "expiry", config.tokenLifetimeSeconds, durationMs + 120_000)
  await Promise.all(running.map((entry) => entry.child.ready))
  const startAt = now() + 1000
  running.forEach((entry) => entry.child.go(startAt))
  const rows: Array<ReadonlyArray<string>> = []
  const raw: Record<string, unknown> = {}
  for (const entry of running) {
    const outcome = await entry.child.result
    const refreshPoints = context.servers.tokenRequests(entry.clientId).filter((at) =>
      at >= startAt && at < startAt + durationMs
    )
    const result = analyse(outcome, refreshPoints)
    raw[entry.contender.name] = { ...result, refreshPoints: refreshPoints.map((at) => Math.round(at - startAt)) }
    rows.push([
      entry.contender.name,
      `${int(result.failed)} / ${int(result.calls)}`,
      int(result.tokenRequests),
      ms(result.p99Near),
      ms(result.p99Rest),
      fixed(result.p99Near / result.p99Rest, 2),
      ms(median(result.p99PerRefreshPoint))
    ])
  }
  return {
    id: "expiry",
    title: `Expiry under load: ${config.lifetimes} token lifetimes of ${config.tokenLifetimeSeconds} s`,
    reading:
      `${config.callsPerSecond} calls a second per contender, all contenders in the same ${durationMs / 1000} s. ` +
      `A refresh point is a token request the server received; "near" is the calls due within ` +
      `${config.windowMs} ms of one. A near/rest p99 ratio well above 1 is a visible step: callers waited for a token.`,
    config: { ...config, durationMs },
    headers: [
      "contender",
      "failed / calls",
      "token requests",
      "p99 near a refresh",
      "p99 elsewhere",
      "near / elsewhere",
      "median p99 per refresh point"
    ],
    rows: [...rows, ...skippedRows(context, 7)],
    notes: [
      `effect-oauth runs with policy.minRefreshInterval = ${config.effectOauthMinRefreshIntervalMs} ms (its minimum): ` +
      "its 5 s default floor is meant for real token lifetimes, longer than the bench's 2 s.",
      "undici-oidc-interceptor counts a token as expired 10 s before its exp (not configurable): with 2 s tokens every " +
      "call waits for a new token, which says nothing about its behaviour with real lifetimes."
    ],
    raw
  }
}
