export { buildStandaloneApp, type StandaloneDeps, type StandaloneOptions } from './app.js'
export { StandaloneConfig } from './config.js'
export { loadOrCreateSigningKey } from './signing-key.js'
