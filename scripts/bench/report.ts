/**
 * The report: one markdown table per scenario on stdout, and everything (machine, versions, configuration, raw
 * per-round numbers) in `bench/results.json`.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import type { Environment } from "./environment.js"
import type { Section } from "./scenarios/context.js"

const escape = (cell: string) => cell.replace(/\|/g, "\\|")

export const table = (section: Section): string =>
  [
    `### ${section.title}`,
    "",
    section.reading,
    "",
    `| ${section.headers.map(escape).join(" | ")} |`,
    `| ${section.headers.map(() => "---").join(" | ")} |`,
    ...section.rows.map((row) => `| ${row.map(escape).join(" | ")} |`),
    ...(section.notes.length === 0 ? [] : ["", ...section.notes.map((note) => `- ${note}`)])
  ].join("\n")

export const machine = (environment: Environment, wallSeconds: number): string => {
  const { machine } = environment
  return `Measured on ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}, Node ` +
    `${environment.node}, commit ${environment.commit}; load average at start ${
      machine.loadAverageAtStart.join(" ")
    }; ` +
    `the whole run took ${Math.round(wallSeconds)} s.`
}

export const versions = (environment: Environment): string =>
  environment.contenders
    .filter((contender) => Object.keys(contender.packages).length > 0)
    .map((contender) =>
      Object.entries(contender.packages).map(([name, version]) => `\`${name}@${version}\``).join(" + ")
    )
    .join(", ")

export const write = (path: string, content: unknown) => {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, JSON.stringify(content, null, 2) + "\n")
}
