/**
 * Overhead over loopback: for each contender (its own child process), the same calls through the same HTTP client,
 * once authorized by the library and once with a fixed `Authorization` header, in alternating rounds. Reports the
 * ratios authorized / fixed of the client process's CPU per call and of the throughput.
 */
import type { Context as ChildContext } from "../child.js"
import * as children from "../children.js"
import { byName } from "../contenders/index.js"
import { fixed, withSpread } from "../format.js"
import { closedLoop, type Throughput } from "../load.js"
import { spread } from "../stats.js"
import { type Context, type Section, skippedRows, tenant } from "./context.js"

// Rounds of about half a second each: with 600 calls (0.2 s) every contender's ratio, the baseline's too, swung by
// tens of percent from round to round on 2 cores.
const config = { callsPerRound: 1500, concurrency: 16, warmupCalls: 1000, rounds: 5, tokenLifetimeSeconds: 3600 }

interface Round {
  readonly authorized: Throughput
  readonly fixedHeader: Throughput
}

/** A token for the fixed-header calls, fetched by hand so that no library is involved. */
const fetchToken = async (tokenUrl: string, clientId: string): Promise<string> => {
  const response = await fetch(tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: "bench-secret" })
  })
  return ((await response.json()) as { access_token: string }).access_token
}

export const child = async ({ ready, task }: ChildContext): Promise<ReadonlyArray<Round>> => {
  const { clientId } = task.config as { readonly clientId: string }
  const contender = await (await byName(task.contender).load())(task.endpoints)
  const client = await contender.make({ clientId, clientSecret: "bench-secret" })
  const token = await fetchToken(task.endpoints.tokenUrl, `${clientId}-fixed`)
  const fixedCall = () => client.callStatic(token)
  await closedLoop(client.call, config.warmupCalls, config.concurrency)
  await closedLoop(fixedCall, config.warmupCalls, config.concurrency)
  await ready()
  const rounds: Array<Round> = []
  for (let round = 0; round < config.rounds; round++) {
    // Alternate which goes first, so neither always runs on a warmer (or more disturbed) machine.
    if (round % 2 === 0) {
      const fixedHeader = await closedLoop(fixedCall, config.callsPerRound, config.concurrency)
      rounds.push({ fixedHeader, authorized: await closedLoop(client.call, config.callsPerRound, config.concurrency) })
    } else {
      const authorized = await closedLoop(client.call, config.callsPerRound, config.concurrency)
      rounds.push({ authorized, fixedHeader: await closedLoop(fixedCall, config.callsPerRound, config.concurrency) })
    }
  }
  await client.close()
  await contender.close()
  return rounds
}

const cpuPerCall = (run: Throughput) => (run.cpuMs * 1000) / run.requests
const perSecond = (run: Throughput) => run.requests / (run.wallMs / 1000)

export const summarise = (rounds: ReadonlyArray<Round>) => ({
  cpuRatio: spread(rounds.map((round) => cpuPerCall(round.authorized) / cpuPerCall(round.fixedHeader))),
  throughputRatio: spread(rounds.map((round) => perSecond(round.authorized) / perSecond(round.fixedHeader))),
  addedCpuMicros: spread(rounds.map((round) => cpuPerCall(round.authorized) - cpuPerCall(round.fixedHeader))),
  fixedCpuMicros: spread(rounds.map((round) => cpuPerCall(round.fixedHeader))),
  failed: rounds.reduce((sum, round) => sum + round.authorized.failed + round.fixedHeader.failed, 0)
})

export const run = async (context: Context): Promise<Section> => {
  const rows: Array<ReadonlyArray<string>> = []
  const raw: Record<string, unknown> = {}
  for (const contender of context.contenders) {
    context.log(`overhead: ${contender.name}`)
    const rounds = await children.run<ReadonlyArray<Round>>({
      scenario: "overhead",
      contender: contender.name,
      endpoints: context.endpoints,
      config: { clientId: tenant("overhead", contender.name).clientId }
    }, 180_000)
    const summary = summarise(rounds)
    raw[contender.name] = { rounds, summary }
    rows.push([
      contender.name,
      withSpread(summary.cpuRatio, (value) => fixed(value, 2)),
      withSpread(summary.addedCpuMicros, (value) => `${fixed(value, 1)} µs`),
      withSpread(summary.throughputRatio, (value) => fixed(value, 2)),
      String(summary.failed)
    ])
  }
  return {
    id: "overhead",
    title: "Overhead over loopback: authorized calls against the same calls with a fixed header",
    reading:
      `${config.rounds} rounds of ${config.callsPerRound} calls, ${config.concurrency} in flight, through each ` +
      "contender's own HTTP client, with a warm token. CPU is the client process's (user + system) per call. " +
      "1.00 means the token costs nothing; a library that requests a token per call shows it here.",
    config,
    headers: [
      "contender",
      "CPU per call, authorized / fixed",
      "CPU added per call",
      "throughput, authorized / fixed",
      "failed calls"
    ],
    rows: [...rows, ...skippedRows(context, 5)],
    notes: [],
    raw
  }
}
