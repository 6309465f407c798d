/**
 * Stampede: 10,000 calls at once on a fresh client (no token yet). Counts the token requests the server received
 * for that client and the calls' p50/p99 latency. One smaller warm-up round (JIT, connection pool), then measured rounds,
 * each with a new client and client id; every contender in its own child process.
 */
import type { Context as ChildContext } from "../child.js"
import * as children from "../children.js"
import { byName } from "../contenders/index.js"
import { int, ms, withSpread } from "../format.js"
import { burst } from "../load.js"
import { percentile, spread } from "../stats.js"
import { type Context, type Section, skippedRows, tenant } from "./context.js"

const config = {
  calls: 10_000,
  warmupCalls: 1000,
  warmupRounds: 1,
  rounds: 2,
  tokenLifetimeSeconds: 3600,
  graceMs: 30_000
}

interface Round {
  readonly clientId: string
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly failed: number
  readonly failures: Record<string, number>
}

export const child = async ({ ready, task }: ChildContext): Promise<ReadonlyArray<Round>> => {
  const { clientIds } = task.config as { readonly clientIds: ReadonlyArray<string> }
  const contender = await (await byName(task.contender).load())(task.endpoints)
  await ready()
  const rounds: Array<Round> = []
  for (const [round, clientId] of clientIds.entries()) {
    const client = await contender.make({ clientId, clientSecret: "bench-secret" })
    const calls = round < config.warmupRounds ? config.warmupCalls : config.calls
    const outcome = await burst(client.call, calls, config.graceMs)
    await client.close()
    rounds.push({
      clientId,
      p50: percentile(outcome.latencies, 50),
      p99: percentile(outcome.latencies, 99),
      max: percentile(outcome.latencies, 100),
      failed: outcome.ok.filter((ok) => !ok).length,
      failures: outcome.failures
    })
  }
  await contender.close()
  return rounds
}

export const run = async (context: Context): Promise<Section> => {
  const rows: Array<ReadonlyArray<string>> = []
  const raw: Record<string, unknown> = {}
  for (const contender of context.contenders) {
    context.log(`stampede: ${contender.name}`)
    const clientIds = Array.from(
      { length: config.warmupRounds + config.rounds },
      (_, round) => tenant("stampede", contender.name, round).clientId
    )
    const rounds = await children.run<ReadonlyArray<Round>>({
      scenario: "stampede",
      contender: contender.name,
      endpoints: context.endpoints,
      config: { clientIds }
    }, 180_000)
    const measured = rounds.slice(config.warmupRounds).map((round) => ({
      ...round,
      tokenRequests: context.servers.tokenRequests(round.clientId).length
    }))
    raw[contender.name] = { warmup: rounds.slice(0, config.warmupRounds), rounds: measured }
    const tokens = spread(measured.map((round) => round.tokenRequests))
    rows.push([
      contender.name,
      withSpread(tokens, int),
      withSpread(spread(measured.map((round) => round.p50)), ms),
      withSpread(spread(measured.map((round) => round.p99)), ms),
      int(measured.reduce((sum, round) => sum + round.failed, 0))
    ])
  }
  return {
    id: "stampede",
    title: `Stampede: ${int(config.calls)} concurrent first calls`,
    reading:
      "Token requests the server received for one fresh client while 10,000 calls started at once (1 is ideal), and " +
      "the calls' latency from the start of the burst. Median of the rounds, (min–max) across them.",
    config,
    headers: ["contender", "token requests", "p50 latency", "p99 latency", "failed calls (all rounds)"],
    rows: [...rows, ...skippedRows(context, 5)],
    notes: [],
    raw
  }
}
