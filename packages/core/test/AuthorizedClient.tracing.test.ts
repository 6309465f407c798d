import { Recorder } from "@effect-oauth/testing"
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpTraceContext from "@effect/platform/HttpTraceContext"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import type * as Tracer from "effect/Tracer"
import * as Util from "node:util"
import * as AuthorizedClient from "../src/AuthorizedClient.js"
import * as TokenManager from "../src/TokenManager.js"
import { makeFakeEndpoint } from "./utils/FakeEndpoint.js"

const origin = "https://api.example.com"
const url = `${origin}:8443/v1/orders/42?page=2#top`

// An in-memory resource server: records the requests as they reach the wire and answers each with `answer`.
const inMemory = (
  answer: (request: HttpClientRequest.HttpClientRequest) => Effect.Effect<Response, HttpClientError.RequestError> =
    () => Effect.succeed(new Response("ok", { status: 200, headers: { "content-type": "text/plain", "x-id": "7" } }))
) => {
  const wire: Array<HttpClientRequest.HttpClientRequest> = []
  const client = HttpClient.make((request) =>
    Effect.map(answer(request), (response) => {
      wire.push(request)
      return HttpClientResponse.fromWeb(request, response)
    })
  )
  return { client, wire }
}

const setup = (transport: ReturnType<typeof inMemory> = inMemory()) =>
  Effect.gen(function*() {
    const fake = yield* makeFakeEndpoint(3600)
    const manager = yield* TokenManager.make(fake.endpoint)
    const client = yield* AuthorizedClient.make(transport.client, manager, { origins: [origin + ":8443"] })
    // Fetch the token first: its own spans stay out of what the tests look at.
    yield* manager.get
    return { client, wire: transport.wire }
  })

const clientSpans = (recorder: Recorder.Recorder) => recorder.spans.filter((span) => span.kind === "client")

const nth = <A>(all: ReadonlyArray<A>, n: number): A => {
  assert.isAbove(all.length, n)
  return all[n]!
}

const parentId = (span: Tracer.Span) => Option.map(span.parent, (parent) => parent.spanId)

const attributes = (span: Tracer.Span) => Object.fromEntries(span.attributes)

const assertNoToken = (recorder: Recorder.Recorder, ...values: ReadonlyArray<unknown>) => {
  for (const rendering of Recorder.renderings(recorder)) assert.notInclude(rendering, "token-", rendering)
  for (const value of values) assert.notInclude(Util.inspect(value, { depth: Infinity }), "token-")
}

