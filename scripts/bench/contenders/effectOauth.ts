/**
 * effect-oauth: `Provider.make` (the README's level 3: endpoint, token manager and authorized client for one app)
 * over `FetchHttpClient`, one app per tenant, each in its own scope; with `store` set to a `RedisTokenStore` for the
 * Redis variant (one store per process, shared by its tenants). Calls run through one `ManagedRuntime` (logs below
 * Error level off: no contender prints during the bench).
 */
import { Provider } from "@effect-oauth/core"
import { RedisTokenStore } from "@effect-oauth/redis"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as Supervisor from "effect/Supervisor"
import type { Contender, Endpoints, LoadOptions, Tenant, Tuning } from "./contender.js"

const status = (response: HttpClientResponse.HttpClientResponse) => Effect.as(response.text, response.status)

export const make =
  (options: LoadOptions & { readonly redis: boolean }) => async (endpoints: Endpoints): Promise<Contender> => {
    const supervisor = options.trackFibers === true ? await Effect.runPromise(Supervisor.track) : undefined
    const runtime = ManagedRuntime.make(Layer.mergeAll(
      FetchHttpClient.layer,
      Logger.minimumLogLevel(LogLevel.Error),
      supervisor === undefined ? Layer.empty : Supervisor.addSupervisor(supervisor)
    ))
    const processScope = await runtime.runPromise(Scope.make())
    const store = options.redis
      ? await runtime.runPromise(
        Scope.extend(RedisTokenStore.make({ url: endpoints.redisUrl ?? "" }), processScope)
      )
      : undefined
    const http = await runtime.runPromise(HttpClient.HttpClient)
    const provider: Provider.Provider = {
      name: "bench",
      tokenUrl: endpoints.tokenUrl,
      apiBaseUrl: endpoints.apiOrigin,
      authMethod: "client_secret_basic",
      encoding: "form"
    }
    return {
      make: async (tenant: Tenant, tuning?: Tuning) => {
        const scope = await runtime.runPromise(Scope.make())
        const app = await runtime.runPromise(Scope.extend(
          Provider.make(provider, {
            clientId: tenant.clientId,
            clientSecret: Redacted.make(tenant.clientSecret),
            store,
            policy: tuning?.minRefreshIntervalMs === undefined
              ? undefined
              : { minRefreshInterval: tuning.minRefreshIntervalMs }
          }),
          scope
        ))
        const authorized = Effect.flatMap(app.client.get(endpoints.apiUrl), status)
        return {
          call: () => runtime.runPromise(authorized),
          callStatic: (token) =>
            runtime.runPromise(
              Effect.flatMap(http.get(endpoints.apiUrl, { headers: { authorization: `Bearer ${token}` } }), status)
            ),
          close: () => runtime.runPromise(Scope.close(scope, Exit.void))
        }
      },
      liveFibers: supervisor === undefined
        ? undefined
        : () => runtime.runPromise(Effect.map(supervisor.value, (fibers) => fibers.length)),
      close: async () => {
        await runtime.runPromise(Scope.close(processScope, Exit.void))
        await runtime.dispose()
      }
    }
  }
