/**
 * What every scenario's parent side gets (the servers, the endpoints, the contenders that can run here) and what it
 * gives back: one section of the report, with its configuration, its table and its raw per-round numbers.
 */
import * as children from "../children.js"
import type { Definition, Endpoints, Tenant } from "../contenders/contender.js"
import { clientSecret, type Servers } from "../servers.js"

export interface Context {
  readonly servers: Servers
  readonly endpoints: Endpoints
  /** In table order; a contender that cannot run here (no `redis-server`) is absent and listed in `skipped`. */
  readonly contenders: ReadonlyArray<Definition>
  readonly skipped: ReadonlyArray<{ readonly name: string; readonly reason: string }>
  readonly log: (line: string) => void
}

export interface Section {
  readonly id: string
  readonly title: string
  /** How to read the table, in a sentence or two. */
  readonly reading: string
  readonly config: unknown
  readonly headers: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<string>>
  readonly notes: ReadonlyArray<string>
  readonly raw: unknown
}

const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "")

/** A client id of its own for each scenario, contender and round, so the token server counts them apart. */
export const tenant = (scenario: string, contender: string, suffix: string | number = ""): Tenant => ({
  clientId: `${scenario}-${slug(contender)}${suffix === "" ? "" : `-${suffix}`}`,
  clientSecret
})

/** The rows of contenders that could not run, so every table lists every contender. */
export const skippedRows = (context: Context, columns: number): ReadonlyArray<ReadonlyArray<string>> =>
  context.skipped.map((skipped) => [skipped.name, `skipped: ${skipped.reason}`, ...Array(columns - 2).fill("")])

/**
 * One child process of `scenario` per contender, each on a client id of its own whose tokens live `lifetimeSeconds`,
 * given `deadlineMs` to finish.
 */
export const spawnPerContender = <R>(
  context: Context,
  scenario: string,
  lifetimeSeconds: number,
  deadlineMs: number
): ReadonlyArray<{ readonly contender: Definition; readonly clientId: string; readonly child: children.Running<R> }> =>
  context.contenders.map((contender) => {
    const { clientId } = tenant(scenario, contender.name)
    context.servers.setLifetime(clientId, lifetimeSeconds)
    const task = { scenario, contender: contender.name, endpoints: context.endpoints, config: { clientId } }
    return { contender, clientId, child: children.spawn<R>(task, deadlineMs) }
  })
