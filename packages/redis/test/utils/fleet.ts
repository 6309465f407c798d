/**
 * Worker processes for the fleet tests: each is `node --conditions=@effect-oauth/source --import tsx worker.ts`,
 * importing the library from source, driven over stdin/stdout (see fixtures/worker.ts). Every request is bounded.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

const script = fileURLToPath(new URL("../fixtures/worker.ts", import.meta.url))

export interface Reply {
  readonly ok: number
  readonly failed: number
  readonly token?: string
  readonly reasons?: Readonly<Record<string, number>>
  readonly events: Readonly<Record<string, number>>
}

export interface Worker {
  readonly child: ChildProcess
  /** Sends a command; rejects when the worker fails it, exits, or does not answer within `timeoutMs`. */
  readonly send: (op: string, app: string, payload?: Record<string, unknown>, timeoutMs?: number) => Promise<Reply>
  readonly kill: () => Promise<void>
  /** Everything the worker wrote that was not a reply (logs), for failure messages. */
  readonly output: () => string
}

let nextId = 0

/** Starts one worker and waits until it is ready (bounded). */
export const spawnWorker = (): Promise<Worker> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--conditions=@effect-oauth/source", "--import", "tsx", script], {
      stdio: ["pipe", "pipe", "pipe"],
      cwd: fileURLToPath(new URL("../..", import.meta.url))
    })
    const pending = new Map<string, { resolve: (reply: any) => void; reject: (error: Error) => void }>()
    let output = ""
    child.stderr!.on("data", (chunk: Buffer) => {
      output += chunk.toString()
    })
    const exited = new Promise<void>((done) =>
      child.once("exit", (code, signal) => {
        for (const waiter of pending.values()) waiter.reject(new Error(`worker exited (${code ?? signal})\n${output}`))
        pending.clear()
        reject(new Error(`worker exited before it was ready (${code ?? signal})\n${output}`))
        done()
      })
    )
    const startup = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`worker not ready within 60 s\n${output}`))
    }, 60_000)
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.startsWith("@@")) {
        output += line + "\n"
        return
      }
      const message = JSON.parse(line.slice(2))
      if (message.id === "ready") {
        clearTimeout(startup)
        resolve(worker)
        return
      }
      const waiter = pending.get(message.id)
      pending.delete(message.id)
      if (message.ok) waiter?.resolve(message.result)
      else waiter?.reject(new Error(`worker failed ${message.id}: ${message.error}\n${output}`))
    })
    const worker: Worker = {
      child,
      send: (op, app, payload = {}, timeoutMs = 30_000) =>
        new Promise((ok, fail) => {
          const id = `${op}-${++nextId}`
          const timer = setTimeout(() => {
            pending.delete(id)
            fail(new Error(`worker did not answer ${id} within ${timeoutMs} ms\n${output}`))
          }, timeoutMs)
          pending.set(id, {
            resolve: (reply) => {
              clearTimeout(timer)
              ok(reply)
            },
            reject: (error) => {
              clearTimeout(timer)
              fail(error)
            }
          })
          child.stdin!.write(JSON.stringify({ id, op, app, ...payload }) + "\n")
        }),
      kill: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
        await exited
      },
      output: () => output
    }
  })

/** Sends the same command to every worker at once. */
export const all = (
  workers: ReadonlyArray<Worker>,
  op: string,
  app: string,
  payload?: Record<string, unknown>,
  timeoutMs?: number
): Promise<Array<Reply>> => Promise.all(workers.map((worker) => worker.send(op, app, payload, timeoutMs)))

/** Sums ok and failed over replies. */
export const total = (replies: ReadonlyArray<Reply>) => ({
  ok: replies.reduce((sum, reply) => sum + reply.ok, 0),
  failed: replies.reduce((sum, reply) => sum + reply.failed, 0)
})

/** The failure reasons and events of every reply, for messages. */
export const details = (replies: ReadonlyArray<Reply>) =>
  JSON.stringify(replies.map((reply) => ({ reasons: reply.reasons, events: reply.events })))
