export { messagesPlugin, type MessagesPluginOptions } from './plugin.js'
export { buildApp, type MessagesDeps, type MessagesAppOptions } from './app.js'
export { MessagesConfig } from './config.js'
export {
  SendMessageRequest,
  SendMessageReply,
  SendMessageSuccess,
  SendMessageFailure
} from './send-request.schemas.js'
export { answerSendRequest } from './send-request.handler.js'
export {
  EditMessageBody,
  ListMessagesQuery,
  MessageParams,
  RoomParams,
  SendMessageBody
} from './messages.schemas.js'
