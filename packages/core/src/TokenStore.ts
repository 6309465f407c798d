/**
 * Where the current token lives. In memory by default; a shared store lets a fleet of processes use one token.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import { type AccessToken, isSameToken } from "./AccessToken.js"

/**
 * A token store. `get` is on every request's path and must be cheap; `invalidate(token)` removes the token only
 * while it is still the current one, so many callers reporting the same rejected token drop it once.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly get: Effect.Effect<Option.Option<AccessToken>>
  readonly set: (token: AccessToken) => Effect.Effect<void>
  readonly invalidate: (token: AccessToken) => Effect.Effect<boolean>
}

/**
 * The token store service.
 *
 * @since 0.1.0
 * @category tags
 */
export class TokenStore extends Context.Tag("@effect-oauth/core/TokenStore")<TokenStore, Service>() {}

/**
 * A store in process memory: a `Ref`. A cache hit is one `Ref` read.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<Service> = Effect.map(
  Ref.make(Option.none<AccessToken>()),
  (ref): Service => ({
    get: Ref.get(ref),
    set: (token) => Ref.set(ref, Option.some(token)),
    invalidate: (token) =>
      Ref.modify(
        ref,
        (current) =>
          Option.isSome(current) && isSameToken(current.value, token) ? [true, Option.none()] : [false, current]
      )
  })
)

/**
 * A layer providing a fresh in-memory store.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<TokenStore> = Layer.effect(TokenStore, makeMemory)
