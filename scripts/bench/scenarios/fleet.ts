/**
 * Fleet (Redis): N processes of one client sharing a `RedisTokenStore`, each with M callers, against N processes
 * each with its own in-memory manager (and client id, so each one's count is known). Runs both fleets at once over
 * several token lifetimes and reports token requests per refresh point (a refresh point: one manager alone
 * refreshing once, the median count of the independent processes).
 */
import type { Context as ChildContext } from "../child.js"
import * as children from "../children.js"
import { now } from "../clock.js"
import { byName, warmClient } from "../contenders/index.js"
import { fixed, int } from "../format.js"
import { paced } from "../load.js"
import { median } from "../stats.js"
import { type Context, type Section, tenant } from "./context.js"

const config = {
  processes: 4,
  callersPerProcess: 10,
  callsPerSecondPerCaller: 2,
  tokenLifetimeSeconds: 2,
  durationMs: 10_000,
  effectOauthMinRefreshIntervalMs: 1000,
  graceMs: 10_000
}

interface Result {
  readonly calls: number
  readonly failed: number
  readonly failures: Record<string, number>
}

export const child = async ({ ready, task }: ChildContext): Promise<Result> => {
  const { client, contender } = await warmClient(task, {
    minRefreshIntervalMs: config.effectOauthMinRefreshIntervalMs
  })
  const startAt = await ready()
  const interval = 1000 / config.callsPerSecondPerCaller
  const outcomes = await Promise.all(
    Array.from({ length: config.callersPerProcess }, (_, caller) =>
      paced(client.call, {
        startAt: startAt + (caller * interval) / config.callersPerProcess,
        durationMs: config.durationMs,
        rate: config.callsPerSecondPerCaller,
        graceMs: config.graceMs
      }))
  )
  await client.close()
  await contender.close()
  const failures: Record<string, number> = {}
  for (const outcome of outcomes) {
    for (const [reason, count] of Object.entries(outcome.failures)) failures[reason] = (failures[reason] ?? 0) + count
  }
  return {
    calls: outcomes.reduce((sum, outcome) => sum + outcome.starts.length, 0),
    failed: outcomes.reduce((sum, outcome) => sum + outcome.ok.filter((ok) => !ok).length, 0),
    failures
  }
}

export const run = async (context: Context): Promise<Section | undefined> => {
  if (context.endpoints.redisUrl === undefined) return undefined
  context.log(`fleet: ${config.processes} processes sharing Redis and ${config.processes} alone, at once`)
  const shared = tenant("fleet", "shared").clientId
  const alone = Array.from({ length: config.processes }, (_, i) => tenant("fleet", "alone", i).clientId)
  for (const clientId of [shared, ...alone]) context.servers.setLifetime(clientId, config.tokenLifetimeSeconds)
  const spawn = (contender: string, clientId: string) =>
    children.spawn<Result>(
      { scenario: "fleet", contender, endpoints: context.endpoints, config: { clientId } },
      120_000
    )
  const sharedFleet = Array.from({ length: config.processes }, () => spawn(byName("effect-oauth + Redis").name, shared))
  const aloneFleet = alone.map((clientId) => spawn(byName("effect-oauth").name, clientId))
  const all = [...sharedFleet, ...aloneFleet]
  await Promise.all(all.map((child) => child.ready))
  const startAt = now() + 1000
  all.forEach((child) => child.go(startAt))
  const sharedResults = await Promise.all(sharedFleet.map((child) => child.result))
  const aloneResults = await Promise.all(aloneFleet.map((child) => child.result))
  const inRun = (clientId: string) =>
    context.servers.tokenRequests(clientId).filter((at) => at >= startAt && at < startAt + config.durationMs).length
  const sharedRequests = inRun(shared)
  const aloneRequests = alone.map(inRun)
  const refreshPoints = median(aloneRequests)
  const sum = (results: ReadonlyArray<Result>, field: "calls" | "failed") =>
    results.reduce((total, result) => total + result[field], 0)
  const fleet = `${config.processes} processes × ${config.callersPerProcess} callers`
  return {
    id: "fleet",
    title: "Fleet (Redis): token requests per refresh point",
    reading:
      `Both fleets run at once for ${config.durationMs / 1000} s with ${config.tokenLifetimeSeconds} s tokens, each ` +
      `caller making ${config.callsPerSecondPerCaller} calls a second. A refresh point is one manager alone ` +
      `refreshing once (the independent processes' median count, here ${fixed(refreshPoints, 0)}): the shared fleet ` +
      `should send about 1 token request per refresh point, the independent one ${config.processes}.`,
    config,
    headers: ["fleet", "token requests", "per refresh point", "failed / calls"],
    rows: [
      [
        `${fleet}, one RedisTokenStore`,
        int(sharedRequests),
        fixed(sharedRequests / refreshPoints, 2),
        `${int(sum(sharedResults, "failed"))} / ${int(sum(sharedResults, "calls"))}`
      ],
      [
        `${fleet}, independent in-memory managers`,
        int(aloneRequests.reduce((a, b) => a + b, 0)),
        fixed(aloneRequests.reduce((a, b) => a + b, 0) / refreshPoints, 2),
        `${int(sum(aloneResults, "failed"))} / ${int(sum(aloneResults, "calls"))}`
      ]
    ],
    notes: [
      `effect-oauth runs with policy.minRefreshInterval = ${config.effectOauthMinRefreshIntervalMs} ms, as in the ` +
      "expiry scenario."
    ],
    raw: { sharedRequests, aloneRequests, refreshPoints, sharedResults, aloneResults }
  }
}
