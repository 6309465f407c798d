/**
 * A real HTTP server on a loopback socket for tests: records every request (method, url, headers, raw body) and
 * answers with a programmable reply. Scoped: closing the scope drops open connections and closes the server.
 */
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import type * as Net from "node:net"

export interface RecordedRequest {
  readonly method: string
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

/**
 * An answer; a streamed answer (`write` gets the response after the status and headers were set and writes the body
 * itself, e.g. endlessly; it must stop when the response emits `close`); or `"hang"`: never answer (the connection
 * stays open until the client gives up or the scope closes).
 */
export type Reply =
  | {
    readonly status: number
    readonly headers?: Readonly<Record<string, string>>
    readonly body?: string | Uint8Array
  }
  | {
    readonly status: number
    readonly headers?: Readonly<Record<string, string>>
    readonly write: (response: Http.ServerResponse) => void
  }
  | "hang"

export type Handler = (request: RecordedRequest) => Reply

export interface HttpTestServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string
  readonly port: number
  /** Every request received so far, in order. */
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  /** Waits for the next request not yet taken (requests are queued as they arrive). */
  readonly takeRequest: Effect.Effect<RecordedRequest>
  /** Replaces the handler for the following requests. */
  readonly setHandler: (handler: Handler) => Effect.Effect<void>
}

/** A JSON reply. */
export const json = (
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {}
): Reply => ({
  status,
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body)
})

const listen = (server: Http.Server) =>
  Effect.async<number>((resume) => {
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as Net.AddressInfo).port)))
  })

const close = (server: Http.Server) =>
  Effect.async<void>((resume) => {
    server.closeAllConnections()
    server.close(() => resume(Effect.void))
  })

/** Starts a server answering with `handler` (default: 404). */
export const make = (handler: Handler = () => ({ status: 404 })): Effect.Effect<HttpTestServer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const recorded: Array<RecordedRequest> = []
    const queue = yield* Queue.unbounded<RecordedRequest>()
    let current = handler
    const server = Http.createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        const request: RecordedRequest = {
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8")
        }
        recorded.push(request)
        Queue.unsafeOffer(queue, request)
        const reply = current(request)
        if (reply === "hang") return
        res.on("error", () => {}) // a client that stops reading resets the connection
        res.writeHead(reply.status, reply.headers)
        if ("write" in reply) reply.write(res)
        else res.end(reply.body)
      })
    })
    const port = yield* Effect.acquireRelease(listen(server), () => close(server))
    return {
      origin: `http://127.0.0.1:${port}`,
      port,
      requests: Effect.sync(() => [...recorded]),
      takeRequest: Queue.take(queue),
      setHandler: (next) =>
        Effect.sync(() => {
          current = next
        })
    }
  })

/** A loopback port nothing listens on: bound, then released. */
export const closedPort: Effect.Effect<number> = Effect.gen(function*() {
  const server = Http.createServer()
  const port = yield* listen(server)
  yield* close(server)
  return port
})

/**
 * A streamed body for a `write` reply: writes the chunks `next` returns, respecting backpressure, until it returns
 * `undefined` (then ends the response) or the client goes away. `sent` counts the bytes handed to the socket.
 */
export const pump = (
  next: () => Uint8Array | string | undefined,
  sent: { bytes: number } = { bytes: 0 }
) =>
(response: Http.ServerResponse): void => {
  let closed = false
  response.on("close", () => {
    closed = true
  })
  const loop = (): void => {
    while (!closed) {
      const chunk = next()
      if (chunk === undefined) {
        response.end()
        return
      }
      sent.bytes += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length
      if (!response.write(chunk)) {
        response.once("drain", loop)
        return
      }
    }
  }
  loop()
}

/**
 * A body that never ends and barely moves: `chunk` every `intervalMillis` of real time until the client goes away.
 * `started` runs after the first chunk is written.
 */
export const drip =
  (chunk: string, intervalMillis: number, started: () => void = () => {}) => (response: Http.ServerResponse): void => {
    response.write(chunk)
    started()
    const timer = setInterval(() => response.write(chunk), intervalMillis)
    response.on("close", () => clearInterval(timer))
  }