describe("AuthorizedClient tracing", () => {
  it.scoped("the client span is the platform's: name, kind, attributes, parent and propagation headers", () =>
    Effect.gen(function*() {
      const recorder = yield* Recorder.make
      const { client, wire } = yield* setup()
      // The reference: the platform's own span for the same request with the header set by hand.
      const reference = inMemory()
      const fixed = reference.client.pipe(HttpClient.mapRequest(HttpClientRequest.setHeader("authorization", "x")))
      const request = HttpClientRequest.get(url, { headers: { "x-caller": "c", "set-cookie": "s" } })
      const response = yield* recorder.record(Effect.withSpan(client.execute(request), "outer"))
      yield* recorder.record(Effect.withSpan(fixed.execute(request), "outer"))
      assert.strictEqual(clientSpans(recorder).length, 2, "one client span per request")
      const [ours, platform] = [nth(clientSpans(recorder), 0), nth(clientSpans(recorder), 1)]
      const outer = recorder.spans.filter((span) => span.name === "outer")
      assert.strictEqual(ours.name, platform.name)
      assert.strictEqual(ours.name, "http.client GET")
      assert.deepStrictEqual(attributes(ours), attributes(platform))
      assert.strictEqual(ours.attributes.get("http.request.header.authorization"), "<redacted>")
      assert.strictEqual(ours.attributes.get("url.full"), `${origin}:8443/v1/orders/42?page=2#top`)
      assert.strictEqual(ours.attributes.get("http.response.status_code"), 200)
      assert.deepStrictEqual(parentId(ours), Option.some(nth(outer, 0).spanId))
      assert.deepStrictEqual(parentId(platform), Option.some(nth(outer, 1).spanId))
      // The trace headers on the wire name our span, as the platform's name its own.
      const sent = nth(wire, 0)
      assert.strictEqual(sent.headers.authorization, "Bearer token-1")
      assert.strictEqual(sent.headers["x-caller"], "c")
      assert.deepStrictEqual(
        { ...Headers.remove(sent.headers, ["authorization", "x-caller", "set-cookie"]) },
        { ...HttpTraceContext.toHeaders(ours) }
      )
      assert.deepStrictEqual(
        { ...Headers.remove(nth(reference.wire, 0).headers, ["authorization", "x-caller", "set-cookie"]) },
        { ...HttpTraceContext.toHeaders(platform) }
      )
      // It ends with what the caller got: the response over the caller's request.
      assert.strictEqual(ours.status._tag, "Ended")
      if (ours.status._tag === "Ended") {
        assert.isTrue(Exit.isSuccess(ours.status.exit))
        if (Exit.isSuccess(ours.status.exit)) {
          const ended = ours.status.exit.value as HttpClientResponse.HttpClientResponse
          assert.isUndefined(ended.request.headers.authorization)
          assert.strictEqual(ended.status, 200)
        }
      }
      assert.isUndefined(response.request.headers.authorization)
      assert.strictEqual(yield* response.text, "ok")
      assertNoToken(recorder, response)
    }))

  it.scoped("spans the transport opens are children of the client span; the caller's span is current again after", () =>
    Effect.gen(function*() {
      const recorder = yield* Recorder.make
      const { client } = yield* setup(
        inMemory(() => Effect.withSpan(Effect.succeed(new Response(null, { status: 204 })), "transport"))
      )
      const after = yield* recorder.record(
        Effect.withSpan(Effect.zipRight(client.get(url), Effect.currentSpan), "outer")
      )
      const span = nth(clientSpans(recorder), 0)
      const transport = recorder.spans.find((span) => span.name === "transport")!
      assert.deepStrictEqual(parentId(transport), Option.some(span.spanId))
      assert.strictEqual(after.name, "outer")
    }))

  it.scoped("without trace propagation no trace header reaches the wire; the span is still there", () =>
    Effect.gen(function*() {
      const recorder = yield* Recorder.make
      const { client, wire } = yield* setup()
      yield* recorder.record(HttpClient.withTracerPropagation(client, false).get(url))
      assert.deepStrictEqual(Object.keys(nth(wire, 0).headers), ["authorization"])
      assert.strictEqual(clientSpans(recorder).length, 1)
    }))

  it.scoped("with tracing off no span is opened and no trace header sent; the token still is", () =>
    Effect.gen(function*() {
      const recorder = yield* Recorder.make
      const { client, wire } = yield* setup()
      const response = yield* recorder.record(Effect.withTracerEnabled(client.get(url), false))
      assert.strictEqual(recorder.spans.length, 0)
      assert.deepStrictEqual({ ...nth(wire, 0).headers }, { authorization: "Bearer token-1" })
      assert.isUndefined(response.request.headers.authorization)
    }))

  it.scoped("a request the user's currentTracerDisabledWhen excludes is not traced, and the predicate stays", () =>
    Effect.gen(function*() {
      const recorder = yield* Recorder.make
      const { client, wire } = yield* setup()
      const excluded = (request: HttpClientRequest.HttpClientRequest) => request.url.includes("/orders/")
      const seen = yield* recorder.record(
        Effect.locally(
          Effect.zipRight(client.get(url), FiberRef.get(HttpClient.currentTracerDisabledWhen)),
          HttpClient.currentTracerDisabledWhen,
          excluded
        )
      )
      assert.strictEqual(seen, excluded)
      assert.strictEqual(clientSpans(recorder).length, 0)
      assert.deepStrictEqual(Object.keys(nth(wire, 0).headers), ["authorization"])
      // Another request is traced as usual.
      yield* recorder.record(
        Effect.locally(client.get(`${origin}:8443/v1/items`), HttpClient.currentTracerDisabledWhen, excluded)
      )
      assert.strictEqual(clientSpans(recorder).length, 1)
    }))

  it.scoped("a transport failure ends the span with an error over the caller's request; fiber refs are restored", () =>
    Effect.gen(function*() {
      const recorder = yield* Recorder.make
      const { client } = yield* setup(
        inMemory((request) => Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport" })))
      )
      const [error, disabledWhen, current] = yield* recorder.record(Effect.withSpan(
        Effect.all([
          Effect.flip(client.get(url)),
          FiberRef.get(HttpClient.currentTracerDisabledWhen),
          Effect.currentSpan
        ]),
        "outer"
      ))
      assert.strictEqual(error._tag, "RequestError")
      if (error._tag === "RequestError") assert.isUndefined(error.request.headers.authorization)
      assert.strictEqual(disabledWhen(HttpClientRequest.get(url)), false)
      assert.strictEqual(current.name, "outer")
      const span = nth(clientSpans(recorder), 0)
      assert.isTrue(span.status._tag === "Ended" && Exit.isFailure(span.status.exit))
      assertNoToken(recorder, error)
    }))

  it.scoped("interrupted mid-request: the span ends interrupted and the fiber refs are the caller's again", () =>
    Effect.gen(function*() {
      const recorder = yield* Recorder.make
      const started = yield* Deferred.make<void>()
      const { client } = yield* setup(inMemory(() => Effect.zipRight(Deferred.succeed(started, void 0), Effect.never)))
      const seen = yield* Deferred.make<readonly [boolean, string]>()
      const userPredicate = () => false
      const fiber = yield* recorder.record(
        client.get(url).pipe(
          Effect.onInterrupt(() =>
            Effect.flatMap(
              Effect.all([FiberRef.get(HttpClient.currentTracerDisabledWhen), Effect.orDie(Effect.currentSpan)]),
              ([disabledWhen, span]) => Deferred.succeed(seen, [disabledWhen === userPredicate, span.name] as const)
            )
          ),
          Effect.locally(HttpClient.currentTracerDisabledWhen, userPredicate),
          Effect.withSpan("outer"),
          Effect.fork
        )
      )
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(yield* Deferred.await(seen), [true, "outer"])
      const span = nth(clientSpans(recorder), 0)
      assert.isTrue(span.status._tag === "Ended" && Exit.isInterrupted(span.status.exit))
      assertNoToken(recorder)
    }))
})
