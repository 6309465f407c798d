/**
 * Every relative link of the repository's READMEs resolves: the file or directory exists, and an `#anchor` names a
 * heading of the target (GitHub's slugs). Web links are not fetched.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"

const root = Path.resolve(__dirname, "../../..")

const readmes = [
  "README.md",
  ...Fs.readdirSync(Path.join(root, "packages"))
    .map((name) => Path.join("packages", name, "README.md"))
    .filter((file) => Fs.existsSync(Path.join(root, file)))
]

// GitHub's heading anchors: lower case, punctuation other than `-` and `_` dropped, spaces as `-`.
const slug = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-")

const anchors = (file: string): ReadonlySet<string> => {
  const text = Fs.readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "")
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((match) => slug(match[1]!)))
}

const links = (file: string): ReadonlyArray<string> => {
  const text = Fs.readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "")
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!)
}

describe("README links", () => {
  it("the slugs follow GitHub's rule", () => {
    assert.strictEqual(
      slug("Usage: an `HttpClient` that carries the token"),
      "usage-an-httpclient-that-carries-the-token"
    )
  })

  for (const readme of readmes) {
    it(`${readme}: every relative link resolves`, () => {
      const file = Path.join(root, readme)
      const broken: Array<string> = []
      for (const link of links(file)) {
        if (/^[a-z]+:/i.test(link)) continue
        const [target = "", anchor] = link.split("#", 2)
        const resolved = target === "" ? file : Path.resolve(Path.dirname(file), target)
        if (!Fs.existsSync(resolved)) {
          broken.push(`${link}: no such file`)
          continue
        }
        if (anchor === undefined) continue
        const headings = Fs.statSync(resolved).isDirectory()
          ? anchors(Path.join(resolved, "README.md"))
          : anchors(resolved)
        if (!headings.has(anchor)) broken.push(`${link}: no heading #${anchor}`)
      }
      assert.deepStrictEqual(broken, [])
    })
  }
})
