import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import { randomBytes } from "node:crypto"
import type { ClientOptions, Stats, TokenRequest } from "../Emulator.js"
import type { Fault } from "../Fault.js"

/** A registered client; `generation` grows on every new secret so tokens can be tied to the secret they used. */
export interface Client {
  readonly id: string
  readonly secret: string
  readonly generation: number
  readonly scopes: ReadonlyArray<string>
  readonly grantTypes: ReadonlyArray<string>
  readonly tokenLifetime: Option.Option<Duration.Duration>
}

/** A token the emulator issued; times are epoch milliseconds of the emulator's Clock. */
export interface IssuedToken {
  readonly value: string
  /** 1 for the first token the emulator issued, 2 for the next: how the request log names a token. */
  readonly serial: number
  readonly clientId: string
  readonly generation: number
  readonly issuedAt: number
  readonly expiresAt: number
  readonly scope: ReadonlyArray<string>
  readonly revoked: boolean
}

/** What a resource server learns from a bearer token. */
export type TokenCheck =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Unknown" }
  | { readonly _tag: "Revoked"; readonly token: IssuedToken }
  | { readonly _tag: "Disabled"; readonly token: IssuedToken }
  | { readonly _tag: "Expired"; readonly token: IssuedToken }
  | { readonly _tag: "Valid"; readonly token: IssuedToken }

interface Tokens {
  readonly byValue: HashMap.HashMap<string, IssuedToken>
  readonly latestByClient: HashMap.HashMap<string, string>
}

interface QueuedFault {
  readonly fault: Fault
  readonly remaining: number
}

interface Counters {
  readonly tokenRequests: number
  readonly tokenRequestsByClient: HashMap.HashMap<string, number>
  readonly tokensIssued: number
  readonly resourceRequests: number
  readonly resourceRejections: number
}

const emptyCounters: Counters = {
  tokenRequests: 0,
  tokenRequestsByClient: HashMap.empty(),
  tokensIssued: 0,
  resourceRequests: 0,
  resourceRejections: 0
}

const newSecret = () => randomBytes(24).toString("base64url")

const newToken = () => randomBytes(32).toString("base64url")

/** The emulator's mutable state: clients, issued tokens, the fault queue, counters and the request log. */
export interface Store {
  readonly registerClient: (client: ClientOptions) => Effect.Effect<void>
  readonly regenerateSecret: (clientId: string, secret: string | undefined) => Effect.Effect<Option.Option<string>>
  readonly findClient: (clientId: string) => Effect.Effect<Option.Option<Client>>
  readonly clientIds: Effect.Effect<ReadonlyArray<string>>
  readonly issue: (client: Client, lifetime: Duration.Duration, scope: ReadonlyArray<string>) => Effect.Effect<
    IssuedToken
  >
  readonly check: (token: Option.Option<string>) => Effect.Effect<TokenCheck>
  /** The token with this value, whatever its state. */
  readonly find: (token: string) => Effect.Effect<Option.Option<IssuedToken>>
  readonly revoke: (token: string) => Effect.Effect<boolean>
  /** Revokes every live token of a client; `None` for an unknown client, else how many were revoked. */
  readonly revokeClient: (clientId: string) => Effect.Effect<Option.Option<number>>
  /** Ends the lifetime of every live token of a client now; `None` for an unknown client, else how many. */
  readonly expireClient: (clientId: string) => Effect.Effect<Option.Option<number>>
  readonly setOneTokenPerClient: (enabled: boolean) => Effect.Effect<void>
  readonly injectFault: (fault: Fault, times: number) => Effect.Effect<void>
  readonly clearFaults: Effect.Effect<void>
  readonly takeFault: Effect.Effect<Option.Option<Fault>>
  readonly countTokenRequest: (clientId: string | undefined) => Effect.Effect<void>
  readonly countResourceRequest: (rejected: boolean) => Effect.Effect<void>
  readonly record: (entry: TokenRequest) => Effect.Effect<void>
  readonly stats: Effect.Effect<Stats>
  readonly requests: Effect.Effect<ReadonlyArray<TokenRequest>>
  readonly reset: Effect.Effect<void>
}

