import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Inspectable from "effect/Inspectable"
import * as Stream from "effect/Stream"
import { parseSecureUrl } from "./url.js"

/**
 * The normalised origins (`URL.origin`) of a non-empty list of URLs, each checked by `parseSecureUrl`.
 *
 * @internal
 */
export const resolveOrigins = (
  origins: ReadonlyArray<string | URL>
): Either.Either<ReadonlySet<string>, ConfigError.ConfigError> => {
  if (origins.length === 0) {
    return Either.left(ConfigError.InvalidData(["origins"], "origins must list at least one origin"))
  }
  const resolved = new Set<string>()
  for (let i = 0; i < origins.length; i++) {
    const url = parseSecureUrl(origins[i]!, ["origins", String(i)])
    if (Either.isLeft(url)) return Either.left(url.left)
    resolved.add(url.right.origin)
  }
  return Either.right(resolved)
}

/**
 * `origin + pathname` of a request URL: what an error may name (a query string can carry identifiers or keys).
 *
 * @internal
 */
export const urlWithoutQuery = (url: string): string => {
  try {
    const parsed = new URL(url)
    return parsed.origin + parsed.pathname
  } catch {
    return url.split(/[?#]/, 1)[0]!
  }
}

/**
 * A response whose body is read once, on first use, and then served from memory to every accessor: the
 * `isTokenRejected` predicate can read it (`json`, `text`, …) and the caller can still read it afterwards in any form,
 * which the platform's responses do not allow (after `text`, `arrayBuffer` and `stream` fail). `read` says whether
 * anything touched the body: if not, the caller gets the original response and can stream it.
 *
 * @internal
 */
export class BufferedResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  read = false
  private cachedBody: Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> | undefined

  constructor(readonly original: HttpClientResponse.HttpClientResponse) {
    super()
  }

  get request() {
    return this.original.request
  }

  get status() {
    return this.original.status
  }

  get headers() {
    return this.original.headers
  }

  get cookies() {
    return this.original.cookies
  }

  get remoteAddress() {
    return this.original.remoteAddress
  }

  private get body(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    this.read = true
    return this.cachedBody ??= Effect.runSync(Effect.cached(this.original.arrayBuffer))
  }

  private decode<A, B>(
    effect: Effect.Effect<A, HttpClientError.ResponseError>,
    f: (a: A) => B
  ): Effect.Effect<B, HttpClientError.ResponseError> {
    return Effect.flatMap(effect, (a) =>
      Effect.try({
        try: () => f(a),
        catch: (cause) =>
          new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
      }))
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return this.body
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return Effect.map(this.body, (bytes) => new TextDecoder().decode(bytes))
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return this.decode(this.text, (text) => text === "" ? null : JSON.parse(text))
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return this.decode(this.text, (text) => UrlParams.fromInput(new URLSearchParams(text)))
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.flatMap(this.body, (bytes) =>
      Effect.tryPromise({
        // The web Response parses multipart and urlencoded bodies the same way the platform's clients do.
        try: () => new Response(bytes, { headers: { "content-type": this.headers["content-type"] ?? "" } }).formData(),
        catch: (cause) =>
          new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
      }))
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.fromEffect(Effect.map(this.body, (bytes) => new Uint8Array(bytes)))
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
