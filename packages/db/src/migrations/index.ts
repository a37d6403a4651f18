import type { Migration } from 'kysely'
import * as m0001Initial from './0001_initial.js'
import * as m0002SendBatch from './0002_send_batch.js'
import * as m0003ThreadsMentions from './0003_threads_mentions.js'
import * as m0004DirectSearch from './0004_direct_search.js'
import * as m0005RateLimits from './0005_rate_limits.js'
import * as m0006RolesBlocks from './0006_roles_blocks.js'
import * as m0007Presence from './0007_presence.js'
import * as m0008SendPathStorage from './0008_send_path_storage.js'
import * as m0009SendGenericPlan from './0009_send_generic_plan.js'

/**
 * Every migration, by name, in the order they run (Kysely sorts by name).
 * A static map rather than a folder read, so it works the same from compiled
 * `dist/*.js` and from TypeScript sources under tsx. Add each new migration here.
 */
export const migrations: Record<string, Migration> = {
  '0001_initial': m0001Initial,
  '0002_send_batch': m0002SendBatch,
  '0003_threads_mentions': m0003ThreadsMentions,
  '0004_direct_search': m0004DirectSearch,
  '0005_rate_limits': m0005RateLimits,
  '0006_roles_blocks': m0006RolesBlocks,
  '0007_presence': m0007Presence,
  '0008_send_path_storage': m0008SendPathStorage,
  '0009_send_generic_plan': m0009SendGenericPlan
}
