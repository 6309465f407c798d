/**
 * Web Crypto helpers: SHA-256 digests and AES-256-GCM encryption with a list of keys (encrypt with the first,
 * decrypt with any, for rotation). Nothing here logs or returns key material.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

const hex = (bytes: ArrayBuffer): string =>
  Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, "0")).join("")

/** The lowercase hex SHA-256 of a string's UTF-8 bytes. @internal */
export const sha256Hex = (text: string): Effect.Effect<string> =>
  Effect.promise(() => globalThis.crypto.subtle.digest("SHA-256", encoder.encode(text))).pipe(Effect.map(hex))

/** Standard base64 of bytes. @internal */
export const toBase64 = (bytes: Uint8Array): string => {
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** Bytes of standard base64 (padding required), or none when the text is not base64. @internal */
export const fromBase64 = (text: string): Option.Option<Uint8Array<ArrayBuffer>> => {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return Option.none()
  return Option.some(Uint8Array.from(atob(text), (char) => char.charCodeAt(0)))
}

/** The raw bytes of a 256-bit key given as base64, or none. @internal */
export const keyBytes = (text: string): Option.Option<Uint8Array<ArrayBuffer>> =>
  Option.filter(fromBase64(text.trim()), (bytes) => bytes.length === 32)

/** Imports raw 32-byte keys for AES-GCM (not extractable). @internal */
export const importKeys = (keys: ReadonlyArray<Uint8Array<ArrayBuffer>>): Effect.Effect<ReadonlyArray<CryptoKey>> =>
  Effect.forEach(
    keys,
    (bytes) =>
      Effect.promise(() =>
        globalThis.crypto.subtle.importKey("raw", bytes, { name: "AES-GCM" }, false, ["encrypt", "decrypt"])
      )
  )

/**
 * Encrypts `plaintext` with `key` (a fresh 96-bit IV; `context` is authenticated, not stored): `<iv>.<ciphertext>`
 * in base64.
 *
 * @internal
 */
export const encrypt = (key: CryptoKey, plaintext: string, context: string): Effect.Effect<string> =>
  Effect.promise(async () => {
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(12))
    const sealed = await globalThis.crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: encoder.encode(context) },
      key,
      encoder.encode(plaintext)
    )
    return `${toBase64(iv)}.${toBase64(new Uint8Array(sealed))}`
  })

/**
 * Decrypts what `encrypt` produced with the first of `keys` that authenticates it; none when no key does or the
 * text is malformed.
 *
 * @internal
 */
export const decrypt = (
  keys: ReadonlyArray<CryptoKey>,
  sealed: string,
  context: string
): Effect.Effect<Option.Option<string>> => {
  const [ivText, dataText, ...rest] = sealed.split(".")
  const iv = fromBase64(ivText ?? "")
  const data = fromBase64(dataText ?? "")
  if (rest.length > 0 || Option.isNone(iv) || Option.isNone(data) || iv.value.length !== 12) {
    return Effect.succeedNone
  }
  return Effect.promise(async () => {
    for (const key of keys) {
      try {
        const plain = await globalThis.crypto.subtle.decrypt(
          { name: "AES-GCM", iv: iv.value, additionalData: encoder.encode(context) },
          key,
          data.value
        )
        return Option.some(decoder.decode(plain))
      } catch {
        // Not this key: try the next one.
      }
    }
    return Option.none<string>()
  })
}
