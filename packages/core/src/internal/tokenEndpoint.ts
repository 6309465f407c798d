import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import {
  InvalidCredentials,
  TokenEndpointUnavailable,
  type TokenError,
  TokenRequestRejected,
  TokenResponseInvalid
} from "../OAuthError.js"

// Enough for an error_description; a server's whole HTML page is not.
const maxTextLength = 200

/**
 * One value serialised as `application/x-www-form-urlencoded` (spaces as `+`, everything but `*-._` and
 * alphanumerics percent-encoded), which RFC 6749 §2.3.1 asks for before HTTP Basic. URLSearchParams is the WHATWG
 * serialiser itself, available in every runtime the core targets.
 *
 * @internal
 */
export const formEncode = (value: string): string => new URLSearchParams([["", value]]).toString().slice(1)

// RFC 9110 §5.6.7: IMF-fixdate and the obsolete RFC 850 form both end in GMT; asctime carries no zone but means GMT.
// Date.parse alone is too lenient ("1.5" is a date to it), so only these shapes reach it.
const gmtDate = /^[A-Za-z]{3,9}, \d{2}[ -][A-Za-z]{3}[ -]\d{2,4} \d{2}:\d{2}:\d{2} GMT$/
const asctimeDate = /^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/

/** @internal */
export const parseRetryAfter = (value: string | undefined, now: number): Duration.Duration | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Duration.seconds(Number(trimmed))
  const date = gmtDate.test(trimmed)
    ? Date.parse(trimmed)
    : asctimeDate.test(trimmed)
    ? Date.parse(`${trimmed} GMT`)
    : Number.NaN
  return Number.isNaN(date) ? undefined : Duration.millis(Math.max(0, date - now))
}

/**
 * Makes server-provided or platform-provided text safe to put into an error: every sensitive string replaced by
 * `<redacted>` (before truncating, so no fragment of a secret survives a cut), control characters flattened (no log
 * injection), and at most `maxTextLength` characters.
 *
 * @internal
 */
export const sanitizeText = (text: string, sensitive: ReadonlyArray<string>): string => {
  let out = text
  for (const secret of sensitive) {
    if (secret.length > 0) out = out.split(secret).join("<redacted>")
  }
  out = out.replace(/\p{Cc}+/gu, " ")
  return out.length > maxTextLength ? `${out.slice(0, maxTextLength)}…` : out
}

const sanitizeOptional = (text: string | undefined, sensitive: ReadonlyArray<string>): string | undefined =>
  text === undefined ? undefined : sanitizeText(text, sensitive)

/**
 * Applies `sanitizeText` to every free-text field of an error, whoever built it (the default classifier, a
 * provider's classifier, the transport mapping), so one place guarantees no secret leaves `request`.
 *
 * @internal
 */
export const sanitizeError = (error: TokenError, sensitive: ReadonlyArray<string>): TokenError => {
  switch (error._tag) {
    case "InvalidCredentials":
      return new InvalidCredentials({
        status: error.status,
        error: sanitizeOptional(error.error, sensitive),
        description: sanitizeOptional(error.description, sensitive)
      })
    case "TokenRequestRejected":
      return new TokenRequestRejected({
        status: error.status,
        error: sanitizeOptional(error.error, sensitive),
        description: sanitizeOptional(error.description, sensitive)
      })
    case "TokenEndpointUnavailable":
      return new TokenEndpointUnavailable({
        reason: error.reason,
        status: error.status,
        retryAfter: error.retryAfter,
        detail: sanitizeOptional(error.detail, sensitive)
      })
    case "TokenResponseInvalid":
      return new TokenResponseInvalid({ status: error.status, issue: sanitizeText(error.issue, sensitive) })
  }
}

/** @internal */
export const parseJson = (text: string): Option.Option<unknown> => {
  try {
    return Option.some(JSON.parse(text))
  } catch {
    return Option.none()
  }
}

/**
 * What a body was, without any of its content: `text/html (1532 bytes)`.
 *
 * @internal
 */
export const describeBody = (contentType: string | undefined, text: string): string =>
  text.length === 0
    ? "an empty body"
    : `${contentType ?? "no content type"} (${new TextEncoder().encode(text).length} bytes)`

/**
 * A short message from a transport failure's cause chain (`fetch failed: connect ECONNREFUSED 127.0.0.1:1`). Only
 * messages are read: the platform error itself holds the request, whose body may contain the secret.
 *
 * @internal
 */
export const describeCause = (cause: unknown): string => {
  const messages: Array<string> = []
  let current = cause
  while (messages.length < 3 && Predicate.hasProperty(current, "message") && typeof current.message === "string") {
    messages.push(current.message)
    current = Predicate.hasProperty(current, "cause") ? current.cause : undefined
  }
  return messages.length === 0 ? "transport error" : messages.join(": ")
}

const kindOf = (value: unknown): string =>
  value === null
    ? "null"
    : Array.isArray(value)
    ? "an array"
    : typeof value === "object"
    ? "an object"
    : typeof value === "undefined"
    ? "nothing"
    : `a ${typeof value}`

const valueAt = (input: unknown, path: ReadonlyArray<PropertyKey>): unknown =>
  path.reduce<unknown>((value, key) => (Predicate.isObject(value) ? (value as any)[key] : undefined), input)

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.length === 0
    ? "body"
    : path.map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`)).join("")

/**
 * A parse failure described by path and kind of problem only, never by value: the schema's own messages quote the
 * actual input ("Expected string, actual …"), which may be the access token. `hints` (keyed by path, `body` for the
 * root) say what was expected for fields whose schema the library knows.
 *
 * @internal
 */
export const describeParseError = (
  error: ParseResult.ParseError,
  input: unknown,
  hints: Readonly<Record<string, string>>
): string => {
  const byPath = new Map<string, { readonly path: ReadonlyArray<PropertyKey>; readonly tags: Set<string> }>()
  for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
    const key = formatPath(issue.path)
    const entry = byPath.get(key) ?? { path: issue.path, tags: new Set<string>() }
    entry.tags.add(issue._tag)
    byPath.set(key, entry)
  }
  return Array.from(byPath, ([key, { path, tags }]) => {
    if (tags.has("Missing")) return `${key}: is missing`
    if (tags.has("Unexpected")) return `${key}: is not allowed`
    return `${key}: ${hints[key] ?? "is invalid"}, got ${kindOf(valueAt(input, path))}`
  }).join("; ")
}
