import * as ConfigError from "effect/ConfigError"
import * as Either from "effect/Either"

/**
 * Whether plain HTTP is acceptable for this host: only loopback, where no network sees the secret.
 *
 * @internal
 */
export const isLoopbackHost = (hostname: string): boolean =>
  hostname === "localhost" || hostname === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(hostname)

/**
 * Parses a URL a token may be sent to: absolute, `https:` (plain `http:` only on a loopback host, where no network
 * sees the token), without userinfo. `path` names the option in the `ConfigError`.
 *
 * @internal
 */
export const parseSecureUrl = (
  input: string | URL,
  path: ReadonlyArray<string>,
  name: string = path.join(".")
): Either.Either<URL, ConfigError.ConfigError> => {
  let url: URL
  try {
    url = new URL(input)
  } catch {
    return Either.left(ConfigError.InvalidData([...path], `${name} must be an absolute URL`))
  }
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
