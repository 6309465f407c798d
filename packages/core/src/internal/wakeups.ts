import type * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import { globalValue } from "effect/GlobalValue"
import * as Runtime from "effect/Runtime"

/**
 * One pending wake-up: `fire` runs at `at` (epoch milliseconds on the clock it was scheduled with), unless cancelled.
 *
 * @internal
 */
export interface Wakeup {
  readonly at: number
  readonly fire: () => void
  readonly timers: Timers
  index: number
}

// Every manager's next refresh point, on one sleeping fiber per `Clock` (a `TestClock` gets its own): an idle manager
// holds a heap entry (tens of bytes), not a parked fiber (kilobytes). The fiber exists only while an entry is
// pending, so a process whose managers have nothing to refresh has no timer keeping it alive.
class Timers {
  readonly heap: Array<Wakeup> = []
  fiber: Fiber.RuntimeFiber<void> | undefined = undefined
  // When the fiber sleeps, until when; `Infinity` while it runs (it reads the heap again before sleeping).
  sleepingUntil = Infinity
  constructor(readonly clock: Clock.Clock) {}
}

const timersByClock = globalValue(
  Symbol.for("@effect-oauth/core/internal/wakeups"),
  () => new WeakMap<Clock.Clock, Timers>()
)

/**
 * Calls `fire` at `at` on the current `Clock`. `fire` runs on the shared timer fiber: it must not throw nor block
 * (start a fiber of your own for real work).
 *
 * @internal
 */
export const schedule = (at: number, fire: () => void): Effect.Effect<Wakeup> =>
  Effect.clockWith((clock) =>
    // One synchronous step from reading the state to recording the new fiber: were the fiber forked with
    // `Effect.fork` and recorded in a continuation, the caller could yield in between (every
    // `maxOpsBeforeYield` operations), the new fiber would go to sleep first, and the record would then say
    // "running" over a sleeping fiber, so that an earlier wake-up scheduled next would wait for the later one.
    Effect.withFiberRuntime<Wakeup>((parent, status) => {
      let timers = timersByClock.get(clock)
      if (timers === undefined) {
        timers = new Timers(clock)
        timersByClock.set(clock, timers)
      }
      const wakeup: Wakeup = { at, fire, timers, index: -1 }
      push(timers.heap, wakeup)
      // A running fiber reads the heap before it sleeps; one sleeping until no later than `at` wakes in time.
      if (timers.fiber !== undefined && (timers.sleepingUntil === Infinity || at >= timers.sleepingUntil)) {
        return Effect.succeed(wakeup)
      }
      // Sleeping past the new entry, or none: a fiber sleeping until the earliest entry. Interruptible whatever the
      // caller's region, so that cancelling can stop it; started after this step (not immediately), so that it is
      // recorded before it runs.
      timers.fiber?.unsafeInterruptAsFork(FiberId.none)
      const runtime = Runtime.make({
        context: parent.currentContext,
        runtimeFlags: status.runtimeFlags,
        fiberRefs: parent.getFiberRefs()
      })
      timers.fiber = Runtime.runFork(runtime, Effect.interruptible(loop(timers)), { immediate: false })
      timers.sleepingUntil = Infinity
      return Effect.succeed(wakeup)
    })
  )

/**
 * Removes a wake-up that has not fired (a no-op once it has); when nothing is left, the timer fiber stops, and the
 * effect returns once it has.
 *
 * @internal
 */
export const cancel = (wakeup: Wakeup): Effect.Effect<void> =>
  Effect.suspend(() => {
    const { timers } = wakeup
    if (wakeup.index < 0) return Effect.void
    remove(timers.heap, wakeup.index)
    const fiber = timers.fiber
    if (timers.heap.length > 0 || fiber === undefined) return Effect.void
    timers.fiber = undefined
    timers.sleepingUntil = Infinity
    return Fiber.interrupt(fiber)
  })

const loop = (timers: Timers): Effect.Effect<void> =>
  Effect.withFiberRuntime((self) => {
    // Replaced (a sooner wake-up came) or stopped (nothing left): whatever it was about to do is another's job.
    if (timers.fiber !== self) return Effect.void
    const { clock, heap } = timers
    timers.sleepingUntil = Infinity
    for (;;) {
      const next = heap[0]
      if (next === undefined) {
        timers.fiber = undefined
        return Effect.void
      }
      const now = clock.unsafeCurrentTimeMillis()
      if (next.at > now) {
        timers.sleepingUntil = next.at
        return Effect.zipRight(clock.sleep(Duration.millis(next.at - now)), loop(timers))
      }
      remove(heap, 0)
      next.fire()
    }
  })

// A binary min-heap on `at`; each entry knows its index, so cancelling is O(log n).
const swap = (heap: Array<Wakeup>, i: number, j: number) => {
  const a = heap[i]!
  const b = heap[j]!
  heap[i] = b
  heap[j] = a
  b.index = i
  a.index = j
}

const up = (heap: Array<Wakeup>, i: number) => {
  while (i > 0) {
    const parent = (i - 1) >> 1
    if (heap[parent]!.at <= heap[i]!.at) return
    swap(heap, i, parent)
    i = parent
  }
}

const down = (heap: Array<Wakeup>, i: number) => {
  for (;;) {
    const left = 2 * i + 1
    const right = left + 1
    let least = i
    if (left < heap.length && heap[left]!.at < heap[least]!.at) least = left
    if (right < heap.length && heap[right]!.at < heap[least]!.at) least = right
    if (least === i) return
    swap(heap, i, least)
    i = least
  }
}

const push = (heap: Array<Wakeup>, wakeup: Wakeup) => {
  wakeup.index = heap.length
  heap.push(wakeup)
  up(heap, wakeup.index)
}

const remove = (heap: Array<Wakeup>, i: number) => {
  const removed = heap[i]!
  const last = heap.pop()!
  removed.index = -1
  if (last === removed) return
  heap[i] = last
  last.index = i
  down(heap, i)
  up(heap, last.index)
}
