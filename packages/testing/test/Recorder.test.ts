import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as Recorder from "../src/Recorder.js"

describe("Recorder", () => {
  it.effect("records logs of every level as logfmt and JSON, in order", () =>
    Effect.gen(function*() {
      const recorder = yield* Recorder.make
      yield* recorder.record(
        Effect.gen(function*() {
          yield* Effect.logTrace("traced")
          yield* Effect.logDebug("fetching").pipe(Effect.annotateLogs("attempt", 2))
          yield* Effect.logWarning("slow")
        })
      )
      assert.strictEqual(recorder.logs.length, 3)
      assert.match(recorder.logs[0] ?? "", /level=TRACE .*message=traced/)
      assert.match(recorder.logs[1] ?? "", /level=DEBUG .*message=fetching attempt=2$/)
      assert.match(recorder.logs[2] ?? "", /level=WARN .*message=slow/)
      const json = recorder.jsonLogs.map((line) => JSON.parse(line))
      assert.deepStrictEqual(
        json.map(({ annotations, logLevel, message }) => ({ annotations, logLevel, message })),
        [
          { annotations: {}, logLevel: "TRACE", message: "traced" },
          { annotations: { attempt: 2 }, logLevel: "DEBUG", message: "fetching" },
          { annotations: {}, logLevel: "WARN", message: "slow" }
        ]
      )
    }))

  it.effect("records spans with their attributes and exit, made by the current tracer", () =>
    Effect.gen(function*() {
      const outer = yield* Recorder.make
      const inner = yield* Recorder.make
      const result = yield* outer.record(
        inner.record(
          Effect.succeed(42).pipe(
            Effect.withSpan("child", { attributes: { n: 1 } }),
            Effect.withSpan("parent", { kind: "server" })
          )
        )
      )
      assert.strictEqual(result, 42)
      assert.deepStrictEqual(inner.spans.map((span) => span.name), ["parent", "child"])
      // The inner recorder delegates to the outer one: the very same spans.
      assert.deepStrictEqual(outer.spans, inner.spans)
      const [parent, child] = inner.spans
      assert.strictEqual(child?.attributes.get("n"), 1)
      assert.strictEqual(child?.parent._tag === "Some" ? child.parent.value : undefined, parent)
      assert.isTrue(child?.status._tag === "Ended" && Exit.isSuccess(child.status.exit))
    }))

  it.effect("record changes nothing outside the recorded effect", () =>
    Effect.gen(function*() {
      const loggers = yield* FiberRef.get(FiberRef.currentLoggers)
      const level = yield* FiberRef.get(FiberRef.currentMinimumLogLevel)
      const tracer = yield* Effect.tracer
      const recorder = yield* Recorder.make
      const exit = yield* Effect.exit(recorder.record(Effect.fail("boom").pipe(Effect.withSpan("failing"))))
      assert.deepStrictEqual(exit, Exit.fail("boom"))
      assert.strictEqual(yield* FiberRef.get(FiberRef.currentLoggers), loggers)
      assert.strictEqual(yield* FiberRef.get(FiberRef.currentMinimumLogLevel), level)
      assert.notStrictEqual(level, LogLevel.All)
      assert.strictEqual(yield* Effect.tracer, tracer)
      yield* Effect.logWarning("outside").pipe(Effect.withSpan("outside"))
      assert.deepStrictEqual(recorder.spans.map((span) => span.name), ["failing"])
      assert.deepStrictEqual(recorder.logs, [])
    }))

  it.effect("records what a forked fiber logs and traces", () =>
    Effect.gen(function*() {
      const recorder = yield* Recorder.make
      yield* recorder.record(
        Effect.forkDaemon(Effect.logDebug("in the background").pipe(Effect.withSpan("background"))).pipe(
          Effect.flatMap((fiber) => fiber.await)
        )
      )
      assert.strictEqual(recorder.logs.length, 1)
      assert.include(recorder.logs[0], "message=\"in the background\"")
      assert.deepStrictEqual(recorder.spans.map((span) => span.name), ["background"])
    }))

  it.effect("renderings show every log line and every selected span, at unlimited depth", () =>
    Effect.gen(function*() {
      const recorder = yield* Recorder.make
      yield* recorder.record(
        Effect.logInfo("hello").pipe(
          Effect.zipRight(Effect.fail({ deep: { deeper: { deepest: { value: "in the exit" } } } })),
          Effect.withSpan("client", { attributes: { "peer.token": Redacted.make("hidden"), level: "visible" } }),
          Effect.ignore
        )
      )
      yield* recorder.record(
        Effect.withSpan(Effect.void, "server", { kind: "server", attributes: { answer: "only on the server span" } })
      )
      const all = Recorder.renderings(recorder)
      assert.strictEqual(all[0], recorder.logs[0])
      assert.strictEqual(all[1], recorder.jsonLogs[0])
      assert.strictEqual(all.length, 2 + 3 + 3)
      assert.isTrue(all.some((rendering) => rendering.includes("in the exit")))
      assert.isTrue(all.some((rendering) => rendering.includes("only on the server span")))
      assert.isTrue(all.some((rendering) => rendering.includes("visible")))
      assert.isFalse(all.some((rendering) => rendering.includes("hidden")))
      const clientOnly = Recorder.renderings(recorder, { spans: (span) => span.kind !== "server" })
      assert.strictEqual(clientOnly.length, 2 + 3)
      assert.isFalse(clientOnly.some((rendering) => rendering.includes("only on the server span")))
    }))

  it.effect("replaces only the default logger: other loggers still get every record", () =>
    Effect.gen(function*() {
      const seen: Array<unknown> = []
      const other = Logger.make(({ message }) => seen.push(message))
      const recorder = yield* Recorder.make
      yield* recorder.record(Effect.logDebug("kept")).pipe(Effect.provide(Logger.add(other)))
      assert.strictEqual(recorder.logs.length, 1)
      assert.deepStrictEqual(seen, [["kept"]])
    }))
})
