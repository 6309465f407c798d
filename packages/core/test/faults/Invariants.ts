/**
 * The invariants checked after every run of the fault suite. Each returns the violations it found, as messages that
 * never contain a secret or a token.
 */
import { Recorder } from "@effect-oauth/testing"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Util from "node:util"
import type { Report } from "./Run.js"
import { CLIENT_ID, SECRET } from "./Run.js"
import * as W from "./World.js"

const tokenErrorTags: ReadonlySet<string> = new Set([
  "InvalidCredentials",
  "TokenEndpointUnavailable",
  "TokenRequestRejected",
  "TokenResponseInvalid"
])

const closedMessage = "after its scope closed"

const failureOf = (exit: Exit.Exit<void, unknown>): Option.Option<unknown> =>
  Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()

const tagOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : typeof error

/**
 * 1. No call fails while a usable token exists or can be fetched: a `get` started while the manager held a token
 *    usable under the policy, or an API call started while it held one the server accepted, succeeds; and any other
 *    failure is the error of a token request that failed within the caller's wait or its memory (the cooldown or
 *    `Retry-After` before the call), or, for `AccessTokenRejected`, follows a token the server refused while the
 *    call ran (issued revoked, revoked, secret regenerated).
 */
export const callsSucceedWhenTheyCan = ({ world }: Report): Array<string> => {
  const violations: Array<string> = []
  for (const caller of world.callers) {
    if (caller.exit === undefined || caller.pendingAtClose || caller.interruptRequested) continue
    const error = failureOf(caller.exit)
    if (Option.isNone(error)) continue
    const tag = tagOf(error.value)
    const end = caller.end ?? Infinity
    if (caller.kind === "get" && caller.usableAtStart) {
      violations.push(`caller ${caller.id} (get at ${caller.start}) failed with ${tag} while a usable token was held`)
    } else if (caller.kind === "api" && caller.validAtStart) {
      violations.push(`caller ${caller.id} (api at ${caller.start}) failed with ${tag} while a valid token was held`)
    } else if (tag === "AccessTokenRejected") {
      if (!world.poisons.some((poison) => poison.at >= caller.start && poison.at <= end)) {
        violations.push(`caller ${caller.id} [${caller.start}..${end}] got AccessTokenRejected with no token refused`)
      }
    } else if (tokenErrorTags.has(tag)) {
      const cause = world.requests.find((request) =>
        request.outcome._tag === "Failure" && request.outcome.error === tag && request.end! <= end &&
        request.end! + W.memoryMillis(world, request) >= caller.start
      )
      if (cause === undefined) {
        violations.push(
          `caller ${caller.id} [${caller.start}..${end}] failed with ${tag}, which no token request ` +
            `failed with in its wait or memory`
        )
      }
    }
  }
  return violations
}

/**
 * 2. Token requests stay within one per refresh point plus the backoff schedule. From the policy (`minRefreshInterval`
 *    m, `retryBase` b, `retryMax` x, `failureCooldown` c, `jitter` j, `maxRetryAfter` r), requests never overlap and:
 *    - after a request that brought a token, the next starts at least m after it, unless the server refused that
 *      token meanwhile (a revocation, a regenerated secret, a token issued revoked); such quick replacements are
 *      themselves at least m apart;
 *    - after a failed request, the next starts at least min(b / 2, c (1 − j)) after it ended, and at least its
 *      `Retry-After` (capped at r) when it had one;
 *    - a streak of n consecutive failures spanning S ms has n ≤ 2 + ⌊S / (c (1 − j))⌋ + k(S), where k(S) is the
 *      number of backoff delays min(b·2^(i−1), x) / 2 that fit in S (the refresh fiber's retries of one token; callers
 *      fetch at most once per cooldown).
 */
