/**
 * The hand-written baseline: `fetch` plus a cached token promise, refreshed when the token has expired. Concurrent
 * callers share the pending promise; no expiry margin, no background refresh, no retry on a 401.
 */
import { now } from "../clock.js"
import type { Contender, Endpoints, Tenant } from "./contender.js"

interface Token {
  readonly value: string
  readonly expiresAt: number
}

export const make = async (endpoints: Endpoints): Promise<Contender> => ({
  make: async (tenant: Tenant) => {
    const fetchToken = async (): Promise<Token> => {
      const response = await fetch(endpoints.tokenUrl, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: `Basic ${btoa(`${tenant.clientId}:${tenant.clientSecret}`)}`
        },
        body: "grant_type=client_credentials"
      })
      if (!response.ok) throw new Error(`token endpoint answered ${response.status}`)
      const body = await response.json() as { access_token: string; expires_in: number }
      return { value: body.access_token, expiresAt: now() + body.expires_in * 1000 }
    }
    let cached: Promise<Token> | undefined
    const token = async (): Promise<Token> => {
      if (cached === undefined) {
        const pending = fetchToken()
        cached = pending
        pending.catch(() => {
          if (cached === pending) cached = undefined
        })
      }
      const current = cached
      const value = await current
      if (value.expiresAt > now()) return value
      if (cached === current) cached = undefined
      return token()
    }
    const get = async (authorization: string) => {
      const response = await fetch(endpoints.apiUrl, { headers: { authorization } })
      await response.text()
      return response.status
    }
    return {
      call: async () => get(`Bearer ${(await token()).value}`),
      callStatic: (value) => get(`Bearer ${value}`),
      close: async () => {}
    }
  },
  close: async () => {}
})
