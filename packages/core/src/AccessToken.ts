/**
 * The access token the engine hands out: its value stays `Redacted` from the wire to the `Authorization` header.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/**
 * An access token issued by a token endpoint. `issuedAt` and `expiresAt` are epoch milliseconds taken from the
 * local `Clock` when the response arrived, so expiry never depends on the server's clock; `serverCreatedAt` keeps the
 * provider's own issue time (Bringg's `created_at`) for clock-skew diagnostics only. The value is `Redacted`:
 * printing, logging or serialising an `AccessToken` never reveals it.
 *
 * @since 0.1.0
 * @category models
 */
export class AccessToken extends Schema.Class<AccessToken>("@effect-oauth/core/AccessToken")({
  value: Schema.Redacted(Schema.String),
  tokenType: Schema.String,
  issuedAt: Schema.Number,
  expiresAt: Schema.Number,
  scope: Schema.OptionFromNullOr(Schema.String),
  serverCreatedAt: Schema.OptionFromNullOr(Schema.Number)
}) {
  /**
   * The lifetime the server granted, in milliseconds.
   *
   * @since 0.1.0
   */
  get lifetimeMillis(): number {
    return this.expiresAt - this.issuedAt
  }

  /**
   * Local receipt time minus the server's `created_at`, in milliseconds, when the server sent one: a large value
   * means the two clocks disagree (or the response was slow).
   *
   * @since 0.1.0
   */
  get serverClockSkewMillis(): Option.Option<number> {
    return Option.map(this.serverCreatedAt, (created) => this.issuedAt - created)
  }

  /**
   * The `Authorization` header value: `Bearer <token>` (the scheme is always `Bearer`, whatever casing the
   * server used in `token_type`), still redacted.
   *
   * @since 0.1.0
   */
  get authorization(): Redacted.Redacted<string> {
    return Redacted.make(`Bearer ${Redacted.value(this.value)}`)
  }
}

/**
 * Whether two tokens carry the same value (constant-time comparison is not needed: both are already in memory).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isSameToken = (self: AccessToken, that: AccessToken): boolean =>
  self === that || Redacted.value(self.value) === Redacted.value(that.value)
