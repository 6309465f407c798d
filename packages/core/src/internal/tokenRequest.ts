import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as EffectEncoding from "effect/Encoding"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { TokenError } from "../OAuthError.js"
import type { AuthMethod, Encoding, ErrorResponse, Options, TokenResponse } from "../TokenEndpoint.js"
import { type Field, formEncode, multipart, pairsOf } from "./body.js"
import { sensitiveForms } from "./tokenErrors.js"
import { minLifetimeSeconds, responseHints, TokenResponseSchema } from "./tokenResponse.js"
import { parseSecureUrl } from "./url.js"

/**
 * The options of `TokenEndpoint.make`, checked once and resolved into everything a request needs: nothing
 * downstream re-reads or re-parses the options.
 *
 * @internal
 */
export interface Settings {
  readonly url: URL
  readonly authMethod: AuthMethod
  readonly encoding: Encoding
  readonly timeout: Duration.Duration
  readonly defaultLifetimeMillis: number
  readonly maxResponseBytes: number
  readonly request: HttpClientRequest.HttpClientRequest
  readonly sensitive: ReadonlyArray<string>
  readonly key: string
  readonly schema: Schema.Schema<TokenResponse, any>
  readonly hints: Readonly<Record<string, string>>
  readonly classifyError: ((response: ErrorResponse) => TokenError | undefined) | undefined
}

/**
 * The default `maxResponseBytes`: 64 KiB, a hundred times a typical token response.
 *
 * @internal
 */
export const defaultMaxResponseBytes = 64 * 1024

const authMethods: ReadonlyArray<AuthMethod> = [
  "client_secret_basic",
  "client_secret_basic_plain",
  "client_secret_post"
]
const encodings: ReadonlyArray<Encoding> = ["form", "multipart", "json"]
const reservedParams: ReadonlySet<string> = new Set([
  "grant_type",
  "client_id",
  "client_secret",
  "scope",
  "audience",
  "resource"
])

const headerName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const headerValue = /^[\t\x20-\x7E\x80-\xFF]*$/

const fail = (path: ReadonlyArray<string>, message: string): Either.Either<never, ConfigError.ConfigError> =>
  Either.left(ConfigError.InvalidData([...path], message))

const isStringList = (u: unknown): u is ReadonlyArray<string> =>
  Array.isArray(u) && u.every((item) => typeof item === "string")

const stringOrList = (field: string, u: unknown) =>
  u === undefined || typeof u === "string" || isStringList(u)
    ? Either.right(u)
    : fail([field], `${field} must be a string or a list of strings`)

const stringRecord = (field: string, u: unknown) =>
  Either.gen(function*() {
    if (u === undefined) return {}
    if (!Predicate.isRecord(u)) return yield* fail([field], `${field} must be an object of strings`)
    for (const [key, value] of Object.entries(u)) {
      if (typeof value !== "string") return yield* fail([field, key], `${field}.${key} must be a string`)
    }
    return u as Readonly<Record<string, string>>
  })

const duration = (
  field: string,
  input: unknown,
  fallback: Duration.Duration,
  min: Duration.Duration,
  max: Duration.Duration
) => {
  const decoded = input === undefined ? Option.some(fallback) : Duration.decodeUnknown(input)
  if (
    !(Option.isSome(decoded) && Duration.isFinite(decoded.value) && Duration.greaterThan(decoded.value, Duration.zero))
  ) {
    return fail([field], `${field} must be a positive, finite duration`)
  }
  return Duration.lessThan(decoded.value, min)
    ? fail([field], `${field} must be at least ${Duration.format(min)}`)
    : Duration.greaterThan(decoded.value, max)
    ? fail([field], `${field} must be at most ${Duration.format(max)}`)
    : Either.right(decoded.value)
}

const secretOf = (u: unknown): Either.Either<string, ConfigError.ConfigError> => {
  const value = Redacted.isRedacted(u) ? Either.try(() => Redacted.value(u)) : Either.left(undefined)
  if (Either.isLeft(value) || typeof value.right !== "string") {
    return fail(["clientSecret"], "clientSecret must be a Redacted string")
  }
  return value.right.length === 0 ? fail(["clientSecret"], "clientSecret must not be empty") : Either.right(value.right)
}

