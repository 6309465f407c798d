/**
 * A throwaway `redis-server` for the scripts (`pnpm demo:fleet`, `pnpm bench`): on a free loopback port, nothing
 * saved, in a temporary directory; `undefined` when no `redis-server` is installed.
 */
import { execFileSync, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import * as net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** How to get one, for the message a script prints without it. */
export const installHint = "install one (apt-get install -y redis-server, or brew install redis) and run it again"

const which = (): string | undefined => {
  try {
    return execFileSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).trim() || undefined
  } catch {
    return undefined
  }
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer().once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => typeof address === "object" && address !== null ? resolve(address.port) : reject())
    })
  })

/** Starts a `redis-server` and waits until it accepts connections; `undefined` when none is installed. */
export const start = async (): Promise<{ readonly url: string; readonly stop: () => void } | undefined> => {
  const path = which()
  if (path === undefined) return undefined
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), "effect-oauth-redis-"))
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir]
  const child = spawn(path, args, { stdio: ["ignore", "pipe", "inherit"] })
  await new Promise<void>((resolve, reject) => {
    let output = ""
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes("Ready to accept connections")) resolve()
    })
    child.once("exit", () => reject(new Error(`redis-server exited:\n${output}`)))
  })
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () => {
      child.kill("SIGKILL")
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
