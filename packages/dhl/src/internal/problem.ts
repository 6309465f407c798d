/**
 * The last segment of a DHL problem `type` URL (`https://api.dhlecs.com/docs/errors/400.0000005` → `400.0000005`):
 * `<status>.<service><version><serial>`, the stable code of the error. A `type` without a slash is returned as is.
 *
 * @internal
 */
export const problemCode = (type: string): string => {
  const segments = type.split(/[?#]/, 1)[0]!.split("/").filter((segment) => segment.length > 0)
  return segments.at(-1) ?? type
}

/**
 * Whether a problem title is the given one: DHL's titles are sentences whose casing is not a contract.
 *
 * @internal
 */
export const hasTitle = (problem: { readonly title: string }, title: string): boolean =>
  problem.title.trim().toLowerCase() === title.toLowerCase()

/**
 * One line for an error description: the title, the detail when there is one, and each invalid parameter as
 * `name: reason` (`Invalid request: grant_type: must be client_credentials; client_id: is required`).
 *
 * @internal
 */
export const describeProblem = (problem: {
  readonly title: string
  readonly detail?: string | undefined
  readonly invalidParams?: ReadonlyArray<{ readonly name: string; readonly reason: string }> | undefined
}): string => {
  const parts = [
    ...(problem.detail === undefined || problem.detail.length === 0 ? [] : [problem.detail]),
    ...(problem.invalidParams ?? []).map((param) => `${param.name}: ${param.reason}`)
  ]
  return parts.length === 0 ? problem.title : `${problem.title}: ${parts.join("; ")}`
}
