import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"

/** A response read to the end: status, lower-cased headers, raw text and the JSON body when it parses. */
export interface Reply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly text: string
  readonly body: any
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

export const send = (
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<Reply, HttpClientError.HttpClientError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const response = yield* HttpClient.execute(request)
    const text = yield* response.text
    return { status: response.status, headers: response.headers, text, body: parseJson(text) }
  })

type Fields = Readonly<Record<string, string>>

export const form = (url: string, fields: Fields, headers: Fields = {}) =>
  send(HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUrlParams(fields), HttpClientRequest.setHeaders(headers)))

export const multipart = (url: string, fields: Fields, headers: Fields = {}) => {
  const data = new FormData()
  for (const [key, value] of Object.entries(fields)) data.append(key, value)
  return send(
    HttpClientRequest.post(url).pipe(HttpClientRequest.bodyFormData(data), HttpClientRequest.setHeaders(headers))
  )
}

export const json = (url: string, body: unknown, headers: Fields = {}) =>
  send(HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUnsafeJson(body), HttpClientRequest.setHeaders(headers)))

// RFC 6749 §2.3.1 form encoding: encodeURIComponent, with spaces as "+".
const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, "+")

/** An `Authorization: Basic` header, RFC 6749 §2.3.1 encoded unless `plain`. */
export const basic = (id: string, secret: string, plain = false): Fields => {
  const pair = plain ? `${id}:${secret}` : `${formEncode(id)}:${formEncode(secret)}`
  return { authorization: `Basic ${Buffer.from(pair, "utf8").toString("base64")}` }
}

export const bearer = (token: string): Fields => ({ authorization: `Bearer ${token}` })

export const getWith = (url: string, headers: Fields = {}) =>
  send(HttpClientRequest.get(url).pipe(HttpClientRequest.setHeaders(headers)))

export const postWith = (url: string, headers: Fields = {}) =>
  send(
    HttpClientRequest.post(url).pipe(
      HttpClientRequest.bodyUnsafeJson({ order: 1 }),
      HttpClientRequest.setHeaders(headers)
    )
  )

/**
 * Forks `effect` and yields to the event loop (no timer) until one more fiber sleeps on the TestClock, i.e. the
 * server reached its injected delay; the TestClock keeps entries of interrupted sleeps, hence the count.
 */
export const forkUntilSleeping = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const before = Chunk.size(yield* TestClock.sleeps())
    const fiber = yield* Effect.fork(effect)
    while (Chunk.size(yield* TestClock.sleeps()) === before) {
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
    }
    return fiber
  })
