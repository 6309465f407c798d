import type * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { TokenRequest } from "../Emulator.js"
import type { TokenCheck } from "./store.js"

/** Writes one line of the request log (a no-op unless the emulator was started with `logRequests`). */
export type RequestLog = (line: string) => Effect.Effect<void>

/** What a successful token answer issued: the token's serial number and its lifetime on the server. */
export interface Issued {
  readonly serial: number
  readonly lifetimeMillis: number
}

const seconds = (millis: number) => `${Math.round(millis / 1000)} s`

/**
 * One line for a token request. It names the client and how it authenticated, never a secret or a token: tokens are
 * named by their serial number (`token #3`), the order in which the emulator issued them.
 */
export const describeTokenRequest = (entry: TokenRequest, issued: Option.Option<Issued>): string => {
  const outcome = entry.status === undefined ? "connection reset" : String(entry.status)
  const token = Option.match(issued, {
    onNone: () => "",
    onSome: ({ lifetimeMillis, serial }) => ` token #${serial} issued, lives ${seconds(lifetimeMillis)}`
  })
  const fault = entry.fault === undefined ? "" : ` fault=${entry.fault}`
  return `${entry.method} ${entry.path} client=${entry.clientId ?? "-"} auth=${entry.authMethod} ` +
    `body=${entry.encoding}${fault} → ${outcome}${token}`
}

/** One line for a resource request: the token by serial number and client, and why it was refused if it was. */
export const describeResourceRequest = (method: string, path: string, check: TokenCheck, status: number): string => {
  const token = check._tag === "Missing"
    ? "no token"
    : check._tag === "Unknown"
    ? "unknown token"
    : `token #${check.token.serial} of ${check.token.clientId}`
  const why = check._tag === "Valid" || check._tag === "Missing" || check._tag === "Unknown"
    ? ""
    : ` (${check._tag.toLowerCase()})`
  return `${method} ${path} ${token} → ${status}${why}`
}
