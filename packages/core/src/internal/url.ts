import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as ConfigError from "effect/ConfigError"
import * as Either from "effect/Either"

/**
 * Whether plain HTTP is acceptable for this host: only loopback, where no network sees the secret.
 *
 * @internal
 */
export const isLoopbackHost = (hostname: string): boolean =>
  hostname === "localhost" || hostname === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(hostname)

// A `URL` is already parsed: it is read, never parsed again.
const parse = (input: string | URL): URL | undefined => {
  if (input instanceof URL) return input
  try {
    return new URL(input)
  } catch {
    return undefined
  }
}

/**
 * Parses a URL a token may be sent to: absolute, `https:` (plain `http:` only on a loopback host, where no network
 * sees the token), without userinfo; from untyped input, a string or a `URL`. `path` names the option in the
 * `ConfigError`.
 *
 * @internal
 */
export const parseSecureUrl = (
  input: unknown,
  path: ReadonlyArray<string>,
  name: string = path.join(".")
): Either.Either<URL, ConfigError.ConfigError> => {
  const url = typeof input === "string" || input instanceof URL ? parse(input) : undefined
  if (url === undefined) return Either.left(ConfigError.InvalidData([...path], `${name} must be an absolute URL`))
  if (!(url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname)))) {
    return Either.left(
      ConfigError.InvalidData(
        [...path],
        `${name} must use https (plain http only on localhost, 127.0.0.0/8 or [::1]), got ${url.protocol}//${url.host}`
      )
    )
  }
  if (url.username !== "" || url.password !== "") {
    return Either.left(ConfigError.InvalidData([...path], `${name} must not carry credentials`))
  }
  return Either.right(url)
}

/**
 * Whether `url` is absolute (starts with a scheme, as `https:`): such a URL is sent as it is, never under a base.
 *
 * @internal
 */
export const isAbsoluteUrl = (url: string): boolean => /^[a-z][a-z\d+.-]*:/i.test(url)

/**
 * Prepends `base` (an absolute URL, trailing slashes dropped) to a relative request URL; an absolute one is left as
 * it is, so `client.get("https://…")` reaches that URL (and carries the token only when its origin is listed).
 *
 * @internal
 */
export const prependToRelative = (base: URL) => {
  const prefix = base.href.replace(/\/+$/, "")
  return (request: HttpClientRequest.HttpClientRequest): HttpClientRequest.HttpClientRequest =>
    isAbsoluteUrl(request.url) ? request : HttpClientRequest.prependUrl(request, `${prefix}/`)
}