/** An empty store; `oneTokenPerClientInitially` is the starting one-token-per-client mode. */
export const makeStore = (oneTokenPerClientInitially: boolean): Effect.Effect<Store> =>
  Effect.gen(function*() {
    const clients = yield* Ref.make(HashMap.empty<string, Client>())
    const tokens = yield* Ref.make<Tokens>({ byValue: HashMap.empty(), latestByClient: HashMap.empty() })
    const oneTokenPerClient = yield* Ref.make(oneTokenPerClientInitially)
    const faults = yield* Ref.make<ReadonlyArray<QueuedFault>>([])
    const counters = yield* Ref.make(emptyCounters)
    const log = yield* Ref.make(Chunk.empty<TokenRequest>())
    const serials = yield* Ref.make(0)

    const registerClient = (options: ClientOptions) =>
      Ref.update(clients, (all) => {
        // Re-registering an id starts a new generation, so tokens of the replaced registration stop working.
        const generation = Option.match(HashMap.get(all, options.id), {
          onNone: () => 0,
          onSome: (previous) => previous.generation + 1
        })
        return HashMap.set(all, options.id, {
          id: options.id,
          secret: options.secret,
          generation,
          scopes: options.scopes ?? [],
          grantTypes: options.grantTypes ?? ["client_credentials"],
          tokenLifetime: Option.map(Option.fromNullable(options.tokenLifetime), Duration.decode)
        })
      })

    const regenerateSecret = (clientId: string, secret: string | undefined) =>
      Ref.modify(clients, (all) =>
        Option.match(HashMap.get(all, clientId), {
          onNone: () => [Option.none<string>(), all] as const,
          onSome: (client) => {
            const next = secret ?? newSecret()
            return [
              Option.some(next),
              HashMap.set(all, clientId, { ...client, secret: next, generation: client.generation + 1 })
            ] as const
          }
        }))

    const issue = (client: Client, lifetime: Duration.Duration, scope: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const single = yield* Ref.get(oneTokenPerClient)
        const serial = yield* Ref.updateAndGet(serials, (n) => n + 1)
        const token: IssuedToken = {
          value: newToken(),
          serial,
          clientId: client.id,
          generation: client.generation,
          issuedAt: now,
          expiresAt: now + Duration.toMillis(lifetime),
          scope,
          revoked: false
        }
        yield* Ref.update(tokens, ({ byValue, latestByClient }) => {
          const previous = single
            ? HashMap.get(latestByClient, client.id).pipe(Option.flatMap((value) => HashMap.get(byValue, value)))
            : Option.none()
          const withoutPrevious = Option.match(previous, {
            onNone: () => byValue,
            onSome: (old) => HashMap.set(byValue, old.value, { ...old, revoked: true })
          })
          return {
            byValue: HashMap.set(withoutPrevious, token.value, token),
            latestByClient: HashMap.set(latestByClient, client.id, token.value)
          }
        })
        yield* Ref.update(counters, (c) => ({ ...c, tokensIssued: c.tokensIssued + 1 }))
        return token
      })

    const check = (value: Option.Option<string>) =>
      Effect.gen(function*() {
        if (Option.isNone(value)) return { _tag: "Missing" } as const
        const found = HashMap.get((yield* Ref.get(tokens)).byValue, value.value)
        if (Option.isNone(found)) return { _tag: "Unknown" } as const
        const token = found.value
        if (token.revoked) return { _tag: "Revoked", token } as const
        const client = HashMap.get(yield* Ref.get(clients), token.clientId)
        if (Option.isNone(client) || client.value.generation !== token.generation) {
          return { _tag: "Disabled", token } as const
        }
        const now = yield* Clock.currentTimeMillis
        return now >= token.expiresAt ? { _tag: "Expired", token } as const : { _tag: "Valid", token } as const
      })

    const revoke = (value: string) =>
      Ref.modify(tokens, (state) =>
        Option.match(HashMap.get(state.byValue, value), {
          onNone: () => [false, state] as const,
          onSome: (token) =>
            [true, { ...state, byValue: HashMap.set(state.byValue, value, { ...token, revoked: true }) }] as const
        }))

    // Applies `change` to every token of `clientId` that is neither revoked nor expired; counts them.
    const updateLive = (clientId: string, change: (token: IssuedToken, now: number) => IssuedToken) =>
      Effect.gen(function*() {
        if (Option.isNone(HashMap.get(yield* Ref.get(clients), clientId))) return Option.none<number>()
        const now = yield* Clock.currentTimeMillis
        return yield* Ref.modify(tokens, (state) => {
          let count = 0
          const byValue = HashMap.map(state.byValue, (token) => {
            if (token.clientId !== clientId || token.revoked || now >= token.expiresAt) return token
            count++
            return change(token, now)
          })
          return [Option.some(count), { ...state, byValue }] as const
        })
      })

    const takeFault = Ref.modify(faults, (queue) => {
      const [head, ...rest] = queue
      if (head === undefined) return [Option.none<Fault>(), queue] as const
      const remaining = head.remaining - 1
      return [Option.some(head.fault), remaining > 0 ? [{ fault: head.fault, remaining }, ...rest] : rest] as const
    })

    const stats = Effect.map(Ref.get(counters), (c): Stats => ({
      tokenRequests: c.tokenRequests,
      tokenRequestsByClient: Object.fromEntries(c.tokenRequestsByClient),
      tokensIssued: c.tokensIssued,
      resourceRequests: c.resourceRequests,
      resourceRejections: c.resourceRejections
    }))

    return {
      registerClient,
      regenerateSecret,
      findClient: (clientId) => Effect.map(Ref.get(clients), HashMap.get(clientId)),
      clientIds: Effect.map(Ref.get(clients), (all) => Array.from(HashMap.keys(all))),
      issue,
      check,
      find: (value) => Effect.map(Ref.get(tokens), (state) => HashMap.get(state.byValue, value)),
      revoke,
      revokeClient: (clientId) => updateLive(clientId, (token) => ({ ...token, revoked: true })),
      expireClient: (clientId) => updateLive(clientId, (token, now) => ({ ...token, expiresAt: now })),
      setOneTokenPerClient: (enabled) => Ref.set(oneTokenPerClient, enabled),
      injectFault: (fault, times) =>
        times >= 1 ? Ref.update(faults, (queue) => [...queue, { fault, remaining: Math.floor(times) }]) : Effect.void,
      clearFaults: Ref.set(faults, []),
      takeFault,
      countTokenRequest: (clientId) =>
        Ref.update(counters, (c) => ({
          ...c,
          tokenRequests: c.tokenRequests + 1,
          tokenRequestsByClient: clientId === undefined ?
            c.tokenRequestsByClient :
            HashMap.modifyAt(c.tokenRequestsByClient, clientId, (n) => Option.some(Option.getOrElse(n, () => 0) + 1))
        })),
      countResourceRequest: (rejected) =>
        Ref.update(counters, (c) => ({
          ...c,
          resourceRequests: c.resourceRequests + 1,
          resourceRejections: c.resourceRejections + (rejected ? 1 : 0)
        })),
      record: (entry) => Ref.update(log, Chunk.append(entry)),
      stats,
      requests: Effect.map(Ref.get(log), Chunk.toReadonlyArray),
      reset: Effect.zipRight(Ref.set(counters, emptyCounters), Ref.set(log, Chunk.empty()))
    }
  })
