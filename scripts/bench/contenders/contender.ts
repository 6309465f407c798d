/**
 * What every contender provides to the scenarios: a client for one tenant (one client id) that makes one authorized
 * `GET` of the API resource and reads its body, and the same request through the same HTTP client with a fixed
 * `Authorization` header (the overhead scenario's reference).
 */

export interface Endpoints {
  readonly tokenUrl: string
  readonly apiUrl: string
  readonly apiOrigin: string
  /** A `redis://` URL when the parent started a `redis-server`. */
  readonly redisUrl?: string | undefined
}

export interface Tenant {
  readonly clientId: string
  readonly clientSecret: string
}

/** Per-scenario adjustments a contender may honour (documented in the results' configuration). */
export interface Tuning {
  /** effect-oauth's `policy.minRefreshInterval` in ms, for tokens shorter than its 5 s default floor. */
  readonly minRefreshIntervalMs?: number | undefined
}

export interface Client {
  /** One authorized request: resolves with the HTTP status (the body read), rejects on a transport or token error. */
  readonly call: () => Promise<number>
  /** The same request through the same HTTP client with `Authorization: Bearer <token>` set by hand. */
  readonly callStatic: (token: string) => Promise<number>
  readonly close: () => Promise<void>
}

/** Resources shared by every tenant of one process (an HTTP agent, an Effect runtime). */
export interface Contender {
  readonly make: (tenant: Tenant, tuning?: Tuning) => Promise<Client>
  /** The live fibers of the process, for a contender built with `trackFibers` that can tell. */
  readonly liveFibers?: (() => Promise<number>) | undefined
  readonly close: () => Promise<void>
}

export interface LoadOptions {
  /** Count fibers (effect-oauth: a tracking `Supervisor` on its runtime; it costs time, so only on demand). */
  readonly trackFibers?: boolean | undefined
}

export interface Definition {
  readonly name: string
  /** The npm packages it is made of, whose installed versions the results record. */
  readonly packages: ReadonlyArray<string>
  /** How it is used, as its README recommends for client credentials. */
  readonly usage: string
  readonly needsRedis?: boolean | undefined
  readonly load: (options?: LoadOptions) => Promise<(endpoints: Endpoints) => Promise<Contender>>
}
