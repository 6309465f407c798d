/**
 * `undici-oidc-interceptor` on `undici` 7: an `Agent` composed with `createOidcInterceptor` (client credentials,
 * `retryOnStatusCodes: [401]`, the API origin in `urls`), as its README shows, and `undici.request` through it. One
 * base `Agent` per process, composed once per tenant, as a multi-tenant service would. The interceptor's margins are
 * fixed: a token within 10 s of its `exp` counts as expired, within 30 s as near expiry (refreshed in the background).
 */
import type { Agent } from "undici"
import { getGlobalDispatcher, request } from "undici"
import { createOidcInterceptor } from "undici-oidc-interceptor"
import type { Contender, Endpoints, Tenant } from "./contender.js"

export const make = async (endpoints: Endpoints): Promise<Contender> => {
  // The child's global dispatcher: an Agent with the bench's connection cap.
  const agent = getGlobalDispatcher() as Agent
  const get = async (dispatcher: Agent | ReturnType<Agent["compose"]>, headers: Record<string, string> = {}) => {
    const response = await request(endpoints.apiUrl, { dispatcher, headers })
    await response.body.text()
    return response.statusCode
  }
  return {
    make: async (tenant: Tenant) => {
      const dispatcher = agent.compose(createOidcInterceptor({
        clientId: tenant.clientId,
        clientSecret: tenant.clientSecret,
        idpTokenUrl: endpoints.tokenUrl,
        retryOnStatusCodes: [401],
        urls: [endpoints.apiOrigin]
      }))
      return {
        call: () => get(dispatcher),
        callStatic: (token) => get(agent, { authorization: `Bearer ${token}` }),
        close: async () => {}
      }
    },
    close: () => agent.close()
  }
}
