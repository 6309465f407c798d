/**
 * What the randomized fault suite generates: a policy, a token lifetime and a schedule of steps, each a change of the
 * world (a fault on the emulator's token endpoint, a revocation, a regenerated secret, …), a batch of concurrent
 * callers and a stretch of TestClock time. Plain data, so fast-check prints and shrinks it.
 */
import * as FastCheck from "effect/FastCheck"

/** One fault of the emulator's token endpoint (see `@effect-oauth/testing` `Fault`). */
export type FaultSpec =
  | { readonly kind: "latency"; readonly millis: number }
  | { readonly kind: "status"; readonly status: 429 | 500 | 502 | 503 | 504; readonly retryAfterSeconds?: number }
  | { readonly kind: "reset" }
  | { readonly kind: "malformed" }
  | { readonly kind: "html"; readonly status: 502 | 503 }
  | { readonly kind: "missingToken" }
  | { readonly kind: "revokedOnIssue" }
  | { readonly kind: "rejected"; readonly status: 400 | 401 }

/**
 * A change of the world, made while nothing is in flight on the wire.
 *
 * - `Inject`: replaces the queued fault with `fault` for the next `times` token requests (0: until cleared).
 * - `Revoke`: the provider revokes every live token of the app.
 * - `Regenerate`: the provider regenerates the app's secret, disabling its tokens; `known`: to the secret the app
 *   holds (the app was given the new secret), else to one it does not have (a permanent `InvalidCredentials` until
 *   the recovery phase gives the server the app's secret back).
 * - `Close`: closes the manager's scope (possibly mid-fetch); the steps after it are not run.
 */
export type Action =
  | { readonly _tag: "Nothing" }
  | { readonly _tag: "Inject"; readonly fault: FaultSpec; readonly times: number }
  | { readonly _tag: "Clear" }
  | { readonly _tag: "Revoke" }
  | { readonly _tag: "Regenerate"; readonly known: boolean }
  | { readonly _tag: "OneTokenPerClient"; readonly enabled: boolean }
  | { readonly _tag: "Close" }

/** A caller: `get` on the manager or a GET through the authorized client; interrupted after some yields, or not. */
export interface Caller {
  readonly kind: "get" | "api"
  readonly interruptAfterYields?: number
}

export interface Step {
  readonly action: Action
  readonly callers: ReadonlyArray<Caller>
  readonly advanceMillis: number
}

/** The policy overrides in use, in milliseconds (the rest are `RefreshPolicy.defaults`). */
export interface PolicySpec {
  readonly jitter: number
  readonly minRefreshInterval: number
  readonly retryBase: number
  readonly retryMax: number
  readonly failureCooldown: number
  readonly maxRetryAfter: number
}

export interface Scenario {
  /** Seeds the Effect `Random` of the run (the jitter), so a run replays exactly from its fast-check seed. */
  readonly randomSeed: number
  readonly lifetimeSeconds: number
  readonly timeoutSeconds: number
  readonly oneTokenPerClient: boolean
  readonly httpClient: "fetch" | "undici"
  readonly policy: PolicySpec
  readonly steps: ReadonlyArray<Step>
}

const fc = FastCheck

// Never a whole second: a latency equal to the request timeout would race the client's timeout at the same instant.
const latency = fc.integer({ min: 5, max: 3_000 }).map((n) => n * 10 + 7)

export const faultSpec: FastCheck.Arbitrary<FaultSpec> = fc.oneof(
  { weight: 3, arbitrary: latency.map((millis) => ({ kind: "latency" as const, millis })) },
  {
    weight: 4,
    arbitrary: fc.record(
      {
        kind: fc.constant("status" as const),
        status: fc.constantFrom(429 as const, 500 as const, 502 as const, 503 as const, 504 as const),
        retryAfterSeconds: fc.integer({ min: 1, max: 90 })
      },
      { requiredKeys: ["kind", "status"] }
    )
  },
  { weight: 2, arbitrary: fc.constant({ kind: "reset" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "malformed" as const }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(502 as const, 503 as const).map((status) => ({ kind: "html" as const, status }))
  },
  { weight: 1, arbitrary: fc.constant({ kind: "missingToken" as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: "revokedOnIssue" as const }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(400 as const, 401 as const).map((status) => ({ kind: "rejected" as const, status }))
  }
)

export const action: FastCheck.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ _tag: "Nothing" as const }) },
  {
    weight: 6,
    arbitrary: fc.record({
      _tag: fc.constant("Inject" as const),
      fault: faultSpec,
      times: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4 }))
    })
  },
  { weight: 3, arbitrary: fc.constant({ _tag: "Clear" as const }) },
  { weight: 2, arbitrary: fc.constant({ _tag: "Revoke" as const }) },
  { weight: 1, arbitrary: fc.boolean().map((known) => ({ _tag: "Regenerate" as const, known })) },
  { weight: 1, arbitrary: fc.boolean().map((enabled) => ({ _tag: "OneTokenPerClient" as const, enabled })) },
  { weight: 1, arbitrary: fc.constant({ _tag: "Close" as const }) }
)

// About one caller in six is interrupted, after 0 to 12 yields of the test fiber (at any point of its call).
export const caller: FastCheck.Arbitrary<Caller> = fc.tuple(
  fc.constantFrom("get" as const, "api" as const),
  fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 12 }) })
).map(([kind, interruptAfterYields]) => interruptAfterYields === undefined ? { kind } : { kind, interruptAfterYields })

const advance = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 5_000 }) },
  { weight: 3, arbitrary: fc.integer({ min: 5_000, max: 90_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 90_000, max: 900_000 }) }
)

export const step: FastCheck.Arbitrary<Step> = fc.record({
  action,
  callers: fc.array(caller, { maxLength: 8 }),
  advanceMillis: advance
})

export const policySpec: FastCheck.Arbitrary<PolicySpec> = fc.record({
  jitter: fc.constantFrom(0, 0.1),
  minRefreshInterval: fc.constantFrom(1_000, 5_000, 10_000),
  retryBase: fc.constantFrom(100, 200, 1_000),
  retryMax: fc.constantFrom(2_000, 30_000),
  failureCooldown: fc.constantFrom(500, 3_000),
  maxRetryAfter: fc.constantFrom(2_000, 30_000, 120_000)
})

export const scenario: FastCheck.Arbitrary<Scenario> = fc.record({
  randomSeed: fc.integer(),
  lifetimeSeconds: fc.constantFrom(60, 300, 3_600),
  timeoutSeconds: fc.constantFrom(2, 10),
  oneTokenPerClient: fc.boolean(),
  httpClient: fc.constantFrom("fetch" as const, "undici" as const),
  policy: policySpec,
  steps: fc.array(step, { minLength: 1, maxLength: 14 })
})
