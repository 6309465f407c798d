/**
 * Memory: a multi-tenant service holding one client per tenant. In a fresh child process (`--expose-gc`), each
 * contender builds 10,000 tenants (each its own client id), makes one authorized call with each (so each fetched a
 * token once), lets them sit idle, and reports the heap growth per tenant after a full GC, and the timers it keeps
 * per tenant. For effect-oauth, the live fibers per idle manager too (counted on a further sample of managers built
 * under a tracking `Supervisor`, which itself costs memory, so apart from the heap figure).
 */
import type { Context as ChildContext } from "../child.js"
import * as children from "../children.js"
import { sleep } from "../clock.js"
import type { Client } from "../contenders/contender.js"
import { byName } from "../contenders/index.js"
import { fixed, int } from "../format.js"
import { type Context, type Section, skippedRows, tenant } from "./context.js"

const config = { tenants: 10_000, concurrency: 250, warmupTenants: 200, idleMs: 1000, fiberSample: 1000 }

/** The target of issue 12: bytes of heap per idle effect-oauth manager. */
export const targetBytes = 5 * 1024

interface Result {
  readonly heapBytesPerTenant: number
  readonly timersPerTenant: number
  readonly socketsOpen: number
  readonly failed: number
  readonly fibersPerManager?: number | undefined
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

const resources = (name: string) => process.getActiveResourcesInfo().filter((resource) => resource === name).length

const build = async (
  make: (index: number) => Promise<Client>,
  count: number
): Promise<{ readonly clients: Array<Client>; readonly failed: number }> => {
  const clients: Array<Client> = []
  let failed = 0
  for (let start = 0; start < count; start += config.concurrency) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(config.concurrency, count - start) }, async (_, offset) => {
        const client = await make(start + offset)
        const status = await client.call().catch(() => 0)
        if (status !== 200) failed += 1
        return client
      })
    )
    clients.push(...batch)
  }
  return { clients, failed }
}

export const child = async ({ ready, task }: ChildContext): Promise<Result> => {
  const { prefix } = task.config as { readonly prefix: string }
  const definition = byName(task.contender)
  const contender = await (await definition.load())(task.endpoints)
  const make = (name: string) => (index: number) =>
    contender.make({ clientId: `${prefix}-${name}-${index}`, clientSecret: "bench-secret" })
  await ready()
  // Warm-up: load and compile every code path a tenant uses, so the measure is the tenants' own memory.
  const warm = await build(make("warm"), config.warmupTenants)
  await Promise.all(warm.clients.map((client) => client.close()))
  const heapBefore = await collect()
  const timersBefore = resources("Timeout")
  const { clients, failed } = await build(make("t"), config.tenants)
  await sleep(config.idleMs)
  const heapAfter = await collect()
  const result = {
    heapBytesPerTenant: (heapAfter - heapBefore) / config.tenants,
    timersPerTenant: (resources("Timeout") - timersBefore) / config.tenants,
    socketsOpen: resources("TCPSocketWrap"),
    failed
  }
  if (clients.length !== config.tenants || !definition.name.startsWith("effect-oauth")) return result
  const tracked = await (await definition.load({ trackFibers: true }))(task.endpoints)
  const fibersBefore = await tracked.liveFibers!()
  const sample = await build(
    (index) => tracked.make({ clientId: `${prefix}-fibers-${index}`, clientSecret: "bench-secret" }),
    config.fiberSample
  )
  await sleep(config.idleMs)
  const fibersPerManager = ((await tracked.liveFibers!()) - fibersBefore) / config.fiberSample
  return { ...result, fibersPerManager, failed: result.failed + sample.failed }
}

export const run = async (
  context: Context
): Promise<{ readonly section: Section; readonly effectOauth?: Result | undefined }> => {
  const rows: Array<ReadonlyArray<string>> = []
  const raw: Record<string, Result> = {}
  for (const contender of context.contenders) {
    context.log(`memory: ${contender.name}`)
    const result = await children.run<Result>({
      scenario: "memory",
      contender: contender.name,
      endpoints: context.endpoints,
      config: { prefix: tenant("memory", contender.name).clientId }
    }, 240_000)
    raw[contender.name] = result
    rows.push([
      contender.name,
      `${fixed(result.heapBytesPerTenant / 1024, 1)} KiB`,
      int((result.heapBytesPerTenant * config.tenants) / 1024 / 1024) + " MiB",
      fixed(result.timersPerTenant, 2),
      result.fibersPerManager === undefined ? "" : fixed(result.fibersPerManager, 2),
      int(result.failed)
    ])
  }
  const effectOauth = raw["effect-oauth"]
  return {
    effectOauth,
    section: {
      id: "memory",
      title: `Memory: ${int(config.tenants)} idle tenants, one client each`,
      reading:
        "Heap growth after a full GC divided by the tenants, each of which made one authorized call (so fetched one " +
        "token) and then sat idle. Timers are the process's active `Timeout` handles per tenant. Target for an idle " +
        `effect-oauth manager: under ${targetBytes / 1024} KiB.`,
      config,
      headers: [
        "contender",
        "heap per tenant",
        `heap for ${int(config.tenants)}`,
        "timers per tenant",
        "fibers per manager",
        "failed first calls"
      ],
      rows: [...rows, ...skippedRows(context, 6)],
      notes: [
        "What a tenant holds differs: effect-oauth a manager (with its refresh fiber) and an authorized client; the " +
        "peers their client object and token; undici-oidc-interceptor a composed dispatcher over one shared Agent; " +
        "axios an instance with its interceptor; openid-client a Configuration (it keeps no token)."
      ],
      raw
    }
  }
}
