/**
 * Faults the emulator can inject into its token endpoint, to test how a client copes with a provider that is slow,
 * down, rate limited or answering garbage.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"

/**
 * One fault for one token request. Faults that replace the answer (`Status`, `ConnectionReset`, `MalformedJson`,
 * `HtmlError`) issue no token; faults that alter a successful answer (`WrongContentType`, `MissingFields`,
 * `ExpiresIn`, `ClockSkew`) issue a real token with its configured lifetime and only change what the body says;
 * `RevokedOnIssue` answers normally with a token that is already revoked; `Latency` delays the normal answer. Build values with the constructors of this module.
 *
 * @since 0.1.0
 */
export type Fault = Data.TaggedEnum<{
  Latency: { readonly duration: Duration.Duration }
  Status: { readonly status: number; readonly retryAfter: Option.Option<Duration.Duration> }
  ConnectionReset: {}
  MalformedJson: {}
  HtmlError: { readonly status: number }
  WrongContentType: {}
  MissingFields: { readonly fields: ReadonlyArray<string> }
  ExpiresIn: { readonly value: number | string }
  ClockSkew: { readonly skewMillis: number }
  RevokedOnIssue: {}
}>

const Fault = Data.taggedEnum<Fault>()

/**
 * Delays the token response by `duration`, measured on the emulator's `Clock`, so under `TestClock` the request
 * completes only when the test adjusts the clock past it; the answer is then the normal one.
 *
 * @since 0.1.0
 */
export const latency = (duration: Duration.DurationInput): Fault =>
  Fault.Latency({ duration: Duration.decode(duration) })

/**
 * Answers with the given HTTP status and the flavor's own error body (RFC 6749 §5.2 JSON for Bringg and rfc6749,
 * a problem document for DHL), plus a `Retry-After` header in whole seconds when `retryAfter` is given.
 *
 * @since 0.1.0
 */
export const status = (
  status: number,
  options?: { readonly retryAfter?: Duration.DurationInput | undefined }
): Fault =>
  Fault.Status({
    status,
    retryAfter: Option.map(Option.fromNullable(options?.retryAfter), Duration.decode)
  })

/**
 * Answers 429 Too Many Requests with a `Retry-After` header of `retryAfter` (whole seconds, rounded up).
 *
 * @since 0.1.0
 */
export const rateLimited = (retryAfter: Duration.DurationInput): Fault => status(429, { retryAfter })

/**
 * Answers 503 Service Unavailable with a `Retry-After` header of `retryAfter` (whole seconds, rounded up).
 *
 * @since 0.1.0
 */
export const unavailable = (retryAfter: Duration.DurationInput): Fault => status(503, { retryAfter })

/**
 * Destroys the TCP connection without answering, as a crashed proxy or a dropped network path would; the client
 * sees a socket error, not an HTTP status.
 *
 * @since 0.1.0
 */
export const connectionReset: Fault = Fault.ConnectionReset()

/**
 * Answers 200 with `Content-Type: application/json` and a truncated JSON body that no parser accepts.
 *
 * @since 0.1.0
 */
export const malformedJson: Fault = Fault.MalformedJson()

/**
 * Answers with an HTML error page (default status 502, `text/html`), as a load balancer in front of the provider
 * does when the provider is down.
 *
 * @since 0.1.0
 */
export const htmlError = (status = 502): Fault => Fault.HtmlError({ status })

/**
 * Answers 200 with the normal token JSON labelled `text/plain; charset=utf-8`, for clients that must decide
 * whether to trust a body whose content type is wrong.
 *
 * @since 0.1.0
 */
export const wrongContentType: Fault = Fault.WrongContentType()

/**
 * Removes the named fields (default `access_token`) from an otherwise successful token response.
 *
 * @since 0.1.0
 */
export const missingFields = (...fields: ReadonlyArray<string>): Fault =>
  Fault.MissingFields({ fields: fields.length === 0 ? ["access_token"] : fields })

/**
 * Replaces `expires_in` in a successful token response with `value`: `0`, a negative number, a huge one
 * (ten years is `315_360_000`), or a numeric string such as `"3600"`. The token keeps its configured lifetime on
 * the server, so a client that trusts a huge value meets a 401 when the real lifetime ends.
 *
 * @since 0.1.0
 */
export const expiresIn = (value: number | string): Fault => Fault.ExpiresIn({ value })

/**
 * Shifts the server clock used for Bringg's `created_at` by `skew`, ahead (default) or behind the emulator's
 * `Clock`. The token's real issue and expiry times are unaffected; flavors without `created_at` ignore it.
 *
 * @since 0.1.0
 */
export const clockSkew = (skew: Duration.DurationInput, direction: "ahead" | "behind" = "ahead"): Fault => {
  const millis = Duration.toMillis(Duration.decode(skew))
  return Fault.ClockSkew({ skewMillis: direction === "ahead" ? millis : -millis })
}

/**
 * Answers normally, with a token that the emulator revokes as it issues it: the response looks right, and the first
 * API call with that token gets a 401, as when an administrator revokes a token (or regenerates the secret in another
 * console) between the token request and the call. A client that recovers fetches one new token and replays.
 *
 * @since 0.1.0
 */
export const revokedOnIssue: Fault = Fault.RevokedOnIssue()
