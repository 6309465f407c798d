/**
 * The contenders, in table order. Each module is loaded only in the child process that runs it, so no contender's
 * code shares a heap or an event loop with another's.
 */
import type { Task } from "../children.js"
import type { Client, Contender, Definition, Tuning } from "./contender.js"

export const contenders: ReadonlyArray<Definition> = [
  {
    name: "effect-oauth",
    packages: ["@effect-oauth/core", "effect", "@effect/platform"],
    usage: "Provider.make (token endpoint + TokenManager + AuthorizedClient) over FetchHttpClient",
    load: async (options) => (await import("./effectOauth.js")).make({ ...options, redis: false })
  },
  {
    name: "effect-oauth + Redis",
    packages: ["@effect-oauth/core", "@effect-oauth/redis", "effect", "@effect/platform"],
    usage: "the same with store: RedisTokenStore (one per process) on a local redis-server",
    needsRedis: true,
    load: async (options) => (await import("./effectOauth.js")).make({ ...options, redis: true })
  },
  {
    name: "simple-oauth2",
    packages: ["simple-oauth2"],
    usage: "ClientCredentials.getToken when no token or accessToken.expired(); fetch for the API",
    load: async () => (await import("./simpleOauth2.js")).make
  },
  {
    name: "openid-client",
    packages: ["openid-client"],
    usage: "Configuration by hand + allowInsecureRequests; clientCredentialsGrant + fetchProtectedResource per call",
    load: async () => (await import("./openidClient.js")).make
  },
  {
    name: "@badgateway/oauth2-client",
    packages: ["@badgateway/oauth2-client"],
    usage: "OAuth2Fetch with getNewToken: client.clientCredentials()",
    load: async () => (await import("./badgateway.js")).make
  },
  {
    name: "undici-oidc-interceptor",
    packages: ["undici-oidc-interceptor", "undici"],
    usage: "Agent().compose(createOidcInterceptor({ retryOnStatusCodes: [401], urls })) with undici.request",
    load: async () => (await import("./undiciOidc.js")).make
  },
  {
    name: "axios-oauth-client + axios-token-interceptor",
    packages: ["axios-oauth-client", "axios-token-interceptor", "axios"],
    usage: "clientCredentials(axios.create()) in tokenProvider.tokenCache(getMaxAge: expires_in) as an interceptor",
    load: async () => (await import("./axiosOauth.js")).make
  },
  {
    name: "fetch + cached promise (baseline)",
    packages: [],
    usage: "hand-written: fetch, one cached token promise, refetched once expired",
    load: async () => (await import("./baseline.js")).make
  }
]

export const byName = (name: string): Definition => {
  const found = contenders.find((contender) => contender.name === name)
  if (found === undefined) throw new Error(`unknown contender ${name}`)
  return found
}

/**
 * In a child: the task's contender, and a client of the task's client id (`task.config.clientId`) that has already
 * fetched its first token, so the measured run starts warm.
 */
export const warmClient = async (
  task: Task,
  tuning?: Tuning
): Promise<{ readonly contender: Contender; readonly client: Client }> => {
  const { clientId } = task.config as { readonly clientId: string }
  const contender = await (await byName(task.contender).load())(task.endpoints)
  const client = await contender.make({ clientId, clientSecret: "bench-secret" }, tuning)
  await client.call()
  return { contender, client }
}
