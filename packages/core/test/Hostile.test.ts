import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import * as Wakeups from "../src/internal/wakeups.js"

describe("wakeups (hostile)", () => {
  it.effect("an earlier wake-up scheduled right after the timer fiber was forked still fires on time (any yield point)", () =>
    Effect.gen(function*() {
      const late: Array<number> = []
      for (let ops = 16; ops < 80; ops++) {
        const fired: Array<string> = []
        const now = yield* TestClock.currentTimeMillis
        const far = yield* Effect.withMaxOpsBeforeYield(Wakeups.schedule(now + 1000, () => fired.push("far")), ops)
        yield* Effect.yieldNow()
        yield* Effect.yieldNow()
        const near = yield* Wakeups.schedule(now + 100, () => fired.push("near"))
        yield* TestClock.adjust(100)
        if (!fired.includes("near")) late.push(ops)
        yield* TestClock.adjust(900)
        assert.deepStrictEqual(fired, ["near", "far"])
        yield* Wakeups.cancel(near)
        yield* Wakeups.cancel(far)
      }
      assert.deepStrictEqual(late, [], "near fired late with maxOpsBeforeYield in")
    }))
})
