export { reactionsPlugin, type ReactionsPluginOptions } from './plugin.js'
export { buildApp, type ReactionsDeps, type ReactionsAppOptions } from './app.js'
export { ReactionsConfig } from './config.js'
export {
  defaultReactionListPath,
  loadReactionList,
  parseReactionList,
  ReactionListEntry,
  ReactionListError,
  type ReactionList
} from './reaction-list.js'
export { MessageReactionParams, Reaction, setReactionBody, type SetReactionBody } from './reactions.schemas.js'