export const requestsWithinBudget = ({ world }: Report): Array<string> => {
  const violations: Array<string> = []
  const policy = world.policy
  const m = Duration.toMillis(policy.minRefreshInterval)
  const b = Duration.toMillis(policy.retryBase)
  const x = Duration.toMillis(policy.retryMax)
  const c = Duration.toMillis(policy.failureCooldown) * (1 - policy.jitter)
  const r = Duration.toMillis(policy.maxRetryAfter)
  const retriesWithin = (span: number) => {
    let k = 0
    for (let total = 0;; k++) {
      total += Math.min(b * 2 ** k, x) / 2
      if (total > span) return k
    }
  }
  const requests = world.requests.filter((request) => request.outcome._tag !== "Interrupted")
  let lastQuick = -Infinity
  for (let i = 1; i < requests.length; i++) {
    const previous = requests[i - 1]!
    const request = requests[i]!
    const gap = request.start - previous.start
    if (previous.end === undefined || request.start < previous.end) {
      violations.push(`token requests overlap: ${W.describeRequest(previous)} and ${W.describeRequest(request)}`)
      continue
    }
    if (previous.outcome._tag === "Token") {
      if (gap >= m) continue
      const refused = world.poisons.some((poison) => poison.at >= previous.start && poison.at <= request.start)
      if (!refused || request.start - lastQuick < m) {
        violations.push(
          `request #${request.index} came ${gap} ms after a successful one (minRefreshInterval ${m} ms)` +
            (refused ? `, less than ${m} ms after the last quick replacement` : " with no token refused meanwhile")
        )
      }
      lastQuick = request.start
    } else if (previous.outcome._tag === "Failure") {
      const retryAfter = previous.outcome.retryAfter === undefined ? 0 : Math.min(previous.outcome.retryAfter, r)
      const floor = Math.max(Math.min(b / 2, c), retryAfter) - 1
      if (request.start - previous.end < floor) {
        violations.push(
          `request #${request.index} came ${request.start - previous.end} ms after failed request ` +
            `#${previous.index} ended (at least ${floor} ms: backoff ${
              b / 2
            }, cooldown ${c}, Retry-After ${retryAfter})`
        )
      }
    }
  }
  for (let first = 0; first < requests.length;) {
    if (requests[first]!.outcome._tag !== "Failure") {
      first++
      continue
    }
    let last = first
    while (last + 1 < requests.length && requests[last + 1]!.outcome._tag === "Failure") last++
    const span = last === first ? 0 : requests[last]!.start - requests[first]!.end!
    const bound = 2 + Math.floor(span / c) + retriesWithin(span)
    if (last - first + 1 > bound) {
      violations.push(
        `${last - first + 1} consecutive failed requests (#${first}..#${last}) in ${span} ms; ` +
          `the backoff schedule allows ${bound}`
      )
    }
    first = last + 1
  }
  return violations
}

/**
 * 3. Every failure a caller sees is one of the typed errors, with the tag its fault implies: each token request ends
 *    as the injected fault says (a token, or the error tag of the fault), and each caller fails only with a
 *    `TokenError` (`get`) or a `TokenError` or `AccessTokenRejected` (API calls) — never a defect, an interruption it
 *    did not ask for, or another error. After the scope closed, a waiting caller may die saying so (documented).
 */
export const failuresAreTyped = ({ world }: Report): Array<string> => {
  const violations: Array<string> = []
  for (const request of world.requests) {
    const outcome = request.outcome
    const got = outcome._tag === "Failure" ? outcome.error : outcome._tag === "Token" ? "token" : outcome._tag
    const expected = request.expected === "revokedToken" ? "token" : request.expected
    const closing = world.closedAt !== undefined && request.end !== undefined && request.end >= world.closedAt
    if (got !== expected && !(outcome._tag === "Interrupted" && closing)) {
      violations.push(`token request ${W.describeRequest(request)}`)
    }
  }
  for (const caller of world.callers) {
    const exit = caller.exit
    if (exit === undefined || Exit.isSuccess(exit)) continue
    if (caller.pendingAtClose && Cause.isDie(exit.cause) && Cause.pretty(exit.cause).includes(closedMessage)) continue
    if (Cause.isInterruptedOnly(exit.cause)) {
      if (!caller.interruptRequested) violations.push(`caller ${caller.id} was interrupted, not by the test`)
      continue
    }
    const error = Cause.failureOption(exit.cause)
    const allowed = (tag: string) => tokenErrorTags.has(tag) || (caller.kind === "api" && tag === "AccessTokenRejected")
    if (Option.isNone(error) || Cause.isDie(exit.cause)) {
      violations.push(
        `caller ${caller.id} (${caller.kind}) ended with a defect: ${firstLine(Cause.pretty(exit.cause))}`
      )
    } else if (!allowed(tagOf(error.value))) {
      violations.push(`caller ${caller.id} (${caller.kind}) failed with ${tagOf(error.value)}`)
    }
  }
  return violations
}

const firstLine = (text: string) => text.split("\n", 1)[0]!.slice(0, 200)

/**
 * 4. No fiber is left once the scope closes: every fiber forked under the run's supervisor (the manager's refresh
 *    fiber and fetches, the callers) has ended, no caller is still waiting, and a `get` on the closed manager fails
 *    at once.
 */
