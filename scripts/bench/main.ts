/**
 * `pnpm bench`: effect-oauth against the client-credentials libraries users would pick instead, on one loopback
 * token server and API server. Runs every scenario (each contender in child processes of its own), prints one
 * markdown table per scenario and writes everything to `bench/results.json`. `--only stampede,memory` runs some.
 */
import { fileURLToPath } from "node:url"
import * as RedisServer from "../redis-server.js"
import { now } from "./clock.js"
import { contenders } from "./contenders/index.js"
import { describe } from "./environment.js"
import { fixed } from "./format.js"
import * as report from "./report.js"
import type { Context, Section } from "./scenarios/context.js"
import * as expiry from "./scenarios/expiry.js"
import * as fleet from "./scenarios/fleet.js"
import * as memory from "./scenarios/memory.js"
import * as micro from "./scenarios/micro.js"
import * as outage from "./scenarios/outage.js"
import * as overhead from "./scenarios/overhead.js"
import * as stampede from "./scenarios/stampede.js"
import * as servers from "./servers.js"

const resultsPath = fileURLToPath(new URL("../../bench/results.json", import.meta.url))
const scenarios = ["micro", "overhead", "stampede", "expiry", "outage", "fleet", "memory"] as const

const selected = (() => {
  const index = process.argv.indexOf("--only")
  if (index === -1) return new Set<string>(scenarios)
  const names = (process.argv[index + 1] ?? "").split(",")
  const unknown = names.filter((name) => !(scenarios as ReadonlyArray<string>).includes(name))
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(", ")}; known: ${scenarios.join(", ")}`)
  return new Set(names)
})()

/** `--contenders effect-oauth,simple-oauth2` runs some contenders (for working on the bench). */
const onlyContenders = (() => {
  const index = process.argv.indexOf("--contenders")
  return index === -1 ? undefined : new Set((process.argv[index + 1] ?? "").split(","))
})()

const targetsSection = (
  microSummary: micro.Summary | undefined,
  heapBytes: number | undefined
): Section => {
  const verdict = (met: boolean | undefined) => (met === undefined ? "not measured" : met ? "met" : "not met")
  const rows = [
    [
      "time added per authorized request, in-memory HttpClient",
      microSummary === undefined ? "n/a" : `${fixed(microSummary.addedMicros.median, 2)} µs`,
      `≤ ${micro.targets.addedMicrosPerRequest} µs`,
      verdict(microSummary && microSummary.addedMicros.median <= micro.targets.addedMicrosPerRequest)
    ],
    [
      "TokenManager.get / Ref.get, warm cache",
      microSummary === undefined ? "n/a" : fixed(microSummary.getOverRefGet.median, 2),
      `≤ ${micro.targets.getOverRefGet}`,
      verdict(microSummary && microSummary.getOverRefGet.median <= micro.targets.getOverRefGet)
    ],
    [
      "heap per idle manager (10,000 managers)",
      heapBytes === undefined ? "n/a" : `${fixed(heapBytes / 1024, 1)} KiB`,
      `< ${memory.targetBytes / 1024} KiB (about 2.6 KiB expected)`,
      verdict(heapBytes === undefined ? undefined : heapBytes < memory.targetBytes)
    ]
  ]
  return {
    id: "targets",
    title: "effect-oauth against the targets of issue 12",
    reading: "Medians from the scenarios below; reported, never asserted.",
    config: { micro: micro.targets, memoryBytes: memory.targetBytes },
    headers: ["measure", "measured", "target", "verdict"],
    rows,
    notes: [],
    raw: {}
  }
}

const main = async () => {
  const started = now()
  const log = (line: string) => console.error(`[bench ${fixed((now() - started) / 1000, 0)} s] ${line}`)
  const environment = describe(contenders)
  const running = await servers.start()
  const redis = await RedisServer.start()
  if (redis === undefined) log(`no redis-server: Redis rows skipped (${RedisServer.installHint})`)
  try {
    const context: Context = {
      servers: running,
      endpoints: {
        tokenUrl: running.tokenUrl,
        apiUrl: running.apiUrl,
        apiOrigin: running.apiOrigin,
        redisUrl: redis?.url
      },
      contenders: contenders.filter((contender) =>
        (contender.needsRedis !== true || redis !== undefined) &&
        (onlyContenders === undefined || onlyContenders.has(contender.name))
      ),
      skipped: redis === undefined
        ? contenders.filter((contender) => contender.needsRedis === true).map((contender) => ({
          name: contender.name,
          reason: "no redis-server"
        }))
        : [],
      log
    }
    const sections: Array<Section> = []
    const microRun = selected.has("micro") ? await micro.run(context) : undefined
    const overheadSection = selected.has("overhead") ? await overhead.run(context) : undefined
    if (selected.has("stampede")) sections.push(await stampede.run(context))
    if (selected.has("expiry")) sections.push(await expiry.run(context))
    if (selected.has("outage")) sections.push(await outage.run(context))
    const fleetSection = selected.has("fleet") ? await fleet.run(context) : undefined
    if (fleetSection !== undefined) sections.push(fleetSection)
    const memoryRun = selected.has("memory") ? await memory.run(context) : undefined
    if (overheadSection !== undefined) sections.push(overheadSection)
    if (microRun !== undefined) sections.push(microRun.section)
    if (memoryRun !== undefined) sections.push(memoryRun.section)
    const targets = targetsSection(microRun?.summary, memoryRun?.result.heapBytesPerManager)
    const wallSeconds = (now() - started) / 1000
    const output = [
      "## Benchmarks",
      "",
      report.machine(environment, wallSeconds),
      `Versions: ${report.versions(environment)}.`,
      "",
      ...[targets, ...sections].flatMap((section) => [report.table(section), ""])
    ].join("\n")
    console.log(output)
    report.write(resultsPath, {
      command: "pnpm bench",
      scenarios: [...selected],
      wallSeconds: Math.round(wallSeconds),
      ...environment,
      skipped: context.skipped,
      sections: [targets, ...sections]
    })
    log(`results written to ${resultsPath}`)
  } finally {
    redis?.stop()
    await running.close()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
