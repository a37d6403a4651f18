// The messages service while its database restarts (a PostgreSQL of the
// test's own, stopped in immediate mode): POSTs and socket sends answer 503
// with Retry-After, never a 500, and both work again once it is back, with no
// restart of the service.
import t from 'tap'
import { subjects } from '@chat/contracts'
import { findPostgresBinDir, startPostgresServer } from '@chat/process-kit'
import { bearer, build } from './helper.js'
import { requestSend } from './send-request-cases.js'

if (!findPostgresBinDir() && process.env.REQUIRE_INFRA !== '1') {
  t.plan(0, 'PostgreSQL server binaries are not installed')
} else {
  t.test('503 while the database is down, served again when it is back', async (t) => {
    const server = await startPostgresServer()
    t.teardown(() => server.destroy())
    const h = await build(t, { databaseServerUrl: server.url })
    const ada = await h.createUser('Ada')
    const roomId = await h.createRoom(ada)
    t.equal((await h.send(ada, roomId, { text: 'before' })).statusCode, 201)

    await server.stop('immediate')
    const post = await h.send(ada, roomId, { text: 'during', client_msg_id: 'during-1' })
    t.equal(post.statusCode, 503, 'a POST gets 503')
    t.match(post.headers['content-type'], /^application\/problem\+json/)
    t.equal(post.headers['retry-after'], '5', 'with Retry-After')
    t.match(post.json(), { code: 'service_unavailable' })
    const list = await h.app.inject({ method: 'GET', url: `/messages/${roomId}/`, headers: bearer(ada) })
    t.equal(list.statusCode, 503, 'a read gets 503 too')
    const socketSend = await requestSend(h.bus, { user: { id: ada.id, display_name: ada.display_name }, room_id: roomId, text: 'during', client_msg_id: 'during-2' }, subjects.messagesSend())
    t.match(socketSend, { status: 503, problem: { code: 'service_unavailable' } }, 'a message from a socket gets the same 503, not internal_error')
    const ready = await h.app.inject({ method: 'GET', url: '/readyz' })
    t.equal(ready.statusCode, 503, '/readyz says not ready')

    await server.start()
    const again = await h.send(ada, roomId, { text: 'during', client_msg_id: 'during-1' })
    t.equal(again.statusCode, 201, 'the retried POST is stored once the database is back')
    t.match(await requestSend(h.bus, { user: { id: ada.id, display_name: ada.display_name }, room_id: roomId, text: 'during', client_msg_id: 'during-2' }, subjects.messagesSend()), { status: 201 })
    t.equal((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'and ready again')
  })
}
