/**
 * `@badgateway/oauth2-client`: an `OAuth2Client` with the token endpoint set (no discovery) and an `OAuth2Fetch`
 * whose `getNewToken` is `client.clientCredentials()`, as its README shows. It shares one fetch in flight, uses a
 * token until its `expiresAt`, and on a 401 fetches a new token and replays once.
 */
import { OAuth2Client, OAuth2Fetch } from "@badgateway/oauth2-client"
import type { Contender, Endpoints, Tenant } from "./contender.js"

export const make = async (endpoints: Endpoints): Promise<Contender> => {
  const tokenUrl = new URL(endpoints.tokenUrl)
  return {
    make: async (tenant: Tenant) => {
      const oauth2 = new OAuth2Client({
        server: tokenUrl.origin,
        tokenEndpoint: tokenUrl.pathname,
        clientId: tenant.clientId,
        clientSecret: tenant.clientSecret
      })
      const wrapper = new OAuth2Fetch({
        client: oauth2,
        getNewToken: () => oauth2.clientCredentials(),
        onError: () => {}
      })
      const read = async (response: Response) => {
        await response.text()
        return response.status
      }
      return {
        call: async () => read(await wrapper.fetch(endpoints.apiUrl)),
        callStatic: async (token) =>
          read(await fetch(endpoints.apiUrl, { headers: { authorization: `Bearer ${token}` } })),
        close: async () => {}
      }
    },
    close: async () => {}
  }
}
