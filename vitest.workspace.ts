// The list of vitest projects: every package with its own vitest.config.ts.
export default ["packages/*"]
