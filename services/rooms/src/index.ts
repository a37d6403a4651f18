export { roomsPlugin, type RoomsPluginOptions } from './plugin.js'
export { buildApp, type RoomsDeps, type RoomsAppOptions } from './app.js'
export { RoomsConfig } from './config.js'
export { defaultAvatarLimits, processAvatar, sniffImageType, type AvatarLimits } from './image.js'
