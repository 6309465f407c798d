/**
 * A real Redis Cluster for tests: three masters (no replicas) on free loopback ports, each in a temporary directory
 * with persistence off, joined with `redis-cli --cluster create`, and stopped on demand.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import * as RedisServer from "./redisServer.js"

const run = promisify(execFile)

export interface RedisCluster {
  readonly urls: ReadonlyArray<string>
  readonly stop: () => Promise<void>
}

const startNode = (port: number, dir: string): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(RedisServer.redisServerPath!, [
      ...["--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes"],
      ...["--cluster-config-file", join(dir, "nodes.conf"), "--save", "", "--appendonly", "no", "--dir", dir]
    ], { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes("Ready to accept connections")) resolve(child)
    })
    child.once("exit", (code) => reject(new Error(`redis-server (cluster node) exited with ${code}:\n${output}`)))
  })

/** Starts three cluster nodes and waits until the cluster says `cluster_state:ok` (at most 20 s). */
export const start = async (): Promise<RedisCluster> => {
  const ports = [await RedisServer.freePort(), await RedisServer.freePort(), await RedisServer.freePort()]
  const dirs = ports.map(() => mkdtempSync(join(tmpdir(), "effect-oauth-cluster-")))
  const children = await Promise.all(ports.map((port, i) => startNode(port, dirs[i]!)))
  const stop = async () => {
    for (const child of children) child.kill("SIGKILL")
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
  try {
    const nodes = ports.map((port) => `127.0.0.1:${port}`)
    await run("redis-cli", ["--cluster", "create", ...nodes, "--cluster-replicas", "0", "--cluster-yes"])
    for (let i = 0;; i++) {
      const { stdout } = await run("redis-cli", ["-p", String(ports[0]), "cluster", "info"])
      if (stdout.includes("cluster_state:ok")) break
      if (i === 100) throw new Error(`the cluster did not become ready:\n${stdout}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  } catch (error) {
    await stop()
    throw error
  }
  return { urls: ports.map((port) => `redis://127.0.0.1:${port}`), stop }
}