export const nothingLeftRunning = (report: Report): Array<string> => {
  const violations: Array<string> = []
  if (report.fibersLeft.length > 0) violations.push(`fibers left after close: ${report.fibersLeft.join(", ")}`)
  for (const caller of report.world.callers) {
    if (caller.exit === undefined) violations.push(`caller ${caller.id} still running after close`)
  }
  const after = report.afterClose
  if (Option.isNone(after)) violations.push("a get on the closed manager did not end")
  else if (!(Exit.isFailure(after.value) && Cause.pretty(after.value.cause).includes(closedMessage))) {
    violations.push(`a get on the closed manager did not fail saying it is closed: ${String(after.value)}`)
  }
  return violations
}

/**
 * 5. Nothing secret appears in any output: log lines (logfmt and JSON), spans, events, and every rendering of every
 *    caller's failure (`String`, `JSON.stringify`, `util.inspect`, `Cause.pretty`) hold neither the client secret (in
 *    any encoding the client sent) nor any token the manager received.
 */
export const nothingSecretShows = ({ recorder, world }: Report): Array<string> => {
  const sensitive = [
    SECRET,
    encodeURIComponent(SECRET),
    JSON.stringify(SECRET).slice(1, -1),
    Buffer.from(`${CLIENT_ID}:${SECRET}`).toString("base64"),
    Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(SECRET)}`).toString("base64"),
    ...world.requests.flatMap((request) =>
      request.outcome._tag === "Token" ? [Redacted.value(request.outcome.token.value)] : []
    )
  ]
  const everything = { depth: Infinity }
  const renderings: Array<readonly [string, string]> = [
    // The emulator's control calls (the test regenerating the secret) and server spans are the provider's side.
    ...Recorder.renderings(recorder, { spans: (span) => span.kind !== "server" && !span.name.startsWith("Emulator.") })
      .map((text, i) => [`log or span #${i}`, text] as const),
    ["events (JSON)", JSON.stringify(world.events)],
    ["events (inspect)", Util.inspect(world.events, everything)],
    ...world.callers.flatMap((caller) => {
      const exit = caller.exit
      if (exit === undefined || Exit.isSuccess(exit)) return []
      const error = Option.getOrUndefined(Cause.failureOption(exit.cause))
      return [
        [`caller ${caller.id} cause`, Cause.pretty(exit.cause)],
        [`caller ${caller.id} exit`, String(exit)],
        [`caller ${caller.id} error`, String(error)],
        [`caller ${caller.id} error (JSON)`, JSON.stringify(error) ?? ""],
        [`caller ${caller.id} error (inspect)`, Util.inspect(error, everything)]
      ] as const
    })
  ]
  const violations: Array<string> = []
  for (const [where, text] of renderings) {
    const found = sensitive.findIndex((value) => text.includes(value))
    // Says which, never what.
    if (found >= 0) violations.push(`${where} shows ${found < 5 ? "the client secret" : "an access token"}`)
  }
  return violations
}

/**
 * 6. The manager recovers when the faults stop: once faults are cleared (and the server holds the app's secret
 *    again), after the longest failure memory, a `get` and an API call succeed, a second API call too, with at most
 *    the stated number of token requests (see `Run.recover`).
 */
export const recoversWhenFaultsStop = ({ recovery }: Report): Array<string> => {
  if (!recovery.ran) return []
  const violations: Array<string> = []
  for (const [i, exit] of recovery.exits.entries()) {
    if (Exit.isFailure(exit)) violations.push(`recovery call ${i} failed: ${firstLine(Cause.pretty(exit.cause))}`)
  }
  if (recovery.requests > recovery.bound) {
    violations.push(`recovery took ${recovery.requests} token requests; bound ${recovery.bound}: ${recovery.boundText}`)
  }
  return violations
}

export const all = {
  "1. calls succeed while a token is usable or can be fetched": callsSucceedWhenTheyCan,
  "2. token requests within the refresh and backoff budget": requestsWithinBudget,
  "3. failures are typed, with the fault's tag": failuresAreTyped,
  "4. nothing left running after close": nothingLeftRunning,
  "5. nothing secret in any output": nothingSecretShows,
  "6. recovers when the faults stop": recoversWhenFaultsStop
} as const

/** Every violation of every invariant, with a timeline of the run's token requests; empty when all hold. */
export const check = (report: Report): string | undefined => {
  const found = Object.entries(all).flatMap(([name, invariant]) =>
    invariant(report).slice(0, 5).map((violation) => `${name}: ${violation}`)
  )
  if (found.length === 0) return undefined
  const timeline = report.world.requests.map(W.describeRequest).slice(0, 40)
  return [...found, "token requests:", ...timeline].join("\n")
}
