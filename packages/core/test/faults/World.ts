/**
 * The model the fault suite keeps of one run: every token request as the manager's endpoint saw it (with the fault
 * the emulator applied and the outcome that fault must produce), every caller, every event, and what the provider
 * did to the tokens. Mutated only by the run's own fibers; read by the invariants.
 */
import * as Duration from "effect/Duration"
import type * as Exit from "effect/Exit"
import type { AccessToken } from "../../src/AccessToken.js"
import * as RefreshPolicy from "../../src/RefreshPolicy.js"
import type * as TokenManager from "../../src/TokenManager.js"
import type { FaultSpec, Scenario } from "./Scenario.js"

export type TokenErrorTag =
  | "InvalidCredentials"
  | "TokenEndpointUnavailable"
  | "TokenRequestRejected"
  | "TokenResponseInvalid"

/** What a token request must end with, given its fault: a token, a token already revoked, or an error tag. */
export type Expected = "token" | "revokedToken" | TokenErrorTag

export type Outcome =
  | { readonly _tag: "Pending" }
  | { readonly _tag: "Token"; readonly token: AccessToken }
  | { readonly _tag: "Failure"; readonly error: string; readonly retryAfter: number | undefined }
  | { readonly _tag: "Interrupted" }
  | { readonly _tag: "Defect" }

/** One token request, as the endpoint wrapper saw it; times are TestClock milliseconds. */
export interface Request {
  readonly index: number
  readonly start: number
  end: number | undefined
  readonly fault: FaultSpec | undefined
  expected: Expected
  outcome: Outcome
  /** The server no longer accepts its token (revoked, disabled by a new secret, replaced in one-token mode). */
  serverInvalid: boolean
}

export interface CallerRecord {
  readonly id: string
  readonly kind: "get" | "api"
  readonly start: number
  /** The manager held a token usable under the policy when the call started. */
  readonly usableAtStart: boolean
  /** … and the server accepted that token. */
  readonly validAtStart: boolean
  interruptRequested: boolean
  pendingAtClose: boolean
  end: number | undefined
  exit: Exit.Exit<void, unknown> | undefined
}

/** Something that can make the server refuse the manager's current token, at a TestClock time. */
export interface Poison {
  readonly at: number
  readonly what: string
}

export interface World {
  readonly scenario: Scenario
  readonly policy: RefreshPolicy.RefreshPolicy
  readonly timeoutMillis: number
  readonly requests: Array<Request>
  readonly callers: Array<CallerRecord>
  readonly events: Array<TokenManager.TokenEvent>
  readonly poisons: Array<Poison>
  /** The fault queued on the emulator, mirrored: the emulator takes one per token request, in order. */
  queued: { readonly fault: FaultSpec; remaining: number } | undefined
  /** The server's secret is not the one the app holds. */
  mismatch: boolean
  oneTokenPerClient: boolean
  /** The request whose token the manager holds now, from the events (`Fetched`, `Refreshed`, `Invalidated`). */
  current: Request | undefined
  tokenInflight: number
  apiInflight: number
  closedAt: number | undefined
  /** When the recovery phase started (faults cleared), if it did. */
  recoveryAt: number | undefined
}

export const makeWorld = (scenario: Scenario): World => {
  const policy = RefreshPolicy.make(scenario.policy)
  if (policy._tag === "Left") throw new Error(`invalid generated policy: ${policy.left.message}`)
  return {
    scenario,
    policy: policy.right,
    timeoutMillis: scenario.timeoutSeconds * 1000,
    requests: [],
    callers: [],
    events: [],
    poisons: [],
    queued: undefined,
    mismatch: false,
    oneTokenPerClient: scenario.oneTokenPerClient,
    current: undefined,
    tokenInflight: 0,
    apiInflight: 0,
    closedAt: undefined,
    recoveryAt: undefined
  }
}

// Faults that replace the answer apply before the server looks at the credentials; the others after.
export const expectedOutcome = (fault: FaultSpec | undefined, mismatch: boolean, timeoutMillis: number): Expected => {
  const issued = (onToken: Expected): Expected => mismatch ? "InvalidCredentials" : onToken
  if (fault === undefined) return issued("token")
  switch (fault.kind) {
    case "latency":
      return fault.millis > timeoutMillis ? "TokenEndpointUnavailable" : issued("token")
    case "status":
    case "reset":
    case "html":
      return "TokenEndpointUnavailable"
    case "malformed":
      return "TokenResponseInvalid"
    case "rejected":
      return fault.status === 401 ? "InvalidCredentials" : "TokenRequestRejected"
    case "missingToken":
      return issued("TokenResponseInvalid")
    case "revokedOnIssue":
      return issued("revokedToken")
  }
}

