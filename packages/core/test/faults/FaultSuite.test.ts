/**
 * The randomized fault suite (issue 12): generated schedules of faults on the emulator, under concurrent callers and
 * TestClock time, with six invariants checked after every run (see `Invariants.ts`).
 *
 * Seeded: `FAULT_SEED` sets the seed (default fixed, so CI is deterministic), `FAULT_RUNS` the number of runs. On a
 * failure fast-check prints the seed, the path and the shrunk scenario; replay it with
 * `FAULT_SEED=<seed> pnpm vitest run packages/core/test/faults` (and `path` via `FAULT_PATH=<path>`).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Invariants from "./Invariants.js"
import * as Run from "./Run.js"
import * as Scenario from "./Scenario.js"

const seed = Number(process.env["FAULT_SEED"] ?? 1_212_2024)
const numRuns = Number(process.env["FAULT_RUNS"] ?? 30)
const path = process.env["FAULT_PATH"]

// The smallest scenario: short tokens, a 2 s timeout, the tightest policy (what fast-check shrinks towards).
const base: Omit<Scenario.Scenario, "steps"> = {
  randomSeed: 0,
  lifetimeSeconds: 60,
  timeoutSeconds: 2,
  oneTokenPerClient: false,
  httpClient: "fetch",
  policy: {
    jitter: 0,
    minRefreshInterval: 1000,
    retryBase: 100,
    retryMax: 2000,
    failureCooldown: 500,
    maxRetryAfter: 2000
  }
}

describe("randomized fault suite", () => {
  it.effect.prop(
    `every invariant holds under generated fault schedules (seed ${seed}, ${numRuns} runs)`,
    [Scenario.scenario],
    ([scenario]) =>
      Effect.gen(function*() {
        const report = yield* Run.run(scenario)
        const violations = Invariants.check(report)
        if (violations !== undefined) assert.fail(violations)
      }),
    {
      timeout: 120_000,
      fastCheck: { seed, numRuns, ...(path === undefined ? {} : { path }) }
    }
  )
})

// Counterexamples fast-check shrunk while the suite was built, replayed as fixed scenarios. Each was a flaw of the
// suite's own model, not of the manager; they stay so the model keeps covering them.
const counterexamples: ReadonlyArray<readonly [string, Scenario.Scenario]> = [
  [
    // FAULT_SEED=12122024 path 15:0:0:0:0:0:0:0:0:0:1:1:1:1:1:1: the emulator's control span (regenerateSecret)
    // returns the new secret; it is the test's, not the manager's output.
    "a secret regenerated then restored: no secret in the manager's logs, spans or events",
    {
      ...base,
      steps: [
        { action: { _tag: "Regenerate", known: false }, callers: [], advanceMillis: 5000 },
        { action: { _tag: "OneTokenPerClient", enabled: false }, callers: [], advanceMillis: 1 }
      ]
    }
  ],
  [
    // FAULT_SEED=1 path 98:0:0:0:0:0:6:3:4:3:4:5:4:5:5:5:5:2:3:3:3: a streak of one failure spans no time.
    "a request timing out (latency over the timeout), then a get: one failure, within budget",
    {
      ...base,
      steps: [
        {
          action: { _tag: "Inject", fault: { kind: "latency", millis: 2007 }, times: 1 },
          callers: [],
          advanceMillis: 5000
        },
        { action: { _tag: "Nothing" }, callers: [{ kind: "get" }], advanceMillis: 5000 }
      ]
    }
  ],
  [
    // FAULT_SEED=3 path 91:0:1:1:1:1:1:1:5:6:4:5:4:3:5:4:3:3:3:4:4:6:6:6:2:2:0:3:2:3: the server checks the
    // credentials after the latency, so a secret restored while the request waits counts.
    "the secret restored while a token request is held by latency: the request brings a token",
    {
      ...base,
      steps: [
        { action: { _tag: "Inject", fault: { kind: "latency", millis: 57 }, times: 0 }, callers: [], advanceMillis: 1 },
        { action: { _tag: "Regenerate", known: false }, callers: [], advanceMillis: 5000 },
        { action: { _tag: "Revoke" }, callers: [{ kind: "get" }], advanceMillis: 0 }
      ]
    }
  ]
]

describe("fault suite: shrunk counterexamples", () => {
  for (const [name, scenario] of counterexamples) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const violations = Invariants.check(yield* Run.run(scenario))
        if (violations !== undefined) assert.fail(violations)
      }), 30_000)
  }
})