const listOf = (value: string | ReadonlyArray<string> | undefined): ReadonlyArray<string> =>
  value === undefined ? [] : typeof value === "string" ? [value] : value

// FNV-1a, 32 bits twice (two offsets): a fingerprint, so header values (which may be API keys) reach no store key.
const fingerprint = (text: string): string => {
  let a = 0x811c9dc5
  let b = 0x01000193 ^ 0x5bd1e995
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x01000193 + 2)
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0")
}

// The canonical identity of the token: whatever decides which token the server issues (token URL with its query,
// client id, scope, audience, resource, extra fields, extra headers), never the secret. Sorted, so the order options
// were written in does not matter; header values only as a fingerprint.
const keyOf = (
  url: URL,
  clientId: string,
  scope: string | undefined,
  audience: string | undefined,
  resource: ReadonlyArray<string>,
  extraParams: Readonly<Record<string, string>>,
  headers: Readonly<Record<string, string>>
) => {
  const parts = [`${url.origin}${url.pathname}${url.search}`, `client_id=${formEncode(clientId)}`]
  const scopes = Array.from(new Set((scope ?? "").split(" ").filter((s) => s.length > 0))).sort()
  if (scopes.length > 0) parts.push(`scope=${formEncode(scopes.join(" "))}`)
  if (audience !== undefined) parts.push(`audience=${formEncode(audience)}`)
  for (const item of [...resource].sort()) parts.push(`resource=${formEncode(item)}`)
  for (const [name, value] of Object.entries(extraParams).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    parts.push(`${formEncode(name)}=${formEncode(value)}`)
  }
  const headerLines = Object.entries(headers).map(([name, value]) => `${name.toLowerCase()}:${value}`).sort()
  if (headerLines.length > 0) parts.push(`headers=${fingerprint(headerLines.join("\n"))}`)
  return parts.join(" ")
}

/**
 * Checks the options once, when the endpoint is built, so a misconfiguration fails the layer naming the option,
 * before any request (and before a secret goes anywhere it should not, such as plain HTTP). Values of the wrong
 * type, as plain JavaScript can pass, are reported the same way: no exception escapes.
 *
 * @internal
 */
