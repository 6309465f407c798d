/**
 * The store's options, checked once into one validated value: each invalid field is a `ConfigError.InvalidData`
 * naming it (never a throw), whatever the input (untyped JavaScript included).
 *
 * @internal
 */
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Crypto from "./crypto.js"

/** @internal */
export interface Resolved {
  readonly url: Redacted.Redacted<string> | undefined
  readonly prefix: string
  readonly leaseMillis: number
  readonly commandMillis: number
  readonly connectMillis: number
  readonly pollMillis: number
  readonly keys: ReadonlyArray<Uint8Array<ArrayBuffer>>
}

/** @internal */
export interface Input {
  readonly url?: unknown
  readonly client?: unknown
  readonly prefix?: unknown
  readonly leaseTime?: unknown
  readonly commandTimeout?: unknown
  readonly connectTimeout?: unknown
  readonly pollInterval?: unknown
  readonly encryptionKeys?: unknown
}

const invalid = (path: ReadonlyArray<string>, message: string) =>
  Effect.fail(ConfigError.InvalidData([...path], message))

const millis = (field: string, value: unknown, fallback: number, min: number, max: number) =>
  Effect.gen(function*() {
    if (value === undefined) return fallback
    const decoded = Duration.decodeUnknown(value)
    const ms = Option.map(decoded, Duration.toMillis)
    if (Option.isNone(ms) || !(ms.value >= min && ms.value <= max)) {
      return yield* invalid([field], `${field} must be a duration from ${min} ms to ${max} ms`)
    }
    return Math.round(ms.value)
  })

/**
 * Encryption keys from a list of redacted base64 strings, each 32 bytes once decoded; the error names `path` and the
 * index, never the value.
 *
 * @internal
 */
export const keys = (value: unknown, path: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    if (value === undefined) return []
    if (!Array.isArray(value)) return yield* invalid(path, `${path.join(".")} must be a list of keys`)
    const out: Array<Uint8Array<ArrayBuffer>> = []
    for (const [index, item] of value.entries()) {
      const text = Redacted.isRedacted(item) ? Redacted.value(item) : item
      const bytes = typeof text === "string" ? Crypto.keyBytes(text) : Option.none()
      if (Option.isNone(bytes)) {
        return yield* invalid(
          [...path, String(index)],
          `${path.join(".")}[${index}] must be 32 bytes in base64 (e.g. the output of \`openssl rand -base64 32\`)`
        )
      }
      out.push(bytes.value)
    }
    return out
  })

/** Checks every option; `url` is required unless a `client` is given. @internal */
export const resolve = (input: Input): Effect.Effect<Resolved, ConfigError.ConfigError> =>
  Effect.gen(function*() {
    if (typeof input !== "object" || input === null) return yield* invalid([], "the options must be an object")
    let url: Redacted.Redacted<string> | undefined
    if (input.client === undefined) {
      const text = Redacted.isRedacted(input.url) ? Redacted.value(input.url) : input.url
      if (typeof text !== "string" || !/^rediss?:\/\/|^unix:/.test(text) || !URL.canParse(text)) {
        return yield* invalid(["url"], "url must be a redis://, rediss:// or unix: URL (or give a client)")
      }
      url = Redacted.make(text)
    } else if (typeof input.client !== "object" || input.client === null) {
      return yield* invalid(["client"], "client must be a node-redis client")
    }
    const prefix = input.prefix ?? "effect-oauth:"
    if (typeof prefix !== "string" || /[\s{}]/.test(prefix) || prefix.length > 100) {
      return yield* invalid(["prefix"], "prefix must be a string of at most 100 characters without spaces or braces")
    }
    return {
      url,
      prefix,
      leaseMillis: yield* millis("leaseTime", input.leaseTime, 30_000, 100, 600_000),
      commandMillis: yield* millis("commandTimeout", input.commandTimeout, 500, 1, 60_000),
      connectMillis: yield* millis("connectTimeout", input.connectTimeout, 2_000, 1, 60_000),
      pollMillis: yield* millis("pollInterval", input.pollInterval, 1_000, 10, 600_000),
      keys: yield* keys(input.encryptionKeys, ["encryptionKeys"])
    } satisfies Resolved
  })
