/**
 * A loopback TCP proxy in front of a Redis server that can turn its open connections into black holes: they stay
 * open, but nothing passes either way, as with a half-open connection or node-redis's "ready but dead" socket after a
 * restart (redis/node-redis#3108). New connections pass as usual.
 */
import * as net from "node:net"

export interface Blackhole {
  readonly url: string
  /** Every connection open now stops carrying data (new ones are not affected). */
  readonly swallowOpenConnections: () => void
  /** How many connections the proxy has accepted. */
  readonly accepted: () => number
  readonly close: () => Promise<void>
}

export const start = (targetPort: number): Promise<Blackhole> =>
  new Promise((resolve, reject) => {
    const open = new Set<{ swallowed: boolean; sockets: Array<net.Socket> }>()
    let accepted = 0
    const server = net.createServer((client) => {
      accepted++
      const upstream = net.connect(targetPort, "127.0.0.1")
      const connection = { swallowed: false, sockets: [client, upstream] }
      open.add(connection)
      const forward = (from: net.Socket, to: net.Socket) =>
        from.on("data", (chunk) => {
          if (!connection.swallowed) to.write(chunk)
        })
      forward(client, upstream)
      forward(upstream, client)
      const end = () => {
        open.delete(connection)
        client.destroy()
        upstream.destroy()
      }
      client.on("error", end).on("close", end)
      upstream.on("error", end).on("close", end)
    })
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address() as net.AddressInfo
      resolve({
        url: `redis://127.0.0.1:${address.port}`,
        swallowOpenConnections: () => {
          for (const connection of open) connection.swallowed = true
        },
        accepted: () => accepted,
        close: () =>
          new Promise((done) => {
            for (const connection of open) for (const socket of connection.sockets) socket.destroy()
            server.close(() => done())
          })
      })
    })
  })
