export { identityPlugin, type IdentityPluginOptions } from './plugin.js'
export { buildApp, type IdentityDeps, type IdentityAppOptions } from './app.js'
export { IdentityConfig, identityTokenConfig } from './config.js'