/** Whether the server issues a token for this request that the manager never receives (in one-token mode, that
 * revokes the manager's own). */
const issuesUnseenToken = (fault: FaultSpec | undefined, mismatch: boolean, timeoutMillis: number): boolean =>
  !mismatch && (fault?.kind === "missingToken" || (fault?.kind === "latency" && fault.millis > timeoutMillis))

export const startRequest = (world: World, now: number): Request => {
  const fault = world.queued?.fault
  if (world.queued !== undefined && --world.queued.remaining <= 0) world.queued = undefined
  const request: Request = {
    index: world.requests.length,
    start: now,
    end: undefined,
    fault,
    expected: expectedOutcome(fault, world.mismatch, world.timeoutMillis),
    outcome: { _tag: "Pending" },
    serverInvalid: false
  }
  if (world.oneTokenPerClient && issuesUnseenToken(fault, world.mismatch, world.timeoutMillis)) {
    invalidateAll(world, now, `an unseen token issued in one-token-per-client mode (request #${request.index})`)
  }
  world.requests.push(request)
  world.tokenInflight++
  return request
}

export const endRequest = (world: World, request: Request, now: number, outcome: Outcome) => {
  world.tokenInflight--
  request.end = now
  // A latency holds the request before the server looks at the credentials: a secret changed meanwhile counts.
  if (request.fault?.kind === "latency") {
    request.expected = expectedOutcome(request.fault, world.mismatch, world.timeoutMillis)
  }
  if (outcome._tag === "Token") {
    // In one-token-per-client mode the server revoked every earlier token when it issued this one.
    if (world.oneTokenPerClient) {
      for (const earlier of world.requests) if (earlier !== request) earlier.serverInvalid = true
    }
    if (request.expected === "revokedToken") {
      request.serverInvalid = true
      world.poisons.push({ at: now, what: `a token issued revoked (request #${request.index})` })
    }
  }
  request.outcome = outcome
}

/** The provider revoked or disabled every token issued so far. */
export const invalidateAll = (world: World, now: number, what: string) => {
  for (const request of world.requests) request.serverInvalid = true
  world.poisons.push({ at: now, what })
}

export const onEvent = (world: World, event: TokenManager.TokenEvent) => {
  world.events.push(event)
  if (event._tag === "Fetched" || event._tag === "Refreshed") {
    for (let i = world.requests.length - 1; i >= 0; i--) {
      const outcome = world.requests[i]!.outcome
      if (
        outcome._tag === "Token" && outcome.token.issuedAt === event.issuedAt &&
        outcome.token.expiresAt === event.expiresAt
      ) {
        world.current = world.requests[i]
        return
      }
    }
    world.current = undefined
  } else if (event._tag === "Invalidated") {
    world.current = undefined
  }
}

export const usable = (world: World, now: number): Request | undefined => {
  const current = world.current
  return current?.outcome._tag === "Token" && now < RefreshPolicy.usableUntil(world.policy, current.outcome.token)
    ? current
    : undefined
}

/** How long a failed request is remembered at most: the cooldown with its jitter, or the capped `Retry-After`. */
export const memoryMillis = (world: World, request: Request): number => {
  const cooldown = Duration.toMillis(world.policy.failureCooldown) * (1 + world.policy.jitter)
  const retryAfter = request.outcome._tag === "Failure" && request.outcome.retryAfter !== undefined
    ? Math.min(request.outcome.retryAfter, Duration.toMillis(world.policy.maxRetryAfter))
    : 0
  return Math.ceil(Math.max(cooldown, retryAfter)) + 1
}

/** A one-line description of a request for a failure message: never a token. */
export const describeRequest = (request: Request): string => {
  const fault = request.fault === undefined ? "no fault" : JSON.stringify(request.fault)
  const outcome = request.outcome._tag === "Failure"
    ? `${request.outcome.error}${
      request.outcome.retryAfter === undefined ? "" : ` retryAfter=${request.outcome.retryAfter}`
    }`
    : request.outcome._tag
  return `#${request.index} [${request.start}..${
    request.end ?? "?"
  }] ${fault}: expected ${request.expected}, got ${outcome}`
}
