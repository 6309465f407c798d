import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { AccessToken } from "../AccessToken.js"
import { TokenResponseInvalid } from "../OAuthError.js"
import type { TokenResponse } from "../TokenEndpoint.js"

/**
 * The shortest lifetime a token response may announce: 1 second. Anything shorter is no lifetime a client can use
 * (and would make a refresh loop of the manager), so it is refused as `TokenResponseInvalid`.
 *
 * @internal
 */
export const minLifetimeSeconds = 1

/**
 * The same floor for tokens from any `TokenEndpoint` implementation (a custom one, a store): a token that is dead on
 * arrival would make every `get` a token request.
 *
 * @internal
 */
export const checkLifetime = (token: AccessToken): Exit.Exit<AccessToken, TokenResponseInvalid> =>
  Number.isFinite(token.issuedAt) && Number.isFinite(token.expiresAt) &&
    token.lifetimeMillis >= minLifetimeSeconds * 1000
    ? Exit.succeed(token)
    : Exit.fail(
      new TokenResponseInvalid({
        status: 200,
        issue: `the token endpoint returned a token living ${
          Number.isFinite(token.lifetimeMillis) ? `${token.lifetimeMillis} ms` : "an invalid time"
        }; the minimum is ${minLifetimeSeconds} second`
      })
    )

const ExpiresIn = Schema.Union(Schema.Number, Schema.NumberFromString).pipe(
  Schema.filter((seconds) => Number.isFinite(seconds) && seconds >= minLifetimeSeconds)
)

/**
 * `TokenEndpoint.TokenResponseSchema`: the RFC 6749 §5.1 success body.
 *
 * @internal
 */
export const TokenResponseSchema = Schema.Struct({
  accessToken: Schema.propertySignature(Schema.Redacted(Schema.NonEmptyString)).pipe(Schema.fromKey("access_token")),
  tokenType: Schema.optionalWith(Schema.String, { nullable: true, default: () => "Bearer" }).pipe(
    Schema.fromKey("token_type")
  ),
  expiresIn: Schema.optionalWith(ExpiresIn, { nullable: true, as: "Option" }).pipe(Schema.fromKey("expires_in")),
  scope: Schema.optionalWith(Schema.String, { nullable: true, as: "Option" }),
  createdAt: Schema.optionalToRequired(Schema.Unknown, Schema.OptionFromSelf(Schema.Number), {
    decode: (createdAt) => Option.filter(createdAt, (u): u is number => typeof u === "number" && Number.isFinite(u)),
    encode: (createdAt) => createdAt
  }).pipe(Schema.fromKey("created_at"))
})

/**
 * What `TokenResponseSchema` expects per field, for issues that must not quote the (possibly secret) actual value.
 *
 * @internal
 */
export const responseHints: Readonly<Record<string, string>> = {
  body: "expected a JSON object",
  access_token: "expected a non-empty string",
  token_type: "expected a string",
  expires_in: `expected a positive number of seconds, at least ${minLifetimeSeconds} (a number or a numeric string)`,
  scope: "expected a string"
}

/**
 * The text as JSON, or none when it is not JSON (never an exception).
 *
 * @internal
 */
export const parseJson = (text: string): Option.Option<unknown> => {
  try {
    return Option.some(JSON.parse(text))
  } catch {
    return Option.none()
  }
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

// RFC 6749 A.12: access-token = 1*VSCHAR, VSCHAR = %x20-7E. Anything else (CR/LF, NUL, non-ASCII) cannot go into an
// Authorization header: fetch would fail every API call quoting it, node:http would throw.
const vschars = /^[\x20-\x7E]+$/

// A token type is not secret, but it is server text: shown only when short and printable.
const describeTokenType = (tokenType: string, accessToken: string): string =>
  tokenType.length <= 40 && /^[\x21-\x7E]+$/.test(tokenType) && !tokenType.includes(accessToken)
    ? `"${tokenType}"`
    : `a string of ${tokenType.length} characters`

/**
 * Checks what any response schema (the default or a provider's) decoded and turns it into an `AccessToken`:
 * `access_token` must be `1*VSCHAR` (RFC 6749 A.12; the issue never quotes it), `token_type` must be `Bearer`
 * in any case (RFC 6749 §7.1: a client must not use a token type it does not understand; RFC 6750), and the
 * lifetime (`expires_in`, else `defaultLifetimeMillis`) must be finite and at least `minLifetimeSeconds`. Times come
 * from `receivedAt`, the local `Clock` at receipt.
 *
 * @internal
 */
export const toAccessToken = (
  status: number,
  response: TokenResponse,
  receivedAt: number,
  defaultLifetimeMillis: number
): Effect.Effect<AccessToken, TokenResponseInvalid> => {
  const value = Redacted.value(response.accessToken)
  if (typeof value !== "string" || !vschars.test(value)) {
    return Effect.fail(
      new TokenResponseInvalid({
        status,
        issue: "access_token: expected 1*VSCHAR (printable ASCII, RFC 6749 A.12), got other characters"
      })
    )
  }
  if (typeof response.tokenType !== "string" || response.tokenType.toLowerCase() !== "bearer") {
    const type = typeof response.tokenType === "string" ? describeTokenType(response.tokenType, value) : "nothing"
    return Effect.fail(
      new TokenResponseInvalid({
        status,
        issue: `token_type: expected Bearer (RFC 6750), got ${type}, which this client does not support`
      })
    )
  }
  const lifetimeMillis = Option.match(response.expiresIn, {
    onNone: () => defaultLifetimeMillis,
    onSome: (seconds) => seconds * 1000
  })
  // A custom schema may let a short or non-positive value through, and a huge one overflows: neither is a lifetime.
  if (!(Number.isFinite(lifetimeMillis) && lifetimeMillis >= minLifetimeSeconds * 1000)) {
    return Effect.fail(new TokenResponseInvalid({ status, issue: `expires_in: ${responseHints.expires_in}` }))
  }
  return Effect.succeed(
    new AccessToken({
      value: response.accessToken,
      tokenType: response.tokenType,
      issuedAt: receivedAt,
      expiresAt: receivedAt + lifetimeMillis,
      scope: response.scope,
      serverCreatedAt: Option.map(response.createdAt, (seconds) => seconds * 1000)
    })
  )
}
