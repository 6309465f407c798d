/**
 * `axios-oauth-client` + `axios-token-interceptor` on `axios`: `clientCredentials(axios.create(), …)` as the token
 * source, wrapped in `tokenProvider.tokenCache` with `getMaxAge` from `expires_in`, installed as a request
 * interceptor with a `Bearer` header formatter, as their READMEs show. The cache takes a lock for a fetch; nothing
 * is retried on a 401.
 */
import axios from "axios"
import { clientCredentials } from "axios-oauth-client"
import tokenProvider from "axios-token-interceptor"
import type { Contender, Endpoints, Tenant } from "./contender.js"

interface TokenBody {
  readonly access_token: string
  readonly expires_in: number
}

export const make = async (endpoints: Endpoints): Promise<Contender> => ({
  make: async (tenant: Tenant) => {
    const getClientCredentials = clientCredentials(
      axios.create(),
      endpoints.tokenUrl,
      tenant.clientId,
      tenant.clientSecret
    )
    const cache = tokenProvider.tokenCache(() => getClientCredentials(undefined) as Promise<TokenBody>, {
      getMaxAge: (body: TokenBody) => body.expires_in * 1000
    })
    const instance = axios.create({ validateStatus: () => true, responseType: "text" })
    instance.interceptors.request.use(tokenProvider({
      getToken: cache,
      headerFormatter: (body: TokenBody) => `Bearer ${body.access_token}`
    }))
    const plain = axios.create({ validateStatus: () => true, responseType: "text" })
    return {
      call: async () => (await instance.get(endpoints.apiUrl)).status,
      callStatic: async (token) =>
        (await plain.get(endpoints.apiUrl, { headers: { authorization: `Bearer ${token}` } })).status,
      close: async () => {}
    }
  },
  close: async () => {}
})
