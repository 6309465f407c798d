import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

/**
 * One value serialised as `application/x-www-form-urlencoded` (spaces as `+`, everything but `*-._` and
 * alphanumerics percent-encoded), which RFC 6749 §2.3.1 asks for before HTTP Basic. URLSearchParams is the WHATWG
 * serialiser itself, available in every runtime the core targets.
 *
 * @internal
 */
export const formEncode = (value: string): string => new URLSearchParams([["", value]]).toString().slice(1)

/**
 * A body field: lists become repeated fields in form and multipart bodies, arrays in JSON.
 *
 * @internal
 */
export type Field = readonly [name: string, value: string | ReadonlyArray<string>]

/**
 * The fields flattened into (name, value) pairs, lists repeated in order.
 *
 * @internal
 */
export const pairsOf = (fields: ReadonlyArray<Field>): ReadonlyArray<readonly [string, string]> =>
  fields.flatMap(([name, value]) =>
    typeof value === "string" ? [[name, value] as const] : value.map((item) => [name, item] as const)
  )

/**
 * An encoded body: its bytes and its `Content-Type`.
 *
 * @internal
 */
export interface EncodedBody {
  readonly bytes: Uint8Array
  readonly contentType: string
}

const utf8 = new TextEncoder()

/**
 * A boundary of 32 random hex digits behind a fixed prefix: 45 characters, all RFC 2046 `bchars`.
 *
 * @internal
 */
export const randomBoundary = (): string => {
  const random = new Uint8Array(16)
  globalThis.crypto.getRandomValues(random)
  return `effect-oauth-${Array.from(random, (byte) => byte.toString(16).padStart(2, "0")).join("")}`
}

// The WHATWG HTML "multipart/form-data encoding algorithm" escapes a field name's quote and line breaks this way,
// which is what browsers, undici and busboy expect.
const escapeName = (name: string): string => name.replace(/"/g, "%22").replace(/\r/g, "%0D").replace(/\n/g, "%0A")

/**
 * A `multipart/form-data` body (RFC 7578): one part per pair, each with `Content-Disposition: form-data;
 * name="…"` and the value as UTF-8 bytes (no per-part content type, as `curl -F` and browsers send text fields),
 * framed by CRLF and a random boundary that no value contains. Encoded here, as bytes, rather than handed to the
 * platform as a `FormData`, which not every `HttpClient` implementation can send (undici's `layerUndici` fails with
 * "action is not a function").
 *
 * @internal
 */
export const multipart = (
  pairs: ReadonlyArray<readonly [string, string]>,
  boundary: () => string = randomBoundary
): EncodedBody => {
  let chosen = boundary()
  // A collision is a 2^-128 event, but checking costs nothing and makes the framing unconditionally correct.
  while (pairs.some(([name, value]) => name.includes(chosen) || value.includes(chosen))) chosen = boundary()
  const text =
    pairs.map(([name, value]) =>
      `--${chosen}\r\nContent-Disposition: form-data; name="${escapeName(name)}"\r\n\r\n${value}\r\n`
    ).join("") + `--${chosen}--\r\n`
  return { bytes: utf8.encode(text), contentType: `multipart/form-data; boundary=${chosen}` }
}

/**
 * What a capped read produced: the bytes read (at most the cap) and whether the body went on beyond the cap.
 *
 * @internal
 */
export interface CappedBody {
  readonly bytes: Uint8Array
  readonly truncated: boolean
}

/**
 * Reads a body stream keeping at most `maxBytes` bytes: once the body goes beyond the cap, reading stops (the
 * stream is interrupted, which cancels the underlying reader and drops the connection) and the result says
 * `truncated`. Memory stays bounded by the cap whatever the server sends, and counting the bytes as they arrive
 * also bounds a compressed body that the platform inflates transparently (fetch does).
 *
 * @internal
 */
export const readCapped = <E, R>(
  stream: Stream.Stream<Uint8Array, E, R>,
  maxBytes: number
): Effect.Effect<CappedBody, E, R> =>
  Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let size = 0
    let truncated = false
    return stream.pipe(
      Stream.runForEachWhile((chunk) =>
        Effect.sync(() => {
          if (size + chunk.length > maxBytes) {
            chunks.push(chunk.subarray(0, maxBytes - size))
            size = maxBytes
            truncated = true
            return false
          }
          chunks.push(chunk)
          size += chunk.length
          return true
        })
      ),
      Effect.map(() => {
        const bytes = new Uint8Array(size)
        let offset = 0
        for (const chunk of chunks) {
          bytes.set(chunk, offset)
          offset += chunk.length
        }
        return { bytes, truncated }
      })
    )
  })

/**
 * The bytes as UTF-8 text (malformed sequences become U+FFFD, never an exception).
 *
 * @internal
 */
export const decodeText = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
