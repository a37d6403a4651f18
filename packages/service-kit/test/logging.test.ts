import t from 'tap'
import { loggerOptions, redactUrl } from '../src/logging.js'

t.test('a token in the query never reaches a log line', async (t) => {
  const secret = 'eyJhbGciOiJFZERTQSJ9.payload.signature'
  t.equal(redactUrl(`/ws/?token=${secret}`), '/ws/?token=[redacted]')
  t.equal(redactUrl(`/ws/chat/r1/?after_seq=4&token=${secret}&x=1`), '/ws/chat/r1/?after_seq=4&token=[redacted]&x=1', 'the rest of the query stays')
  t.equal(redactUrl(`/ws/?%74oken=${secret}`), '/ws/?%74oken=[redacted]', 'an escaped name is the same parameter to the query parser')
  t.equal(redactUrl(`/ws/?TOKEN=${secret}`), '/ws/?TOKEN=[redacted]', 'whatever its case')
  t.equal(redactUrl(`/ws/?token=a&token=${secret}`), '/ws/?token=[redacted]&token=[redacted]', 'every occurrence')
  t.equal(redactUrl('/users/?search=tok%25en'), '/users/?search=tok%25en', 'other parameters are left alone')
  t.equal(redactUrl('/ws/?%E0%A4%A=1'), '/ws/?%E0%A4%A=1', 'a malformed escape does not throw')
  t.equal(redactUrl('/messages/r1/'), '/messages/r1/')

  const options = loggerOptions('info') as { serializers: { req(request: { method: string; url: string; id: string }): { url: string } } }
  t.equal(options.serializers.req({ method: 'GET', url: `/ws/?%74oken=${secret}`, id: '1' }).url, '/ws/?%74oken=[redacted]', 'the request serializer uses it')
})
