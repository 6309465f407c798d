/**
 * What the results were measured on: the machine (CPU, cores, memory, load), Node, the commit, and the installed
 * version of every package a contender is made of.
 */
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import type { Definition } from "./contenders/contender.js"

const here = fileURLToPath(new URL(".", import.meta.url))

// Read from the bench package's node_modules: some packages do not export their package.json.
const version = (name: string): string => {
  try {
    return (JSON.parse(readFileSync(`${here}node_modules/${name}/package.json`, "utf8")) as { version: string }).version
  } catch {
    return "unknown"
  }
}

const commit = () => {
  try {
    const sha = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: here, encoding: "utf8" }).trim()
    const dirty = execFileSync("git", ["status", "--porcelain"], { cwd: here, encoding: "utf8" }).trim() !== ""
    return dirty ? `${sha} (with uncommitted changes)` : sha
  } catch {
    return "unknown"
  }
}

export const describe = (contenders: ReadonlyArray<Definition>) => {
  const cpus = os.cpus()
  return {
    machine: {
      cpu: cpus[0]?.model ?? "unknown",
      cores: cpus.length,
      memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      loadAverageAtStart: os.loadavg().map((load) => Math.round(load * 100) / 100)
    },
    node: process.version,
    commit: commit(),
    contenders: contenders.map((contender) => ({
      name: contender.name,
      usage: contender.usage,
      packages: Object.fromEntries(contender.packages.map((name) => [name, version(name)]))
    }))
  }
}

export type Environment = ReturnType<typeof describe>