export const resolve = (options: Options): Either.Either<Settings, ConfigError.ConfigError> =>
  Either.gen(function*() {
    if (!Predicate.isRecord(options)) return yield* fail([], "the token endpoint options must be an object")
    const url = yield* parseSecureUrl(options.tokenUrl, ["tokenUrl"])
    const authMethod = options.authMethod ?? "client_secret_basic"
    if (!authMethods.includes(authMethod)) {
      return yield* fail(["authMethod"], `authMethod must be one of ${authMethods.join(", ")}`)
    }
    const encoding = options.encoding ?? "form"
    if (!encodings.includes(encoding)) {
      return yield* fail(["encoding"], `encoding must be one of ${encodings.join(", ")}`)
    }
    const clientId: unknown = options.clientId
    if (typeof clientId !== "string") return yield* fail(["clientId"], "clientId must be a string")
    if (clientId.length === 0) return yield* fail(["clientId"], "clientId must not be empty")
    if (authMethod === "client_secret_basic_plain" && clientId.includes(":")) {
      return yield* fail(
        ["clientId"],
        "clientId must not contain ':' with client_secret_basic_plain (use client_secret_basic)"
      )
    }
    const secret = yield* secretOf(options.clientSecret)
    const scopeOption = yield* stringOrList("scope", options.scope)
    const scope = typeof scopeOption === "string" ? scopeOption : scopeOption?.join(" ")
    const audience: unknown = options.audience
    if (audience !== undefined && typeof audience !== "string") {
      return yield* fail(["audience"], "audience must be a string")
    }
    const resource = yield* stringOrList("resource", options.resource)
    const extraParams = yield* stringRecord("extraParams", options.extraParams)
    for (const key of Object.keys(extraParams)) {
      if (reservedParams.has(key)) {
        return yield* fail(["extraParams", key], `extraParams must not set ${key}: it is set by the endpoint's options`)
      }
    }
    const headers = yield* stringRecord("headers", options.headers)
    for (const [name, value] of Object.entries(headers)) {
      // RFC 9110 §5.1 and §5.5: a token for the name; no CR, LF or NUL in the value (they would split the header).
      if (!headerName.test(name)) return yield* fail(["headers", name], `headers.${name} is not a valid header name`)
      if (!headerValue.test(value)) {
        return yield* fail(["headers", name], `headers.${name} must not contain control characters`)
      }
    }
    if (options.responseSchema !== undefined && !Schema.isSchema(options.responseSchema)) {
      return yield* fail(["responseSchema"], "responseSchema must be a Schema")
    }
    if (options.classifyError !== undefined && typeof options.classifyError !== "function") {
      return yield* fail(["classifyError"], "classifyError must be a function")
    }
    const maxResponseBytes: unknown = options.maxResponseBytes ?? defaultMaxResponseBytes
    if (!(typeof maxResponseBytes === "number" && Number.isSafeInteger(maxResponseBytes) && maxResponseBytes > 0)) {
      return yield* fail(["maxResponseBytes"], "maxResponseBytes must be a positive whole number of bytes")
    }
    // At most 10 minutes: a token request has no business taking longer, and a timer beyond ~24.8 days would never
    // fire at all (timers are 32-bit), silently turning the timeout off.
    const timeout = yield* duration(
      "timeout",
      options.timeout,
      Duration.seconds(10),
      Duration.millis(1),
      Duration.minutes(10)
    )
    const defaultLifetime = yield* duration(
      "defaultLifetime",
      options.defaultLifetime,
      Duration.hours(1),
      Duration.seconds(minLifetimeSeconds),
      Duration.days(365)
    )

    const fields: Array<Field> = [["grant_type", "client_credentials"]]
    if (authMethod === "client_secret_post") fields.push(["client_id", clientId], ["client_secret", secret])
    if (scope !== undefined && scope.length > 0) fields.push(["scope", scope])
    if (audience !== undefined) fields.push(["audience", audience])
    if (resource !== undefined) fields.push(["resource", resource])
    fields.push(...Object.entries(extraParams))

    return {
      url,
      authMethod,
      encoding,
      timeout,
      defaultLifetimeMillis: Duration.toMillis(defaultLifetime),
      maxResponseBytes,
      request: buildRequest(url, encoding, fields, headers, basicCredentials(authMethod, clientId, secret)),
      sensitive: sensitiveForms(clientId, secret),
      key: keyOf(url, clientId, scope, audience, listOf(resource), extraParams, headers),
      schema: options.responseSchema ?? TokenResponseSchema,
      hints: options.responseSchema === undefined ? responseHints : {},
      classifyError: options.classifyError
    }
  })

const basicCredentials = (authMethod: AuthMethod, clientId: string, secret: string): string | undefined => {
  switch (authMethod) {
    case "client_secret_basic":
      return EffectEncoding.encodeBase64(`${formEncode(clientId)}:${formEncode(secret)}`)
    case "client_secret_basic_plain":
      return EffectEncoding.encodeBase64(`${clientId}:${secret}`)
    case "client_secret_post":
      return undefined
  }
}

const buildRequest = (
  url: URL,
  encoding: Encoding,
  fields: ReadonlyArray<Field>,
  headers: Readonly<Record<string, string>>,
  basic: string | undefined
): HttpClientRequest.HttpClientRequest => {
  const request = HttpClientRequest.post(url, { acceptJson: true }).pipe(
    HttpClientRequest.setHeaders(headers),
    basic === undefined ? (request) => request : HttpClientRequest.setHeader("authorization", `Basic ${basic}`)
  )
  switch (encoding) {
    case "form":
      return HttpClientRequest.bodyUrlParams(request, pairsOf(fields))
    case "multipart": {
      const body = multipart(pairsOf(fields))
      return HttpClientRequest.bodyUint8Array(request, body.bytes, body.contentType)
    }
    case "json":
      return HttpClientRequest.bodyUnsafeJson(request, Object.fromEntries(fields))
  }
}
