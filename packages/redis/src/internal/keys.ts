/**
 * Redis key names for one slot: readable (token URL host and path, client id, scope) and safe (no spaces, braces or
 * control characters; bounded length), unique (a digest of the whole slot key), and in one Cluster hash slot (the
 * name sits inside `{…}`, so the token, its lease and its scripts stay on one node). The slot key never holds a secret.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { sha256Hex } from "./crypto.js"

/** @internal */
export interface Names {
  readonly token: string
  readonly lease: string
  readonly channel: string
}

const maxReadable = 120

// Characters carried as they are; anything else (spaces, braces, quotes, control and non-ASCII characters) is
// percent-encoded. Separating spaces of the slot key become ";".
const readable = (key: string): string => {
  const withoutScheme = key.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "")
  let out = ""
  for (const char of withoutScheme) {
    if (/^[A-Za-z0-9._~:/=@+%,-]$/.test(char)) out += char
    else if (char === " ") out += ";"
    else {
      for (const byte of new TextEncoder().encode(char)) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`
    }
  }
  return out.length > maxReadable ? out.slice(0, maxReadable) : out
}

/**
 * The names of a slot's token key, lease key and change channel under `prefix`, e.g.
 * `effect-oauth:{auth.example.com/oauth/token;client_id=app;scope=read;9f86d081884c7d65}:token`.
 *
 * @internal
 */
export const names = (prefix: string, key: string): Effect.Effect<Names> =>
  Effect.map(sha256Hex(key), (digest) => {
    const base = `${prefix}{${readable(key)};${digest.slice(0, 16)}}`
    return { token: `${base}:token`, lease: `${base}:lease`, channel: `${base}:changes` }
  })
