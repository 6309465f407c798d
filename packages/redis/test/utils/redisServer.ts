/**
 * A real `redis-server` for tests: started on a free loopback port in a temporary directory, with persistence off,
 * and stopped (or killed, paused, restarted) on demand. Outside CI a missing `redis-server` skips the tests that
 * need it (with a message saying how to install it); with `CI=true` it is a failure.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import * as net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

const findRedisServer = (): string | undefined => {
  try {
    return execFileSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).trim() || undefined
  } catch {
    return undefined
  }
}

/** The path of `redis-server`, if installed. */
export const redisServerPath = findRedisServer()

const installHint = "install it with `apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis`"

/**
 * Whether the Redis tests run: true with a `redis-server`; false outside CI without one (a warning says how to
 * install it); throws in CI without one, so CI fails instead of skipping.
 */
export const available = (): boolean => {
  if (redisServerPath !== undefined) return true
  if (process.env["CI"] === "true") throw new Error(`redis-server is required in CI: ${installHint}`)
  console.warn(`Skipping the @effect-oauth/redis tests: redis-server is not installed; ${installHint}`)
  return false
}

/**
 * Store timeouts for tests that are not about timeouts: the defaults (500 ms per command, 2 s to connect) are
 * sometimes exceeded on a loaded CI machine, which would fail a test about something else.
 */
export const loadedMachineTimeouts = { commandTimeout: "5 seconds", connectTimeout: "5 seconds" } as const

/** A free TCP port on 127.0.0.1 (taken from the OS, then released). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => typeof address === "object" && address !== null ? resolve(address.port) : reject())
    })
  })

/** A running (or stopped) test server: its URL stays the same across `restart`. */
export interface RedisServer {
  readonly port: number
  readonly url: string
  /** Kills the server with SIGKILL (a crash): connections drop, data is gone. */
  readonly kill: () => Promise<void>
  /** Starts a fresh, empty server on the same port. */
  readonly restart: () => Promise<void>
  /** SIGSTOP / SIGCONT: the server stops answering without closing connections. */
  readonly pause: () => void
  readonly resume: () => void
  readonly stop: () => Promise<void>
}

const startProcess = (port: number, dir: string): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(redisServerPath!, [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--daemonize",
      "no"
    ], { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`redis-server did not start within 10 s:\n${output}`))
    }, 10_000)
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer)
        resolve(child)
      }
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`redis-server exited with ${code}:\n${output}`))
    })
  })

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()))

/** Starts `redis-server` on `port` (default: a free loopback port). */
export const start = async (port?: number): Promise<RedisServer> => {
  port ??= await freePort()
  const dir = mkdtempSync(join(tmpdir(), "effect-oauth-redis-"))
  let child = await startProcess(port, dir)
  const fixedPort = port
  const kill = async () => {
    child.kill("SIGKILL")
    await exited(child)
  }
  return {
    port: fixedPort,
    url: `redis://127.0.0.1:${fixedPort}`,
    kill,
    restart: async () => {
      child = await startProcess(fixedPort, dir)
    },
    pause: () => {
      child.kill("SIGSTOP")
    },
    resume: () => {
      child.kill("SIGCONT")
    },
    stop: async () => {
      child.kill("SIGCONT")
      await kill()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
