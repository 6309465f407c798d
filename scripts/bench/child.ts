/**
 * The entry point of a bench child process (see children.ts): receives its task, loads the scenario's child body
 * and the contender, and reports back.
 */
import * as http from "node:http"
import { Agent, setGlobalDispatcher } from "undici"
import type { FromChild, Task, ToChild } from "./children.js"

/**
 * Every HTTP stack in a child opens at most this many connections per origin: Node's `fetch` and `undici` (one
 * global dispatcher), and `node:http`'s global agent (axios). Without a cap, 10,000 simultaneous calls open 10,000
 * sockets and the bench runs out of file descriptors. A library with an agent of its own keeps it (simple-oauth2's
 * token requests).
 */
export const connectionsPerOrigin = 128

setGlobalDispatcher(new Agent({ connections: connectionsPerOrigin }))
http.globalAgent.maxSockets = connectionsPerOrigin

/** What a scenario body gets: its task, and `ready` (say ready, then wait for the parent's start time). */
export interface Context {
  readonly task: Task
  readonly ready: () => Promise<number>
}

export type Body = (context: Context) => Promise<unknown>

const bodies: Record<string, () => Promise<Body>> = {
  stampede: async () => (await import("./scenarios/stampede.js")).child,
  expiry: async () => (await import("./scenarios/expiry.js")).child,
  outage: async () => (await import("./scenarios/outage.js")).child,
  overhead: async () => (await import("./scenarios/overhead.js")).child,
  micro: async () => (await import("./scenarios/micro.js")).child,
  fleet: async () => (await import("./scenarios/fleet.js")).child,
  memory: async () => (await import("./scenarios/memory.js")).child
}

const send = (message: FromChild, then?: () => void) => process.send!(message, undefined, {}, () => then?.())

process.once("message", async (message: ToChild) => {
  if (message.type !== "task") return
  try {
    const body = await bodies[message.task.scenario]!()
    const ready = () =>
      new Promise<number>((resolve) => {
        process.once("message", (next: ToChild) => {
          if (next.type === "go") resolve(next.startAt)
        })
        send({ type: "ready" })
      })
    const value = await body({ task: message.task, ready })
    send({ type: "result", value }, exit)
  } catch (error) {
    send({ type: "error", message: error instanceof Error ? error.stack ?? error.message : String(error) }, exit)
  }
})

// Whatever a contender left running (timers, sockets), the child's work is done once its message is out.
const exit = () => process.exit(0)
