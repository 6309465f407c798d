import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"
import type * as Scope from "effect/Scope"

type State<A, E> =
  | { readonly _tag: "Idle" }
  | { readonly _tag: "Running"; readonly result: Deferred.Deferred<A, E> }
  | { readonly _tag: "Closed" }

/** What a manager's callers get once its scope has closed. @internal */
export const closedMessage = (name: string) => `TokenManager "${name}" was used after its scope closed`

const idle = { _tag: "Idle" } as const
const closed = { _tag: "Closed" } as const

/**
 * One run at a time, shared by every caller: the first caller starts the run in `scope` (detached, so its own
 * interruption does not cancel it for the others), every caller awaits the same result.
 *
 * - `run(effect)`: joins the run under way, or starts `effect`.
 * - `close`: no more runs; callers waiting on the current one get a defect saying why. Runs forked in `scope` are
 *   interrupted when it closes; `close` covers a run interrupted before it could report.
 *
 * @internal
 */
export class SingleFlight<A, E> {
  private state: State<A, E> = idle

  constructor(private readonly scope: Scope.Scope, private readonly name: string) {}

  private get dieClosed() {
    return Effect.dieMessage(closedMessage(this.name))
  }

  private start(effect: Effect.Effect<A, E>, result: Deferred.Deferred<A, E>) {
    return effect.pipe(
      Effect.exit,
      Effect.flatMap((exit) =>
        Effect.suspend(() => {
          if (this.state._tag === "Running" && this.state.result === result) this.state = idle
          return Deferred.done(result, exit)
        })
      ),
      // Only the scope holds the run's fiber (callers are detached from it): interrupted, the scope is closing, so
      // nothing more starts, and what awaits the run learns why before the manager's own finalizer has run.
      Effect.onInterrupt(() =>
        Effect.suspend(() => {
          this.state = closed
          return Deferred.completeWith(result, this.dieClosed)
        })
      ),
      // Forked from an uninterruptible region, the run would inherit it: closing the scope must interrupt it.
      Effect.interruptible,
      Effect.forkIn(this.scope)
    )
  }

  // Publishing the run and forking it happen with interruption off, so a caller interrupted at any instant either
  // never published a run or left one that is already running: the shared fetch cannot be orphaned.
  run(effect: Effect.Effect<A, E>): Effect.Effect<A, E> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.suspend(() => {
        const current = this.state
        if (current._tag === "Closed") return this.dieClosed
        if (current._tag === "Running") return restore(Deferred.await(current.result))
        const mine = Deferred.unsafeMake<A, E>(FiberId.none)
        this.state = { _tag: "Running", result: mine }
        return Effect.zipRight(this.start(effect, mine), restore(Deferred.await(mine)))
      })
    )
  }

  /** No more runs: closed, or a run was interrupted by the scope closing. */
  get isClosed(): boolean {
    return this.state._tag === "Closed"
  }

  get close(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const previous = this.state
      this.state = closed
      return previous._tag === "Running" ? Deferred.completeWith(previous.result, this.dieClosed) : Effect.void
    })
  }
}
