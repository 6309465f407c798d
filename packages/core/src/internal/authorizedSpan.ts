import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpTraceContext from "@effect/platform/HttpTraceContext"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Tracer from "effect/Tracer"

const always = () => true

// `send` with the platform's client span turned off and, when given, `span` as its parent: both fiber refs set and
// restored in one step (`Effect.locally` and `Effect.withParentSpan` each cost a region of their own per request).
const attempt = <A, E>(send: Effect.Effect<A, E>, span: Tracer.Span | undefined): Effect.Effect<A, E> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.withFiberRuntime((fiber) => {
      const disabledWhen = fiber.getFiberRef(HttpClient.currentTracerDisabledWhen)
      const context = fiber.currentContext
      const turnOff = FiberRef.set(HttpClient.currentTracerDisabledWhen, always)
      const turnBack = FiberRef.set(HttpClient.currentTracerDisabledWhen, disabledWhen)
      return span === undefined
        ? Effect.zipRight(turnOff, Effect.ensuring(restore(send), turnBack))
        : turnOff.pipe(
          Effect.zipRight(FiberRef.set(FiberRef.currentContext, Context.add(context, Tracer.ParentSpan, span))),
          Effect.zipRight(Effect.ensuring(
            restore(send),
            Effect.zipRight(turnBack, FiberRef.set(FiberRef.currentContext, context))
          ))
        )
    })
  )

/**
 * Runs `send` (one attempt of a request that carries the token) in the client span the platform would open for it,
 * with the same name and attributes, but built from the caller's `request` (without our `Authorization` header) and
 * ended with what the caller gets: the platform's own span for the attempt is turned off, as it would hold the
 * request with the token in its exit, where any tracer or `inspect` could read it. `send` receives the trace
 * propagation headers to add (none when propagation is off) and runs with the platform's client tracing disabled.
 * When tracing is off for this request, `send` runs as it is.
 *
 * @internal
 */
export const traced = <E>(
  request: HttpClientRequest.HttpClientRequest,
  send: (propagation: Headers.Headers) => Effect.Effect<HttpClientResponse.HttpClientResponse, E>
): Effect.Effect<HttpClientResponse.HttpClientResponse, E> =>
  Effect.withFiberRuntime((fiber) => {
    // With tracing off the platform opens no span either: nothing to turn off.
    if (!fiber.getFiberRef(FiberRef.currentTracerEnabled)) return send(Headers.empty)
    const url = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
    if (
      url._tag === "Left" || fiber.getFiberRef(HttpClient.currentTracerDisabledWhen)(request)
    ) {
      return attempt(send(Headers.empty), undefined)
    }
    const name = Context.get(fiber.currentContext, HttpClient.SpanNameGenerator)(request)
    const redacted = fiber.getFiberRef(Headers.currentRedactedNames)
    return Effect.useSpan(name, { kind: "client", captureStackTrace: false }, (span) => {
      span.attribute("http.request.method", request.method)
      span.attribute("server.address", url.right.origin)
      if (url.right.port !== "") span.attribute("server.port", +url.right.port)
      span.attribute("url.full", url.right.toString())
      span.attribute("url.path", url.right.pathname)
      span.attribute("url.scheme", url.right.protocol.slice(0, -1))
      if (url.right.search !== "") span.attribute("url.query", url.right.search.slice(1))
      // The header the attempt carried, as the platform shows it: redacted.
      const headers = Headers.redact(Headers.set(request.headers, "authorization", ""), redacted)
      for (const key in headers) span.attribute(`http.request.header.${key}`, String(headers[key]))
      const propagation = fiber.getFiberRef(HttpClient.currentTracerPropagation)
        ? HttpTraceContext.toHeaders(span)
        : Headers.empty
      return attempt(send(propagation), span).pipe(
        Effect.tap((response) => {
          span.attribute("http.response.status_code", response.status)
          const headers = Headers.redact(response.headers, redacted)
          for (const key in headers) span.attribute(`http.response.header.${key}`, String(headers[key]))
        })
      )
    })
  })
