/**
 * `openid-client` v6: a `Configuration` built by hand for the token endpoint (no discovery), `allowInsecureRequests`
 * for the loopback server, `clientCredentialsGrant` and `fetchProtectedResource`, as its README shows. The library
 * keeps no token: every call requests one.
 */
import * as client from "openid-client"
import type { Contender, Endpoints, Tenant } from "./contender.js"

export const make = async (endpoints: Endpoints): Promise<Contender> => {
  const tokenUrl = new URL(endpoints.tokenUrl)
  const apiUrl = new URL(endpoints.apiUrl)
  return {
    make: async (tenant: Tenant) => {
      const config = new client.Configuration(
        { issuer: tokenUrl.origin, token_endpoint: tokenUrl.href },
        tenant.clientId,
        tenant.clientSecret
      )
      client.allowInsecureRequests(config)
      const get = async (token: string) => {
        const response = await client.fetchProtectedResource(config, token, apiUrl, "GET")
        await response.text()
        return response.status
      }
      return {
        call: async () => get((await client.clientCredentialsGrant(config)).access_token),
        callStatic: get,
        close: async () => {}
      }
    },
    close: async () => {}
  }
}
