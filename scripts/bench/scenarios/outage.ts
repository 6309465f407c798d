/**
 * Outage: every contender at once sends a steady stream of calls while the token endpoint answers 503 and then
 * refuses connections, all while the tokens they hold are still valid (60 s tokens, a 4 s outage); then the server
 * revokes their tokens. Counts failed calls during the outage, and after the revocation the failed calls before the
 * first success (and how long that took).
 */
import type { Context as ChildContext } from "../child.js"
import { now, sleep } from "../clock.js"
import { warmClient } from "../contenders/index.js"
import { int, ms } from "../format.js"
import { type Outcome, paced } from "../load.js"
import { type Context, type Section, skippedRows, spawnPerContender } from "./context.js"

const config = {
  tokenLifetimeSeconds: 60,
  callsPerSecond: 50,
  durationMs: 10_000,
  unavailableAtMs: 1000,
  refusedAtMs: 3000,
  upAtMs: 5000,
  revokeAtMs: 6000,
  graceMs: 15_000
}

export const child = async ({ ready, task }: ChildContext): Promise<Outcome> => {
  const { client, contender } = await warmClient(task)
  const startAt = await ready()
  const outcome = await paced(client.call, {
    startAt,
    durationMs: config.durationMs,
    rate: config.callsPerSecond,
    graceMs: config.graceMs
  })
  await client.close()
  await contender.close()
  return outcome
}

const analyse = (outcome: Outcome, startAt: number, revokedAt: number) => {
  const calls = outcome.starts.map((due, index) => ({
    due: due - startAt,
    done: due + outcome.latencies[index]! - startAt,
    ok: outcome.ok[index]!
  }))
  const revoked = revokedAt - startAt
  const outage = calls.filter((call) => call.due >= config.unavailableAtMs && call.done < revoked)
  const after = calls.filter((call) => call.done >= revoked)
  const firstSuccess = after.find((call) => call.ok)
  const beforeRecovery = after.filter((call) => firstSuccess === undefined || call.due < firstSuccess.due)
  return {
    outageCalls: outage.length,
    failedInOutage: outage.filter((call) => !call.ok).length,
    failedBeforeFirstSuccess: beforeRecovery.filter((call) => !call.ok).length,
    recovered: firstSuccess !== undefined,
    recoveryMs: firstSuccess === undefined ? Number.NaN : firstSuccess.done - revoked,
    failedAfterRevocation: after.filter((call) => !call.ok).length,
    failures: outcome.failures
  }
}

export const run = async (context: Context): Promise<Section> => {
  context.log(`outage: ${context.contenders.length} contenders at once for ${config.durationMs / 1000} s`)
  const running = spawnPerContender<Outcome>(
    context,
    "outage",
    config.tokenLifetimeSeconds,
    config.durationMs + 120_000
  )
  await Promise.all(running.map((entry) => entry.child.ready))
  const startAt = now() + 1000
  running.forEach((entry) => entry.child.go(startAt))
  const at = (offset: number) => sleep(startAt + offset - now())
  await at(config.unavailableAtMs)
  await context.servers.setMode("unavailable")
  await at(config.refusedAtMs)
  await context.servers.setMode("refused")
  await at(config.upAtMs)
  await context.servers.setMode("up")
  await at(config.revokeAtMs)
  const revokedAt = now()
  running.forEach((entry) => context.servers.revoke(entry.clientId))
  const rows: Array<ReadonlyArray<string>> = []
  const raw: Record<string, unknown> = {}
  for (const entry of running) {
    const result = analyse(await entry.child.result, startAt, revokedAt)
    const tokenRequests = context.servers.tokenRequests(entry.clientId).filter((time) => time >= startAt).length
    raw[entry.contender.name] = { ...result, tokenRequests }
    rows.push([
      entry.contender.name,
      `${int(result.failedInOutage)} / ${int(result.outageCalls)}`,
      int(result.failedBeforeFirstSuccess),
      result.recovered ? ms(result.recoveryMs) : `not within ${(config.durationMs - config.revokeAtMs) / 1000} s`,
      int(tokenRequests)
    ])
  }
  return {
    id: "outage",
    title: "Outage: token endpoint down while the token is valid, then a revoked token",
    reading: `${config.callsPerSecond} calls a second per contender for ${config.durationMs / 1000} s; tokens live ` +
      `${config.tokenLifetimeSeconds} s. The token endpoint answers 503 from ${config.unavailableAtMs / 1000} s, ` +
      `refuses connections from ${config.refusedAtMs / 1000} s, is back at ${config.upAtMs / 1000} s; every token is ` +
      `revoked at ${config.revokeAtMs / 1000} s. Ideal: 0 failed calls in both phases.`,
    config,
    headers: [
      "contender",
      "failed / calls during the outage",
      "failed after revocation, before recovery",
      "recovered after",
      "token requests (whole run)"
    ],
    rows: [...rows, ...skippedRows(context, 5)],
    notes: ["Token requests refused at the TCP level never reach the server and are not counted."],
    raw
  }
}
