/**
 * Where a token is shared beyond one manager, and how its fetch is coordinated: the seam a fleet store (Redis)
 * plugs into. A manager always keeps its own copy in memory (a cache hit is a `Ref` read); a store is consulted on a
 * local miss, expiry or invalidation, elects one fetcher among everyone sharing the token (a lease), and pushes
 * tokens fetched elsewhere. Without a store, a manager works alone.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { type AccessToken, isSameToken } from "./AccessToken.js"

/**
 * A store failed (unreachable, too slow, an answer it could not read). Managers fail open: they carry on alone with
 * their local copy and the token endpoint, report a `StoreUnavailable` event, and share again once the store answers.
 * It never reaches a caller of `get`. `detail` is short and never holds a token or a secret.
 *
 * @since 0.1.0
 * @category errors
 */
export class StoreUnavailable extends Schema.TaggedError<StoreUnavailable>()("StoreUnavailable", {
  detail: Schema.String
}) {
  override get message(): string {
    return `The token store is unavailable: ${this.detail}`
  }
}

/**
 * The right to fetch the shared token, held by one manager at a time until it publishes, releases, or the lease
 * runs out. `id` is random and known only to its holder (so only the holder can release it).
 *
 * @since 0.1.0
 * @category models
 */
export interface Lease {
  readonly id: string
}

/**
 * The answer to `claim`: `Claimed` — this manager fetches, then `publish`es or `release`s the lease; `Busy` —
 * another manager holds the lease: wait for its token (`changes`) for at most `retryIn`, then look again.
 *
 * @since 0.1.0
 * @category models
 */
export type Claim = Data.TaggedEnum<{
  Claimed: { readonly lease: Lease }
  Busy: { readonly retryIn: Duration.Duration }
}>

/**
 * Constructors and matchers for `Claim`.
 *
 * @since 0.1.0
 * @category models
 */
export const Claim = Data.taggedEnum<Claim>()

/**
 * One client's token in a store (see `Service.slot`). Every operation may fail with `StoreUnavailable`.
 *
 * - `get`: the shared token, if any (a store may drop it once unusable).
 * - `claim`: asks for the right to fetch; `Busy` too when the shared token changed since this slot's last `get`
 *   (a fence: someone published between the look and the claim, so look again rather than fetch a second token).
 *   The store bounds the lease (longer than a token request may take), so a
 *   holder that vanishes (a killed process) holds up the others for one lease time at most.
 * - `publish(token, lease)`: stores a fetched token for everyone and releases the lease.
 * - `release(lease)`: gives the lease up without a token (the fetch failed), so another manager may try.
 * - `invalidate(token)`: removes the shared token only while it is still `token` (compare-and-delete), so many
 *   managers reporting the same rejected token remove it once; true when this call removed it.
 * - `changes`: tokens published by anyone (`Some`) and removals (`None`), as they happen; for the lifetime of the
 *   slot's scope.
 *
 * @since 0.1.0
 * @category models
 */
export interface Slot {
  readonly get: Effect.Effect<Option.Option<AccessToken>, StoreUnavailable>
  readonly claim: Effect.Effect<Claim, StoreUnavailable>
  readonly publish: (token: AccessToken, lease: Lease) => Effect.Effect<void, StoreUnavailable>
  readonly release: (lease: Lease) => Effect.Effect<void, StoreUnavailable>
  readonly invalidate: (token: AccessToken) => Effect.Effect<boolean, StoreUnavailable>
  readonly changes: Stream.Stream<Option.Option<AccessToken>>
}

/**
 * A token store: `slot(key)` opens the shared place of one client's token, for as long as the scope lasts (a store
 * may subscribe to changes there). `key` names the client — the token endpoint's `key` (token URL, client id,
 * scope; never the secret), or the manager's name for an endpoint without one.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly slot: (key: string) => Effect.Effect<Slot, never, Scope.Scope>
}

/**
 * The token store service. Provide one (e.g. `@effect-oauth/redis`) to share tokens; without it every manager
 * works alone.
 *
 * @since 0.1.0
 * @category tags
 */
export class TokenStore extends Context.Tag("@effect-oauth/core/TokenStore")<TokenStore, Service>() {}

interface Entry {
  readonly token: Option.Option<AccessToken>
  readonly lease: Option.Option<{ readonly id: string; readonly until: number }>
  readonly changes: PubSub.PubSub<Option.Option<AccessToken>>
}

/**
 * A store in process memory, shared by every manager built with it: what a fleet store does across processes, done
 * within one (two managers of the same client share one token and one fetch). Leases last `leaseTime` (default 30
 * seconds) on the `Clock`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory = (options: { readonly leaseTime?: Duration.DurationInput | undefined } = {}): Effect.Effect<
  Service
> =>
  Effect.gen(function*() {
    const leaseTime = Duration.toMillis(options.leaseTime ?? Duration.seconds(30))
    const entries = new Map<string, Entry>()
    const counter = yield* Ref.make(0)
    const entry = (key: string) =>
      Effect.gen(function*() {
        const existing = entries.get(key)
        if (existing !== undefined) return existing
        const created: Entry = {
          token: Option.none(),
          lease: Option.none(),
          changes: yield* PubSub.unbounded<Option.Option<AccessToken>>()
        }
        entries.set(key, created)
        return created
      })
    const update = (key: string, f: (entry: Entry) => Entry) =>
      Effect.map(entry(key), (current) => {
        entries.set(key, f(current))
      })
    const slot = (key: string): Effect.Effect<Slot, never, Scope.Scope> =>
      Effect.gen(function*() {
        const { changes } = yield* entry(key)
        const subscription = yield* PubSub.subscribe(changes)
        let lastRead = Option.none<AccessToken>()
        return {
          get: Effect.sync(() => (lastRead = entries.get(key)?.token ?? Option.none())),
          claim: Effect.gen(function*() {
            const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
            const current = yield* entry(key)
            // Fenced: a token published since this slot's last `get` makes the claim "busy" (look again), not a
            // second fetch.
            if (!Option.getEquivalence(isSameToken)(current.token, lastRead)) {
              return Claim.Busy({ retryIn: Duration.zero })
            }
            if (Option.isSome(current.lease) && current.lease.value.until > now) {
              return Claim.Busy({ retryIn: Duration.millis(current.lease.value.until - now) })
            }
            const id = `lease-${yield* Ref.updateAndGet(counter, (n) => n + 1)}`
            entries.set(key, { ...current, lease: Option.some({ id, until: now + leaseTime }) })
            return Claim.Claimed({ lease: { id } })
          }),
          publish: (token, lease) =>
            Effect.zipRight(
              update(key, (current) => ({
                ...current,
                token: Option.some(token),
                lease: Option.filter(current.lease, (held) => held.id !== lease.id)
              })),
              PubSub.publish(changes, Option.some(token))
            ),
          release: (lease) =>
            update(key, (current) => ({
              ...current,
              lease: Option.filter(current.lease, (held) => held.id !== lease.id)
            })),
          invalidate: (token) =>
            Effect.gen(function*() {
              const current = yield* entry(key)
              if (!Option.exists(current.token, (held) => isSameToken(held, token))) return false
              entries.set(key, { ...current, token: Option.none() })
              yield* PubSub.publish(changes, Option.none())
              return true
            }),
          changes: Stream.fromQueue(subscription)
        } satisfies Slot
      })
    return { slot }
  })

/**
 * A layer providing a fresh in-memory store (see `makeMemory`): managers built in its scope share their tokens.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<TokenStore> = Layer.effect(TokenStore, makeMemory())
