import * as Duration from "effect/Duration"
import * as EffectEncoding from "effect/Encoding"
import * as Predicate from "effect/Predicate"
import {
  InvalidCredentials,
  TokenEndpointUnavailable,
  type TokenError,
  TokenRequestRejected,
  TokenResponseInvalid
} from "../OAuthError.js"
import type { ErrorResponse } from "../TokenEndpoint.js"
import { formEncode } from "./body.js"

// Enough for an error_description; a server's whole HTML page is not.
const maxTextLength = 200

/**
 * The longest delay a `Retry-After` is read as: 10 minutes.
 *
 * @internal
 */
export const maxRetryAfter: Duration.Duration = Duration.minutes(10)

// RFC 9110 §5.6.7: IMF-fixdate and the obsolete RFC 850 form both end in GMT; asctime carries no zone but means GMT.
// Date.parse alone is too lenient ("1.5" is a date to it), so only these shapes reach it.
const gmtDate = /^[A-Za-z]{3,9}, \d{2}[ -][A-Za-z]{3}[ -]\d{2,4} \d{2}:\d{2}:\d{2} GMT$/
const asctimeDate = /^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/
const maxRetryAfterMillis = Duration.toMillis(maxRetryAfter)

/**
 * `TokenEndpoint.parseRetryAfter`: delta-seconds or an HTTP-date, clamped to `maxRetryAfter`.
 *
 * @internal
 */
export const parseRetryAfter = (value: string | undefined, now: number): Duration.Duration | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  // A 400-digit delta is `Infinity` as a number: every delay is clamped, so none outlives `maxRetryAfter`.
  if (/^\d+$/.test(trimmed)) return Duration.millis(Math.min(Number(trimmed) * 1000, maxRetryAfterMillis))
  const date = gmtDate.test(trimmed)
    ? Date.parse(trimmed)
    : asctimeDate.test(trimmed)
    ? Date.parse(`${trimmed} GMT`)
    : Number.NaN
  return Number.isNaN(date) ? undefined : Duration.millis(Math.min(Math.max(0, date - now), maxRetryAfterMillis))
}

/**
 * Every form the client itself gave the secret on the wire, so that a server echoing any of them is scrubbed:
 * raw (as in a multipart part), form-encoded (form bodies, RFC 6749 §2.3.1 Basic), percent-encoded
 * (`encodeURIComponent`), JSON-escaped (a JSON body), and the Basic credentials of both Basic variants. Longest
 * first, so a form containing another is replaced whole.
 *
 * @internal
 */
export const sensitiveForms = (clientId: string, secret: string): ReadonlyArray<string> => {
  const forms = new Set([
    secret,
    formEncode(secret),
    encodeURIComponent(secret),
    JSON.stringify(secret).slice(1, -1),
    EffectEncoding.encodeBase64(`${formEncode(clientId)}:${formEncode(secret)}`),
    EffectEncoding.encodeBase64(`${clientId}:${secret}`)
  ])
  return Array.from(forms).filter((form) => form.length > 0).sort((a, b) => b.length - a.length)
}

/**
 * Makes server-provided or platform-provided text safe to put into an error: every sensitive string replaced by
 * `<redacted>` (before truncating, so no fragment of a secret survives a cut), control characters flattened (no log
 * injection), and at most `maxTextLength` characters.
 *
 * @internal
 */
export const sanitizeText = (text: string, sensitive: ReadonlyArray<string>, maxLength = maxTextLength): string => {
  let out = text
  for (const secret of sensitive) {
    if (secret.length > 0) out = out.split(secret).join("<redacted>")
  }
  out = out.replace(/\p{Cc}+/gu, " ")
  return out.length > maxLength ? `${out.slice(0, maxLength)}…` : out
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

/**
 * What a body was, without any of its content: `text/html (1532 bytes)`, or `text/html (more than 65536 bytes)`
 * when reading stopped at the cap.
 *
 * @internal
 */
export const describeBody = (contentType: string | undefined, text: string, truncated = false): string => {
  const type = sanitizeText(contentType ?? "no content type", [], 100)
  if (truncated) return `${type} (more than ${utf8Length(text)} bytes)`
  return text.length === 0 ? "an empty body" : `${type} (${utf8Length(text)} bytes)`
}

const utf8Length = (text: string): number => new TextEncoder().encode(text).length

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

const rfc6749Errors: ReadonlySet<string> = new Set([
  "invalid_request",
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_scope"
])

const bodyString = (body: unknown, key: string): string | undefined => {
  const value = Predicate.isRecord(body) ? body[key] : undefined
  return typeof value === "string" ? value : undefined
}

/**
 * `TokenEndpoint.classifyRfc6749Error`: the RFC 6749 §5.2 classification of a non-2xx answer.
 *
 * @internal
 */
export const classifyRfc6749Error = (response: ErrorResponse): TokenError => {
  const { status } = response
  const error = bodyString(response.body, "error")
  const description = bodyString(response.body, "error_description")
  if (status === 429 || status === 408 || status >= 500) {
    return new TokenEndpointUnavailable({
      reason: status === 429 ? "RateLimited" : "ServerError",
      status,
      retryAfter: parseRetryAfter(response.headers["retry-after"], response.receivedAt),
      detail: error !== undefined
        ? description === undefined ? error : `${error}: ${description}`
        : typeof response.body === "string"
        ? describeBody(response.headers["content-type"], response.body, response.truncated === true)
        : undefined
    })
  }
  const recognised = error !== undefined && rfc6749Errors.has(error)
  if (
    error === "invalid_client" || error === "unauthorized_client" || ((status === 401 || status === 403) && !recognised)
  ) {
    return new InvalidCredentials({ status, error, description })
  }
  return new TokenRequestRejected({ status, error, description })
}
