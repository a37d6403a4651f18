import type { FastifySchemaCompiler } from 'fastify'
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'

const integerText = /^-?(?:0|[1-9]\d*)$/
const numberText = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/

interface PropertySchema {
  type?: string
  anyOf?: PropertySchema[]
}

function typesOf(schema: PropertySchema | undefined): Set<string> {
  const types = new Set<string>()
  if (!schema) return types
  if (schema.type) types.add(schema.type)
  for (const member of schema.anyOf ?? []) for (const type of typesOf(member)) types.add(type)
  return types
}

/**
 * Converts the strings of a query string or path to what the schema wants,
 * strictly: `"12"` becomes 12, but `"1.5"`, `"1e3"` or `" 7"` stay strings and
 * fail validation (400) instead of being silently truncated or reinterpreted.
 */
function convertStrings(schema: { properties?: Record<string, PropertySchema> }, value: unknown): unknown {
  if (!schema.properties || typeof value !== 'object' || value === null) return value
  const converted: Record<string, unknown> = { ...(value as Record<string, unknown>) }
  for (const [name, property] of Object.entries(schema.properties)) {
    const raw = converted[name]
    if (typeof raw !== 'string') continue
    const types = typesOf(property)
    if (types.has('string')) continue
    if (types.has('integer') && integerText.test(raw)) converted[name] = Number(raw)
    else if (types.has('number') && numberText.test(raw)) converted[name] = Number(raw)
    else if (types.has('boolean') && (raw === 'true' || raw === 'false')) converted[name] = raw === 'true'
  }
  return converted
}

/**
 * Fastify validation with compiled TypeBox checks. Bodies are checked as
 * sent (JSON has types); query strings, params and headers are converted
 * strictly first.
 */
export const strictValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema)
  const convert = httpPart !== undefined && httpPart !== 'body'
  return (value: unknown) => {
    const candidate = convert ? convertStrings(schema, value) : value
    if (check.Check(candidate)) return { value: candidate }
    return { error: [...check.Errors(candidate)] as never }
  }
}
