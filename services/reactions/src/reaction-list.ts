import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Type } from 'typebox'
import { Compile } from 'typebox/compile'
import { ReactionListEntry } from '@chat/contracts'
import { ConfigError, strongEtag } from '@chat/service-kit'

const ReactionListFile = Type.Array(ReactionListEntry, { minItems: 1 })
const checkReactionListFile = Compile(ReactionListFile)

/** The allowed reactions, read once at start from `reaction_list.json`. */
export interface ReactionList {
  /** The entries in the file's order: the body of `GET /emoji/`. */
  readonly entries: readonly ReactionListEntry[]
  /** Every allowed name, in the file's order. */
  readonly names: readonly string[]
  /** Strong ETag of the list (a hash of the served JSON), quotes included. */
  readonly etag: string
  /** True for an allowed name; names are case-sensitive. */
  has(name: string): boolean
}

/** A reaction list file that cannot be used; its message is one line naming the file and the problem. */
export class ReactionListError extends ConfigError {
  constructor(
    readonly file: string,
    readonly problem: string
  ) {
    super(file, problem)
    this.name = 'ReactionListError'
    // One line whatever the cause says (JSON.parse quotes the offending text, newlines included).
    this.message = `Invalid reaction list ${file}: ${problem.replace(/\s+/g, ' ').trim()}`
  }
}

/** `assets/reaction_list.json` of this package, found from this module, so it resolves from `src/` and `dist/` alike. */
export function defaultReactionListPath(): string {
  return fileURLToPath(new URL('../assets/reaction_list.json', import.meta.url))
}

/**
 * Checks the text of a reaction list: a non-empty JSON array of
 * `{name, emoji, label}` with unique names. `file` only names the source in errors.
 */
export function parseReactionList(text: string, file: string): ReactionList {
  let parsed: unknown
  try {
    // An editor's byte order mark is not a reason to refuse the file.
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''))
  } catch (error) {
    throw new ReactionListError(file, `is not valid JSON (${error instanceof Error ? error.message : String(error)})`)
  }
  if (!Array.isArray(parsed)) throw new ReactionListError(file, 'must be a JSON array of {name, emoji, label}')
  if (parsed.length === 0) throw new ReactionListError(file, 'is empty; it must list at least one reaction')
  if (!checkReactionListFile.Check(parsed)) {
    // TypeBox reports an unknown member twice; the `additionalProperties` report is the readable one.
    const first = checkReactionListFile.Errors(parsed).find((candidate) => candidate.keyword !== 'boolean')
    const issue = first as { instancePath?: string; message?: string; params?: { requiredProperties?: string[]; additionalProperties?: string[] } } | undefined
    const where = issue?.instancePath ? `at ${issue.instancePath}` : 'at the top level'
    const detail = issue?.params?.requiredProperties
      ? `is missing ${issue.params.requiredProperties.join(', ')}`
      : issue?.params?.additionalProperties
        ? `has unknown members ${issue.params.additionalProperties.join(', ')}`
        : (issue?.message ?? 'is invalid')
    throw new ReactionListError(file, `${where} ${detail}; each entry must be {name, emoji, label}`)
  }
  const entries = parsed.map((entry) => Object.freeze({ name: entry.name, emoji: entry.emoji, label: entry.label }))
  const firstIndex = new Map<string, number>()
  for (const [index, entry] of entries.entries()) {
    const earlier = firstIndex.get(entry.name)
    if (earlier !== undefined) throw new ReactionListError(file, `names the reaction "${entry.name}" twice (at /${earlier} and /${index})`)
    firstIndex.set(entry.name, index)
  }
  const names = Object.freeze(entries.map((entry) => entry.name))
  const allowed = new Set(names)
  const etag = strongEtag(JSON.stringify(entries))
  return Object.freeze({ entries: Object.freeze(entries), names, etag, has: (name: string) => allowed.has(name) })
}

/**
 * Reads and checks the reaction list (by default this package's
 * `assets/reaction_list.json`). Throws a {@link ReactionListError} for a file
 * that is missing, unreadable or malformed; `configOrExit` turns it into one
 * line on standard error and exit code 1.
 *
 * @example
 * const reactionList = loadReactionList()
 * reactionList.has('like') // true
 */
export function loadReactionList(path: string = defaultReactionListPath()): ReactionList {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const reason = (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error))
    throw new ReactionListError(path, `cannot be read (${reason})`)
  }
  return parseReactionList(text, path)
}
