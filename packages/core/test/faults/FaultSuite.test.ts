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
