/**
 * Child processes of the bench: each runs one scenario body for one contender in a fresh Node (tsx, the library
 * from source, `--expose-gc` for the memory scenario), so no contender shares a heap or an event loop with another
 * or with the servers. Protocol over the IPC channel: the parent sends the task; the child prepares (builds its
 * clients, fetches its first token) and says `ready`; the parent answers `go` with a common start time; the child
 * sends its `result`. Every child is killed at its deadline.
 */
import { fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import type { Endpoints } from "./contenders/contender.js"

export interface Task {
  readonly scenario: string
  readonly contender: string
  readonly endpoints: Endpoints
  readonly config: unknown
}

export type ToChild =
  | { readonly type: "task"; readonly task: Task }
  | { readonly type: "go"; readonly startAt: number }

export type FromChild =
  | { readonly type: "ready" }
  | { readonly type: "result"; readonly value: unknown }
  | { readonly type: "error"; readonly message: string }

export interface Running<R> {
  readonly ready: Promise<void>
  readonly go: (startAt: number) => void
  readonly result: Promise<R>
}

const entry = fileURLToPath(new URL("./child.ts", import.meta.url))
const cwd = fileURLToPath(new URL(".", import.meta.url))

export const spawn = <R>(task: Task, deadlineMs: number): Running<R> => {
  const child = fork(entry, [], {
    cwd,
    execArgv: ["--conditions=@effect-oauth/source", "--import", "tsx", "--expose-gc"],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    serialization: "advanced"
  })
  let output = ""
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()))
  const label = `${task.scenario} / ${task.contender}`
  let markReady: () => void = () => {}
  let fail: (error: Error) => void = () => {}
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve
    fail = reject
  })
  const result = new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`${label}: no result within ${deadlineMs} ms\n${output}`))
    }, deadlineMs)
    const settle = () => clearTimeout(timer)
    child.on("message", (message: FromChild) => {
      if (message.type === "ready") markReady()
      else if (message.type === "result") {
        settle()
        resolve(message.value as R)
        child.disconnect()
      } else {
        settle()
        reject(new Error(`${label}: ${message.message}\n${output}`))
      }
    })
    child.once("exit", (code, signal) => {
      settle()
      reject(new Error(`${label}: exited (${code ?? signal}) before its result\n${output}`))
    })
  })
  result.catch((error: Error) => fail(error))
  // A `ready` that never comes still settles: the result's rejection rejects it too.
  ready.catch(() => {})
  child.send({ type: "task", task } satisfies ToChild)
  return {
    ready,
    go: (startAt) => {
      if (child.connected) child.send({ type: "go", startAt } satisfies ToChild)
    },
    result
  }
}

/** Runs one child to completion: `go` as soon as it is ready. */
export const run = async <R>(task: Task, deadlineMs: number): Promise<R> => {
  const running = spawn<R>(task, deadlineMs)
  await running.ready
  running.go(0)
  return running.result
}
