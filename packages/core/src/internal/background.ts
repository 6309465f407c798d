import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"

/**
 * Work a manager starts on its own (a scheduled refresh) runs with its creator's loggers, minimum log level and log
 * annotations, tracer settings, metric labels, supervisor and default services (clock, random, tracer), and no parent
 * span (a refresh an hour later is not part of the request that built the manager). Only these references are kept:
 * capturing the creator's whole fiber state (`Effect.runtime`) copies every `FiberRef`, some 2 KiB per idle manager.
 */
const inherited: ReadonlyArray<FiberRef.FiberRef<any>> = [
  FiberRef.currentLoggers,
  FiberRef.currentMinimumLogLevel,
  FiberRef.currentLogAnnotations,
  FiberRef.currentTracerEnabled,
  FiberRef.currentTracerTimingEnabled,
  FiberRef.currentMetricLabels,
  FiberRef.currentSupervisor,
  FiberRef.currentScheduler,
  DefaultServices.currentServices
]

/** What a manager keeps of its creator's fiber. @internal */
export type Inherited = ReadonlyArray<unknown>

/** @internal */
export const capture: Effect.Effect<Inherited> = Effect.withFiberRuntime((fiber) =>
  Effect.succeed(inherited.map((ref) => fiber.getFiberRef(ref)))
)

/** Starts `effect` on a fiber of its own, with what was captured. @internal */
export const runFork = <A, E>(captured: Inherited, effect: Effect.Effect<A, E>): Fiber.RuntimeFiber<A, E> =>
  Effect.runFork(inherited.reduce((inner, ref, i) => Effect.locally(inner, ref, captured[i]), effect))
