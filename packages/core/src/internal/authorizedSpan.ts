import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpTraceContext from "@effect/platform/HttpTraceContext"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import * as Tracer from "effect/Tracer"
import { hideToken, ResponseView } from "./authorizedResponse.js"

const always = () => true

const spanOptions: Tracer.SpanOptions = { kind: "client", captureStackTrace: false }

// What the platform's span shows for the Authorization header we add, for a list of redacted names: "<redacted>" when
// the list covers it (the default), else the empty string (never the token). Remembered for the last list seen.
let lastRedacted: ReadonlyArray<string | RegExp> | undefined
let lastShown = ""
const shownAuthorization = (redacted: ReadonlyArray<string | RegExp>): string => {
  if (redacted !== lastRedacted) {
    lastShown = String(Headers.redact(Headers.fromInput({ authorization: "" }), redacted).authorization)
    lastRedacted = redacted
  }
  return lastShown
}

// Sets the platform's span switch and the current context (which holds the parent span) in one step.
const setTracing = (
  disabledWhen: (request: HttpClientRequest.HttpClientRequest) => boolean,
  context: Context.Context<never>
) =>
  Effect.updateFiberRefs((id, refs) =>
    FiberRefs.updateManyAs(refs, {
      entries: [
        [HttpClient.currentTracerDisabledWhen, [[id, disabledWhen]]],
        [FiberRef.currentContext, [[id, context]]]
      ]
    })
  )

// Ends `span` as `Effect.useSpan` does, with `exit`.
const end = (fiber: Fiber.RuntimeFiber<unknown, unknown>, span: Tracer.Span, exit: Exit.Exit<unknown, unknown>) => {
  if (span.status._tag === "Ended") return
  const timed = fiber.getFiberRef(FiberRef.currentTracerTimingEnabled)
  span.end(timed ? Context.get(fiber.currentDefaultServices, Clock.Clock).unsafeCurrentTimeNanos() : 0n, exit)
}

/**
 * One attempt of a request that carries the token, answered with what the caller gets: a `ResponseView` over the
 * caller's `request`, or the attempt's errors rebuilt over it (`hideToken`). `execute` sends the request with the
 * token, plus the trace propagation headers it is given (none when propagation is off).
 *
 * Traced as the platform would trace the caller's request: in a client span of the same name, kind and attributes,
 * child of the current span, parent of what the attempt opens, whose headers go on the wire; but built from the
 * caller's `request` (without our `Authorization` header) and ended with what the caller gets. The platform's own span
 * for the attempt is turned off (`HttpClient.currentTracerDisabledWhen`): it would end with the request that carries
 * the token, where any tracer or `inspect` could read it.
 *
 * The span is opened, the two fiber refs set (the platform's span switch and the parent span) and all restored in one
 * uninterruptible region with one continuation: `Effect.useSpan`, `Effect.locally` and `Effect.withParentSpan` each
 * cost a region of their own per request.
 *
 * @internal
 */
export const traced = <E>(
  request: HttpClientRequest.HttpClientRequest,
  execute: (propagation: Headers.Headers) => Effect.Effect<HttpClientResponse.HttpClientResponse, E>
): Effect.Effect<HttpClientResponse.HttpClientResponse, E> =>
  Effect.withFiberRuntime((fiber) => {
    // With tracing off the platform opens no span either: nothing to turn off.
    if (!fiber.getFiberRef(FiberRef.currentTracerEnabled)) return untraced(request, execute(Headers.empty))
    const url = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
    // An invalid URL fails in the platform before it opens a span.
    if (url._tag === "Left") return untraced(request, execute(Headers.empty))
    const disabledWhen = fiber.getFiberRef(HttpClient.currentTracerDisabledWhen)
    if (disabledWhen(request)) {
      // Not traced for the caller: not traced for the attempt either, whatever the predicate says of its request.
      return untraced(request, Effect.locally(execute(Headers.empty), HttpClient.currentTracerDisabledWhen, always))
    }
    const name = Context.get(fiber.currentContext, HttpClient.SpanNameGenerator)(request)
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Effect.makeSpan(name, spanOptions), (span) => {
        span.attribute("http.request.method", request.method)
        span.attribute("server.address", url.right.origin)
        if (url.right.port !== "") span.attribute("server.port", +url.right.port)
        span.attribute("url.full", url.right.toString())
        span.attribute("url.path", url.right.pathname)
        span.attribute("url.scheme", url.right.protocol.slice(0, -1))
        if (url.right.search !== "") span.attribute("url.query", url.right.search.slice(1))
        const redacted = fiber.getFiberRef(Headers.currentRedactedNames)
        const headers = Headers.redact(request.headers, redacted)
        for (const key in headers) {
          if (key !== "authorization") span.attribute(`http.request.header.${key}`, String(headers[key]))
        }
        span.attribute("http.request.header.authorization", shownAuthorization(redacted))
        const propagation = fiber.getFiberRef(HttpClient.currentTracerPropagation)
          ? HttpTraceContext.toHeaders(span)
          : Headers.empty
        // Both fiber refs set in one step, and put back in one step: the platform's span off, ours the parent.
        const context = fiber.currentContext
        const enter = setTracing(always, Context.add(context, Tracer.ParentSpan, span))
        const leave = setTracing(disabledWhen, context)
        return Effect.zipRight(
          enter,
          Effect.matchCauseEffect(restore(execute(propagation)), {
            // Methods, not arrow functions: per request, a transpiler keeping names would name each arrow anew.
            onFailure(cause) {
              const hidden = Cause.map(cause, hideToken(request))
              end(fiber, span, Exit.failCause(hidden))
              return Effect.zipRight(leave, Effect.failCause(hidden))
            },
            onSuccess(response) {
              span.attribute("http.response.status_code", response.status)
              const headers = Headers.redact(response.headers, redacted)
              for (const key in headers) span.attribute(`http.response.header.${key}`, String(headers[key]))
              const view = new ResponseView(response, request)
              end(fiber, span, Exit.succeed(view))
              return Effect.zipRight(leave, Effect.succeed(view))
            }
          })
        )
      })
    )
  })

// The attempt, untraced, answered with a view and its errors rebuilt over the caller's request.
const untraced = <E>(
  request: HttpClientRequest.HttpClientRequest,
  attempt: Effect.Effect<HttpClientResponse.HttpClientResponse, E>
): Effect.Effect<HttpClientResponse.HttpClientResponse, E> =>
  Effect.matchCauseEffect(attempt, {
    onFailure(cause) {
      return Effect.failCause(Cause.map(cause, hideToken(request)))
    },
    onSuccess(response) {
      return Effect.succeed(new ResponseView(response, request))
    }
  })
