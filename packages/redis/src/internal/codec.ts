/**
 * How a token is written to Redis and read back. A stored value is `<digest>:<payload>`: the digest is the SHA-256
 * of the token value (what compare-and-delete compares, so it works with encryption too), the payload the encoded
 * `AccessToken` as JSON (`p1:`), or that JSON sealed with AES-256-GCM (`e1:`), authenticated with the Redis key name
 * so a value cannot be moved to another client's key. Times are not trusted across machines: the reader rebases
 * the token on the remaining lifetime Redis reports (its TTL) and its own clock.
 *
 * @internal
 */
import { AccessToken } from "@effect-oauth/core/AccessToken"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Crypto from "./crypto.js"

/**
 * What a stored value turned out to be: a token; `Absent` (not a value this library wrote, or a plaintext value
 * while encryption is on: the next fetch replaces it); `Unreadable` (sealed with a key this process does not hold).
 *
 * @internal
 */
export type Opened = Data.TaggedEnum<{
  Token: { readonly token: AccessToken }
  Absent: {}
  Unreadable: {}
}>

/** @internal */
export const Opened = Data.taggedEnum<Opened>()

/** @internal */
export interface Codec {
  readonly encrypted: boolean
  readonly digest: (token: AccessToken) => Effect.Effect<string>
  readonly seal: (token: AccessToken, context: string) => Effect.Effect<string>
  readonly open: (value: string, context: string, remainingMillis: number, now: number) => Effect.Effect<Opened>
}

const Json = Schema.parseJson(AccessToken)
const encodeJson = Schema.encode(Json)
const decodeJson = Schema.decodeUnknownOption(Json)
const digestLength = 64

/** A codec sealing with the first of `keys` and opening with any; plaintext JSON without keys. @internal */
export const make = (keys: ReadonlyArray<CryptoKey>): Codec => {
  const first = keys[0]
  const digest = (token: AccessToken) => Crypto.sha256Hex(Redacted.value(token.value))

  const seal = (token: AccessToken, context: string) =>
    Effect.gen(function*() {
      const json = yield* Effect.orDie(encodeJson(token))
      const payload = first === undefined ? `p1:${json}` : `e1:${yield* Crypto.encrypt(first, json, context)}`
      return `${yield* digest(token)}:${payload}`
    })

  const open = (value: string, context: string, remainingMillis: number, now: number): Effect.Effect<Opened> =>
    Effect.gen(function*() {
      if (value.charAt(digestLength) !== ":") return Opened.Absent()
      const payload = value.slice(digestLength + 1)
      let json: string
      if (payload.startsWith("e1:")) {
        if (first === undefined) return Opened.Unreadable()
        const plain = yield* Crypto.decrypt(keys, payload.slice(3), context)
        if (Option.isNone(plain)) return Opened.Unreadable()
        json = plain.value
      } else if (payload.startsWith("p1:") && first === undefined) {
        json = payload.slice(3)
      } else {
        return Opened.Absent()
      }
      const decoded = decodeJson(json)
      if (Option.isNone(decoded) || !(remainingMillis > 0)) return Opened.Absent()
      const stored = decoded.value
      const expiresAt = now + remainingMillis
      return Opened.Token({
        token: new AccessToken({
          value: stored.value,
          tokenType: stored.tokenType,
          issuedAt: expiresAt - Math.max(0, stored.lifetimeMillis),
          expiresAt,
          scope: stored.scope,
          serverCreatedAt: stored.serverCreatedAt
        })
      })
    })

  return { encrypted: first !== undefined, digest, seal, open }
}

/**
 * The digest part of a stored value as the claim script computes it: the first 64 characters when a `:` follows
 * them, else empty (no token, or not a value of this library).
 *
 * @internal
 */
export const digestOf = (value: unknown): string =>
  typeof value === "string" && value.charAt(digestLength) === ":" ? value.slice(0, digestLength) : ""
