/**
 * `simple-oauth2`: a `ClientCredentials` client, `getToken` when there is no token or `accessToken.expired()` (as its
 * README shows), and `fetch` for the API call. It caches one token but does not share a fetch in flight.
 */
import { type AccessToken, ClientCredentials } from "simple-oauth2"
import type { Contender, Endpoints, Tenant } from "./contender.js"

export const make = async (endpoints: Endpoints): Promise<Contender> => {
  const tokenUrl = new URL(endpoints.tokenUrl)
  return {
    make: async (tenant: Tenant) => {
      const client = new ClientCredentials({
        client: { id: tenant.clientId, secret: tenant.clientSecret },
        auth: { tokenHost: tokenUrl.origin, tokenPath: tokenUrl.pathname }
      })
      let accessToken: AccessToken | undefined
      const get = async (authorization: string) => {
        const response = await fetch(endpoints.apiUrl, { headers: { authorization } })
        await response.text()
        return response.status
      }
      return {
        call: async () => {
          if (accessToken === undefined || accessToken.expired()) accessToken = await client.getToken({})
          return get(`Bearer ${accessToken.token.access_token as string}`)
        },
        callStatic: (token) => get(`Bearer ${token}`),
        close: async () => {}
      }
    },
    close: async () => {}
  }
}
