/**
 * Load shapes, the same for every contender: a burst of simultaneous first calls, an open-loop paced stream (each
 * request's latency counts from when it was due, so a stall is not hidden by requests that were never sent), and a
 * closed loop for throughput and CPU.
 */
import { now, sleep } from "./clock.js"

export interface Outcome {
  /** When each request was due (epoch ms). */
  readonly starts: Array<number>
  /** Its latency in ms, from when it was due until its status (and body) arrived or it failed. */
  readonly latencies: Array<number>
  readonly ok: Array<boolean>
  /** Failures by kind: `status 401`, or the error's name and message start. */
  readonly failures: Record<string, number>
}

const kind = (error: unknown): string => {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message.slice(0, 40)})` : ""
    return `${error.name}: ${error.message.slice(0, 60)}${cause}`
  }
  return String(error).slice(0, 80)
}

const recorder = () => {
  const outcome: Outcome = { starts: [], latencies: [], ok: [], failures: {} }
  const fail = (reason: string) => (outcome.failures[reason] = (outcome.failures[reason] ?? 0) + 1)
  const one = (call: () => Promise<number>, due: number): Promise<void> => {
    const index = outcome.starts.length
    outcome.starts.push(due)
    outcome.latencies.push(Number.NaN)
    outcome.ok.push(false)
    return call().then(
      (status) => {
        outcome.latencies[index] = now() - due
        outcome.ok[index] = status === 200
        if (status !== 200) fail(`status ${status}`)
      },
      (error: unknown) => {
        outcome.latencies[index] = now() - due
        fail(kind(error))
      }
    )
  }
  return { outcome, one, fail }
}

/** Waits for the requests still in flight, at most `graceMs`; those left count as failed (`no answer`). */
const settle = async (
  pending: Array<Promise<void>>,
  outcome: Outcome,
  fail: (reason: string) => void,
  graceMs: number
) => {
  await Promise.race([Promise.all(pending), sleep(graceMs)])
  outcome.latencies.forEach((latency, index) => {
    if (Number.isNaN(latency)) {
      outcome.ok[index] = false
      fail("no answer")
    }
  })
}

/** `count` calls started together; latencies from the start of the burst. */
export const burst = async (call: () => Promise<number>, count: number, graceMs: number): Promise<Outcome> => {
  const { fail, one, outcome } = recorder()
  const start = now()
  const pending: Array<Promise<void>> = []
  for (let i = 0; i < count; i++) pending.push(one(call, start))
  await settle(pending, outcome, fail, graceMs)
  return outcome
}

/** `rate` calls a second from `startAt` for `durationMs`, each sent when due whatever the others are doing. */
export const paced = async (
  call: () => Promise<number>,
  options: { readonly startAt: number; readonly durationMs: number; readonly rate: number; readonly graceMs: number }
): Promise<Outcome> => {
  const { fail, one, outcome } = recorder()
  const interval = 1000 / options.rate
  const total = Math.floor(options.durationMs / interval)
  const pending: Array<Promise<void>> = []
  for (let i = 0; i < total; i++) {
    const due = options.startAt + i * interval
    const wait = due - now()
    if (wait > 0) await sleep(wait)
    pending.push(one(call, due))
  }
  await settle(pending, outcome, fail, options.graceMs)
  return outcome
}

export interface Throughput {
  readonly requests: number
  readonly failed: number
  readonly wallMs: number
  /** User + system CPU of this process, in ms. */
  readonly cpuMs: number
}

/** `count` calls by `concurrency` workers, each sending its next call when the last one answered. */
export const closedLoop = async (call: () => Promise<number>, count: number, concurrency: number) => {
  let next = 0
  let failed = 0
  const worker = async () => {
    while (next < count) {
      next += 1
      const status = await call().catch(() => 0)
      if (status !== 200) failed += 1
    }
  }
  const cpu = process.cpuUsage()
  const start = now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const wallMs = now() - start
  const used = process.cpuUsage(cpu)
  return { requests: count, failed, wallMs, cpuMs: (used.user + used.system) / 1000 } satisfies Throughput
}
