/**
 * The loopback token server and API server every contender talks to, in the bench's parent process (so no contender
 * shares an event loop with them). Plain `node:http`, the same for everyone:
 * - token server: `POST /oauth/token`, `grant_type=client_credentials`, credentials in a Basic header or in the form
 *   body; any client id is accepted with the shared secret, so each contender (and each round) gets its own id and
 *   its own count. Tokens are JWT-shaped (`exp` in the payload) because `undici-oidc-interceptor` reads `exp`.
 *   Every request is recorded with its arrival time. `setMode` answers 503, or closes the listener so that
 *   connections are refused, and back.
 * - API server: `GET /api/resource` answers 200 for a live token, 401 for a missing, unknown, expired or revoked one.
 */
import { Buffer } from "node:buffer"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { now } from "./clock.js"

export const clientSecret = "bench-secret"

export type Mode = "up" | "unavailable" | "refused"

export interface Servers {
  readonly tokenUrl: string
  readonly apiUrl: string
  readonly apiOrigin: string
  /** Lifetime in seconds of the tokens issued to a client id (default one hour). */
  readonly setLifetime: (clientId: string, seconds: number) => void
  /** Arrival times (epoch ms) of the token requests naming this client id, answered or not. */
  readonly tokenRequests: (clientId: string) => ReadonlyArray<number>
  readonly setMode: (mode: Mode) => Promise<void>
  /** Revokes every token issued to the client so far. */
  readonly revoke: (clientId: string) => void
  /** Forgets tokens and counts, between scenarios. */
  readonly reset: () => void
  readonly close: () => Promise<void>
}

interface Issued {
  readonly clientId: string
  readonly issuedAt: number
  readonly expiresAt: number
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")

const readBody = (request: http.IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    request.on("error", reject)
  })

const credentials = (request: http.IncomingMessage, form: URLSearchParams) => {
  const header = request.headers.authorization
  if (header !== undefined && header.toLowerCase().startsWith("basic ")) {
    const decoded = Buffer.from(header.slice(6), "base64").toString("utf8")
    const colon = decoded.indexOf(":")
    // RFC 6749 §2.3.1 form-encodes both parts; the plain form of most clients decodes to the same for these ids.
    const decode = (part: string) => decodeURIComponent(part.replace(/\+/g, " "))
    return { id: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) }
  }
  return { id: form.get("client_id") ?? undefined, secret: form.get("client_secret") ?? undefined }
}

const json = (response: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) => {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers
  })
  response.end(text)
}

const listen = (server: http.Server, port: number) =>
  new Promise<number>((resolve, reject) => {
    server.once("error", reject)
    // A deep accept queue: 10,000 simultaneous connects must not be dropped and retried a second later.
    server.listen({ port, host: "127.0.0.1", backlog: 65_535 }, () => {
      server.off("error", reject)
      resolve((server.address() as AddressInfo).port)
    })
  })

const close = (server: http.Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })

export const start = async (): Promise<Servers> => {
  const lifetimes = new Map<string, number>()
  const requests = new Map<string, Array<number>>()
  const tokens = new Map<string, Issued>()
  const revokedAt = new Map<string, number>()
  let serial = 0
  let mode: Mode = "up"

  const onToken = async (request: http.IncomingMessage, response: http.ServerResponse) => {
    const arrived = now()
    const form = new URLSearchParams(await readBody(request))
    const client = credentials(request, form)
    if (client.id !== undefined) {
      const list = requests.get(client.id)
      if (list === undefined) requests.set(client.id, [arrived])
      else list.push(arrived)
    }
    if (request.method !== "POST" || request.url !== "/oauth/token") {
      return json(response, 404, { error: "not_found" })
    }
    if (mode === "unavailable") return json(response, 503, { error: "temporarily_unavailable" })
    if (form.get("grant_type") !== "client_credentials") return json(response, 400, { error: "unsupported_grant_type" })
    if (client.id === undefined || client.secret !== clientSecret) {
      return json(response, 401, { error: "invalid_client" })
    }
    const lifetime = lifetimes.get(client.id) ?? 3600
    const issuedAt = now()
    const expiresAt = issuedAt + lifetime * 1000
    serial += 1
    const token = `${base64url({ alg: "none", typ: "JWT" })}.${
      base64url({ sub: client.id, iat: issuedAt / 1000, exp: expiresAt / 1000, jti: serial })
    }.bench`
    tokens.set(token, { clientId: client.id, issuedAt, expiresAt })
    json(response, 200, { access_token: token, token_type: "Bearer", expires_in: lifetime })
  }

  const onApi = (request: http.IncomingMessage, response: http.ServerResponse) => {
    if (request.url !== "/api/resource") return json(response, 404, { error: "not_found" })
    const header = request.headers.authorization
    const issued = header?.startsWith("Bearer ") ? tokens.get(header.slice(7)) : undefined
    const revoked = issued === undefined ? undefined : revokedAt.get(issued.clientId)
    if (issued === undefined || issued.expiresAt <= now() || (revoked !== undefined && issued.issuedAt <= revoked)) {
      return json(response, 401, { error: "invalid_token" }, { "www-authenticate": "Bearer error=\"invalid_token\"" })
    }
    json(response, 200, { ok: true })
  }

  const handler =
    (serve: (request: http.IncomingMessage, response: http.ServerResponse) => unknown) =>
    (request: http.IncomingMessage, response: http.ServerResponse) => {
      Promise.resolve(serve(request, response)).catch(() => response.destroy())
    }

  // Idle connections stay open for a minute: a server closing one just as a client reuses it would fail that call
  // with a reset (a race every client loses now and then), which is not what the bench measures.
  const options: http.ServerOptions = { keepAliveTimeout: 60_000, requestTimeout: 0 }
  const tokenServer = http.createServer(options, handler(onToken))
  const apiServer = http.createServer(options, handler(onApi))
  const tokenPort = await listen(tokenServer, 0)
  const apiPort = await listen(apiServer, 0)
  const apiOrigin = `http://127.0.0.1:${apiPort}`

  return {
    tokenUrl: `http://127.0.0.1:${tokenPort}/oauth/token`,
    apiUrl: `${apiOrigin}/api/resource`,
    apiOrigin,
    setLifetime: (clientId, seconds) => {
      lifetimes.set(clientId, seconds)
    },
    tokenRequests: (clientId) => requests.get(clientId) ?? [],
    setMode: async (next) => {
      if (next === mode) return
      if (mode === "refused") await listen(tokenServer, tokenPort)
      if (next === "refused") await close(tokenServer)
      mode = next
    },
    revoke: (clientId) => {
      revokedAt.set(clientId, now())
    },
    reset: () => {
      lifetimes.clear()
      requests.clear()
      tokens.clear()
      revokedAt.clear()
    },
    close: async () => {
      await Promise.all([mode === "refused" ? Promise.resolve() : close(tokenServer), close(apiServer)])
    }
  }
}
