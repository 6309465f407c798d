/**
 * Records what an effect logs and traces, so a test can assert on its log lines and spans, or check that none of
 * them shows a secret or a token.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Tracer from "effect/Tracer"
import * as Util from "node:util"

/**
 * What the effects run through `record` logged and traced, in order. The arrays are live: they grow while a recorded
 * effect (or a fiber it forked) runs, and are never cleared.
 *
 * - `logs`: every log record, of every level, as `Logger.logfmtLogger` prints it
 *   (`timestamp=… level=WARN fiber=#1 message="…" key=value`).
 * - `jsonLogs`: the same records, in the same order, as `Logger.jsonLogger` prints them.
 * - `spans`: every span started, as the current tracer made it, so `attributes`, `status` and `events` are read
 *   from the span itself (`span.attributes.get("http.response.status_code")`).
 * - `record(self)`: runs `self` with a logger that records every level (the minimum log level is `LogLevel.All`
 *   inside `self`) in place of Effect's default logger, and a tracer that records every span and delegates to the
 *   current tracer. Nothing changes outside `self`: other loggers, the log level and the tracer are those of the
 *   caller again once it completes.
 *
 * @since 0.1.0
 */
export interface Recorder {
  readonly logs: ReadonlyArray<string>
  readonly jsonLogs: ReadonlyArray<string>
  readonly spans: ReadonlyArray<Tracer.Span>
  readonly record: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/**
 * Makes a recorder with nothing recorded yet. One recorder may record several effects, one after another or at once.
 *
 * @example
 * ```ts
 * import { Recorder } from "@effect-oauth/testing"
 * import * as Effect from "effect/Effect"
 *
 * const program = Effect.gen(function*() {
 *   const recorder = yield* Recorder.make
 *   yield* recorder.record(Effect.logDebug("fetching").pipe(Effect.withSpan("fetch", { attributes: { n: 1 } })))
 *   recorder.logs // ["timestamp=… level=DEBUG fiber=#… message=fetching"]
 *   recorder.spans[0]?.attributes.get("n") // 1
 * })
 * ```
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<Recorder> = Effect.sync(() => {
  const logs: Array<string> = []
  const jsonLogs: Array<string> = []
  const spans: Array<Tracer.Span> = []
  const logger = Logger.make((options) => {
    logs.push(Logger.logfmtLogger.log(options))
    jsonLogs.push(Logger.jsonLogger.log(options))
  })
  const record = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.tracerWith((tracer) =>
      self.pipe(
        Effect.withTracer(Tracer.make({
          span: (...args) => {
            const span = tracer.span(...args)
            spans.push(span)
            return span
          },
          context: (f, fiber) => tracer.context(f, fiber)
        })),
        Effect.locallyWith(
          FiberRef.currentLoggers,
          (loggers) => HashSet.add(HashSet.remove(loggers, Logger.defaultLogger), logger)
        ),
        Logger.withMinimumLogLevel(LogLevel.All)
      )
    )
  return { logs, jsonLogs, spans, record }
})

const everything: Util.InspectOptions = { depth: Infinity }

/**
 * Every rendering of what the recorder holds, for a test that checks none of them shows a secret: each log record as
 * logfmt and as JSON (`logs`, then `jsonLogs`), then for each span `util.inspect` of the span, of its attributes
 * and, once it has ended, of its exit, all at unlimited depth. `options.spans` selects the spans to render (default:
 * all), e.g. `(span) => span.kind !== "server"` to leave out the emulator's own server spans, which hold the
 * provider's answers.
 *
 * @example
 * ```ts
 * import { Recorder } from "@effect-oauth/testing"
 * import { assert } from "@effect/vitest"
 *
 * declare const recorder: Recorder.Recorder
 * for (const rendering of Recorder.renderings(recorder)) assert.notInclude(rendering, "s3cr3t")
 * ```
 *
 * @since 0.1.0
 */
export const renderings = (
  recorder: Recorder,
  options?: { readonly spans?: ((span: Tracer.Span) => boolean) | undefined }
): ReadonlyArray<string> => [
  ...recorder.logs,
  ...recorder.jsonLogs,
  ...(options?.spans === undefined ? recorder.spans : recorder.spans.filter(options.spans)).flatMap((span) => [
    Util.inspect(span, everything),
    Util.inspect(Object.fromEntries(span.attributes), everything),
    ...(span.status._tag === "Ended" ? [Util.inspect(span.status.exit, everything)] : [])
  ])
]
