import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { AuthMethod, Encoding } from "../Emulator.js"

/** Credentials from an `Authorization: Basic` header, as every (id, secret) reading the header allows. */
export interface BasicCredentials {
  /** The client id as RFC 6749 §2.3.1 decodes it (falls back to the raw text), for counters and the log. */
  readonly clientId: string | undefined
  readonly pairs: ReadonlyArray<readonly [id: string, secret: string]>
}

/** What a token request carried, before any flavor judges it. */
export interface TokenRequestInput {
  readonly method: string
  readonly path: string
  readonly contentType: string | undefined
  readonly encoding: Encoding
  /** Body fields as sent, secrets included: only flavors read this; the log gets `maskedFields`. */
  readonly fields: Readonly<Record<string, string>>
  readonly bodyError: Option.Option<string>
  readonly basic: Option.Option<BasicCredentials>
}

/** The path of a request URL, without its query. */
export const pathOf = (url: string): string => {
  const query = url.indexOf("?")
  return query === -1 ? url : url.slice(0, query)
}

const encodingOf = (contentType: string | undefined, bodyLength: number): Encoding => {
  const mediaType = contentType?.split(";")[0]?.trim().toLowerCase()
  if (mediaType === undefined || mediaType === "") return bodyLength === 0 ? "none" : "other"
  if (mediaType === "application/x-www-form-urlencoded") return "form"
  if (mediaType === "multipart/form-data") return "multipart"
  if (mediaType === "application/json" || mediaType.endsWith("+json")) return "json"
  return "other"
}

const fieldValue = (value: unknown): Option.Option<string> => {
  if (typeof value === "string") return Option.some(value)
  if (typeof value === "number" || typeof value === "boolean") return Option.some(String(value))
  if (value === null || value === undefined) return Option.none()
  return Option.some(JSON.stringify(value))
}

const parseJson = (text: string): Record<string, string> => {
  const parsed: unknown = JSON.parse(text)
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error("the JSON body is not an object")
  }
  const fields: Record<string, string> = {}
  for (const [key, value] of Object.entries(parsed)) {
    const field = fieldValue(value)
    if (Option.isSome(field)) fields[key] = field.value
  }
  return fields
}

const parseMultipart = async (body: ArrayBuffer, contentType: string): Promise<Record<string, string>> => {
  const form = await new Response(body, { headers: { "content-type": contentType } }).formData()
  const fields: Record<string, string> = {}
  for (const [key, value] of form.entries()) {
    if (!(key in fields)) fields[key] = typeof value === "string" ? value : await value.text()
  }
  return fields
}

const parseForm = (text: string): Record<string, string> => {
  const fields: Record<string, string> = {}
  for (const [key, value] of new URLSearchParams(text)) {
    if (!(key in fields)) fields[key] = value
  }
  return fields
}

const describe = (cause: unknown) => cause instanceof Error ? cause.message : String(cause)

const parseBody = (
  encoding: Encoding,
  contentType: string | undefined,
  body: ArrayBuffer
): Effect.Effect<Readonly<Record<string, string>>, string> => {
  switch (encoding) {
    case "form":
      return Effect.sync(() => parseForm(new TextDecoder().decode(body)))
    case "json":
      return Effect.try({ try: () => parseJson(new TextDecoder().decode(body)), catch: describe })
    case "multipart":
      return Effect.tryPromise({ try: () => parseMultipart(body, contentType ?? ""), catch: describe })
    case "other":
    case "none":
      return Effect.succeed({})
  }
}

// RFC 6749 §2.3.1: id and secret are form-urlencoded before being joined and base64-encoded.
const formDecode = (value: string): Option.Option<string> =>
  Option.liftThrowable(decodeURIComponent)(value.replace(/\+/g, " "))

const parseBasic = (authorization: string | undefined): Option.Option<BasicCredentials> => {
  const match = authorization?.match(/^\s*basic\s+(\S*)\s*$/i)
  if (match === undefined || match === null) return Option.none()
  const decoded = Buffer.from(match[1] ?? "", "base64").toString("utf8")
  const colon = decoded.indexOf(":")
  if (colon === -1) return Option.some({ clientId: undefined, pairs: [] })
  const rawId = decoded.slice(0, colon)
  const rawSecret = decoded.slice(colon + 1)
  const encoded = Option.all([formDecode(rawId), formDecode(rawSecret)])
  // Servers that skip the §2.3.1 decoding exist, so the plain reading is accepted as well.
  const pairs: Array<readonly [string, string]> = Option.match(encoded, {
    onNone: () => [],
    onSome: ([id, secret]) => [[id, secret] as const]
  })
  pairs.push([rawId, rawSecret])
  return Option.some({ clientId: Option.getOrElse(Option.map(encoded, ([id]) => id), () => rawId), pairs })
}

/** Reads and decodes a token request; a body that does not parse is reported in `bodyError`, never failed. */
export const readTokenRequest = (
  request: HttpServerRequest.HttpServerRequest
): Effect.Effect<TokenRequestInput> =>
  Effect.gen(function*() {
    const contentType = request.headers["content-type"]
    const body = yield* Effect.either(request.arrayBuffer)
    const encoding = encodingOf(contentType, body._tag === "Right" ? body.right.byteLength : 0)
    const parsed = body._tag === "Left"
      ? { fields: {}, bodyError: Option.some("the request body could not be read") }
      : yield* parseBody(encoding, contentType, body.right).pipe(
        Effect.match({
          onFailure: (error) => ({ fields: {}, bodyError: Option.some(error) }),
          onSuccess: (fields) => ({ fields, bodyError: Option.none<string>() })
        })
      )
    return {
      method: request.method,
      path: pathOf(request.url),
      contentType,
      encoding,
      fields: parsed.fields,
      bodyError: parsed.bodyError,
      basic: parseBasic(request.headers["authorization"])
    }
  })

/** The client id a request names: the Basic header's if present, else the body's. */
export const requestClientId = (input: TokenRequestInput): string | undefined =>
  Option.match(input.basic, {
    onNone: () => input.fields["client_id"],
    onSome: (basic) => basic.clientId ?? input.fields["client_id"]
  })

/** How the request presented client credentials, for the log. */
export const authMethodOf = (input: TokenRequestInput): AuthMethod => {
  const post = input.fields["client_secret"] !== undefined
  if (Option.isSome(input.basic)) return post ? "basic+post" : "basic"
  return post ? "post" : "none"
}

const sensitive = /secret|password|assertion|token/i

/** Body fields with every credential-like value replaced by `***`. */
export const maskedFields = (fields: Readonly<Record<string, string>>): Readonly<Record<string, string>> =>
  Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, sensitive.test(key) ? "***" : value]))
