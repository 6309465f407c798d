import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"

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
export interface SingleFlight<A, E> {
  readonly run: (effect: Effect.Effect<A, E>) => Effect.Effect<A, E>
  readonly close: Effect.Effect<void>
}

type State<A, E> =
  | { readonly _tag: "Idle" }
  | { readonly _tag: "Running"; readonly result: Deferred.Deferred<A, E> }
  | { readonly _tag: "Closed" }

const idle = { _tag: "Idle" } as const
const closed = { _tag: "Closed" } as const

/** @internal */
export const make = <A, E>(scope: Scope.Scope, closedMessage: string): Effect.Effect<SingleFlight<A, E>> =>
  Effect.map(Ref.make<State<A, E>>(idle), (state) => {
    const dieClosed = Effect.dieMessage(closedMessage)

    const start = (effect: Effect.Effect<A, E>, result: Deferred.Deferred<A, E>) =>
      effect.pipe(
        Effect.exit,
        Effect.flatMap((exit) =>
          Effect.zipRight(
            Ref.update(state, (current) => current._tag === "Running" && current.result === result ? idle : current),
            Deferred.done(result, exit)
          )
        ),
        Effect.onInterrupt(() => Deferred.completeWith(result, dieClosed)),
        // Forked from an uninterruptible region, the run would inherit it: closing the scope must interrupt it.
        Effect.interruptible,
        Effect.forkIn(scope)
      )

    // Publishing the run and forking it happen with interruption off, so a caller interrupted at any instant either
    // never published a run or left one that is already running: the shared fetch cannot be orphaned.
    const run = (effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Deferred.make<A, E>(), (mine) =>
          Effect.flatMap(
            Ref.modify(state, (current): [Deferred.Deferred<A, E> | undefined, State<A, E>] =>
              current._tag === "Closed"
                ? [undefined, current]
                : current._tag === "Running"
                ? [current.result, current]
                : [mine, { _tag: "Running", result: mine }]),
            (shared) =>
              shared === undefined
                ? dieClosed
                : shared === mine
                ? Effect.zipRight(start(effect, mine), restore(Deferred.await(mine)))
                : restore(Deferred.await(shared))
          ))
      )

    const close = Effect.flatMap(
      Ref.getAndSet(state, closed),
      (previous) => previous._tag === "Running" ? Deferred.completeWith(previous.result, dieClosed) : Effect.void
    )

    return { run, close }
  })
