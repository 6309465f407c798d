import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import * as Stream from "effect/Stream"

/**
 * A response as the caller sees it: the platform's response, with `request` the caller's own request (without the
 * `Authorization` header the authorized client added), and every `ResponseError` its body accessors fail with
 * rebuilt over that request. Nothing reachable from it (`request`, `toJSON`, `inspect`, its errors) holds the token.
 *
 * @internal
 */
export class ResponseView extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId

  // Private (#): the platform's response holds the request that carried the token, so nothing that walks own
  // properties (inspect without custom inspectors, error reporters, redacting loggers) may reach it.
  readonly #original: HttpClientResponse.HttpClientResponse

  constructor(
    original: HttpClientResponse.HttpClientResponse,
    readonly request: HttpClientRequest.HttpClientRequest
  ) {
    super()
    this.#original = original
  }

  get status() {
    return this.#original.status
  }

  get headers() {
    return this.#original.headers
  }

  get cookies() {
    return this.#original.cookies
  }

  get remoteAddress() {
    return this.#original.remoteAddress
  }

  /** Rebuilds the platform's errors over the caller's request and this view. */
  protected hide<A>(effect: Effect.Effect<A, HttpClientError.ResponseError>) {
    return Effect.mapError(effect, (error) => responseError(error, this.request, this))
  }

  protected decodeError(cause: unknown) {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return this.hide(this.#original.arrayBuffer)
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return this.hide(this.#original.text)
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return this.hide(this.#original.json)
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return this.hide(this.#original.urlParamsBody)
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return this.hide(this.#original.formData)
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.mapError(this.#original.stream, (error) => responseError(error, this.request, this))
  }

  toJSON(): unknown {
    return {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status,
      headers: Inspectable.redact(this.headers)
    }
  }
}

/**
 * The most of a body `BufferedResponse` reads into memory for an `isTokenRejected` predicate.
 *
 * @internal
 */
export const maxBufferedBytes = 1024 * 1024

/**
 * How long `BufferedResponse` may take to read a body for an `isTokenRejected` predicate.
 *
 * @internal
 */
export const bufferTimeout: Duration.Duration = Duration.seconds(10)

/**
 * A `ResponseView` whose body is read once, on first use, and then served from memory to every accessor: the
 * `isTokenRejected` predicate can read it (`json`, `text`, …) and the caller can still read it afterwards in any form,
 * which the platform's responses do not allow (after `text`, `arrayBuffer` and `stream` fail). `read` says whether
 * anything touched the body: if not, the caller gets a plain view and can stream the body. The read is bounded by
 * `maxBufferedBytes` and `bufferTimeout`.
 *
 * @internal
 */
export class BufferedResponse extends ResponseView {
  read = false
  private cachedBody: Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> | undefined

  private get body(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    this.read = true
    return this.cachedBody ??= Effect.runSync(Effect.cached(this.readBounded))
  }

  // The whole body, at most `maxBufferedBytes` within `bufferTimeout`: a server cannot make the library's own read
  // grow without bound or hang. Past either limit the read fails, for the predicate and the caller alike.
  private get readBounded(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    const chunks: Array<Uint8Array> = []
    let size = 0
    const tooLong = (description: string) =>
      new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", description })
    return super.stream.pipe(
      Stream.runForEachWhile((chunk) =>
        Effect.sync(() => {
          size += chunk.length
          if (size <= maxBufferedBytes) chunks.push(chunk)
          return size <= maxBufferedBytes
        })
      ),
      Effect.timeoutFail({
        duration: bufferTimeout,
        onTimeout: () => tooLong(`the body was not read within ${Duration.toSeconds(bufferTimeout)} seconds`)
      }),
      Effect.flatMap(() => {
        if (size > maxBufferedBytes) return Effect.fail(tooLong(`the body exceeds ${maxBufferedBytes} bytes`))
        const bytes = new Uint8Array(size)
        let offset = 0
        for (const chunk of chunks) {
          bytes.set(chunk, offset)
          offset += chunk.length
        }
        return Effect.succeed(bytes.buffer)
      })
    )
  }

  private decode<A, B>(
    effect: Effect.Effect<A, HttpClientError.ResponseError>,
    f: (a: A) => B
  ): Effect.Effect<B, HttpClientError.ResponseError> {
    return Effect.flatMap(effect, (a) => Effect.try({ try: () => f(a), catch: (cause) => this.decodeError(cause) }))
  }

  override get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return this.body
  }

  override get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return Effect.map(this.body, (bytes) => new TextDecoder().decode(bytes))
  }

  override get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return this.decode(this.text, (text) => text === "" ? null : JSON.parse(text))
  }

  override get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return this.decode(this.text, (text) => UrlParams.fromInput(new URLSearchParams(text)))
  }

  override get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.flatMap(this.body, (bytes) =>
      Effect.tryPromise({
        // The web Response parses multipart and urlencoded bodies the same way the platform's clients do.
        try: () => new Response(bytes, { headers: { "content-type": this.headers["content-type"] ?? "" } }).formData(),
        catch: (cause) => this.decodeError(cause)
      }))
  }

  override get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.fromEffect(Effect.map(this.body, (bytes) => new Uint8Array(bytes)))
  }
}

// The fields of a platform error other than its request and response, `description` only when set.
const details = (error: HttpClientError.RequestError | HttpClientError.ResponseError) => ({
  cause: error.cause,
  ...(error.description === undefined ? {} : { description: error.description })
})

const responseError = (
  error: HttpClientError.ResponseError,
  request: HttpClientRequest.HttpClientRequest,
  response: HttpClientResponse.HttpClientResponse
) => new HttpClientError.ResponseError({ request, response, reason: error.reason, ...details(error) })

/**
 * The platform's errors of a request the authorized client sent with a token, rebuilt over the caller's `request`
 * (which has no `Authorization` header of ours): a `RequestError` (a transport failure) or a `ResponseError` (whose
 * response becomes a `ResponseView`). Any other error passes as it is.
 *
 * @internal
 */
export const hideToken = (request: HttpClientRequest.HttpClientRequest) => <E>(error: E): E => {
  if (error instanceof HttpClientError.RequestError) {
    return new HttpClientError.RequestError({ request, reason: error.reason, ...details(error) }) as E
  }
  if (error instanceof HttpClientError.ResponseError) {
    const response = error.response instanceof ResponseView ? error.response : new ResponseView(error.response, request)
    return responseError(error, request, response) as E
  }
  return error
}
