import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type { TokenRequestInput } from "./request.js"
import type { Store, TokenCheck } from "./store.js"

/** What every flavor is built from. */
export interface FlavorContext {
  readonly store: Store
  readonly baseUrl: string
  readonly defaultLifetime: Duration.Duration
  readonly invalidCredentialsStatus: 400 | 401
}

/** A token request either earns a token (the body faults may still alter) or an error response. */
export type TokenOutcome =
  | { readonly _tag: "Issued"; readonly body: Readonly<Record<string, unknown>> }
  | { readonly _tag: "Rejected"; readonly response: HttpServerResponse.HttpServerResponse }

/** One provider's wire format: routes, token endpoint rules and error bodies. */
export interface Flavor {
  readonly tokenPath: `/${string}`
  readonly resourceRoute: `/${string}` | "*"
  readonly token: (input: TokenRequestInput, skewMillis: number) => Effect.Effect<TokenOutcome>
  readonly resource: (check: TokenCheck, method: string, path: string) => HttpServerResponse.HttpServerResponse
  /** The flavor's error body for an injected status (and its `Retry-After`, if any). */
  readonly failure: (
    status: number,
    headers: Readonly<Record<string, string>>
  ) => HttpServerResponse.HttpServerResponse
  readonly methodNotAllowed: HttpServerResponse.HttpServerResponse
}

/** A token request refused with `response`. */
export const rejected = (response: HttpServerResponse.HttpServerResponse): TokenOutcome => ({
  _tag: "Rejected",
  response
})

/** A token request granted, answered with `body` unless a fault alters it. */
export const issued = (body: Readonly<Record<string, unknown>>): TokenOutcome => ({ _tag: "Issued", body })

/** `expires_in` is whole seconds. */
export const lifetimeSeconds = (millis: number): number => Math.floor(millis / 1000)
