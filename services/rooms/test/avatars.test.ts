import t from 'tap'
import sharp from 'sharp'
import type { Room } from '@chat/contracts'
import { multipartFile, pngFile } from '@chat/service-kit/testing'
import { createSemaphore } from '../src/avatars.service.js'
import type { RoomsAppOptions } from '../src/app.js'
import { build, unknownRoomId, waitFor, type TestUser } from './helper.js'

const multipart = multipartFile

/** A small file whose header declares width x height pixels: a decompression bomb. */
function pngDeclaring(width: number, height: number): Buffer {
  return pngFile(width, height, Buffer.alloc(64 * 1024))
}

function noise(width: number, height: number) {
  return sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 70 } } })
}

async function setup(t: Tap, options: RoomsAppOptions = {}) {
  const harness = await build(t, options)
  const ada = await harness.user('Ada')
  await harness.user('Bob')
  const room = await harness.createRoom(ada, 'Pictures', ['Bob'])
  const upload = (user: TestUser, bytes: Buffer, options: { field?: string; filename?: string; type?: string; roomId?: string } = {}) => {
    const form = multipart(options.field ?? 'avatar', options.filename ?? 'avatar.jpg', options.type ?? 'image/jpeg', bytes)
    return harness.app.inject({ method: 'PATCH', url: `/chatrooms/${options.roomId ?? room.id}/avatar/`, headers: { ...user.headers, ...form.headers }, payload: form.payload })
  }
  return { ...harness, ada, room, upload }
}
type Tap = { teardown(fn: () => unknown): void }

t.test('a 2 MB JPEG round trip: WebP, at most 512x512, aspect kept, metadata stripped', async (t) => {
  const { app, ada, room, upload, events } = await setup(t)
  const jpeg = await noise(2000, 1500).withExif({ IFD0: { Copyright: 'Ada secret', ImageDescription: 'GPS here' } }).jpeg({ quality: 97 }).toBuffer()
  t.ok(jpeg.length >= 2_000_000, `input is ${jpeg.length} bytes`)
  t.ok((await sharp(jpeg).metadata()).exif, 'the input carries EXIF')
  const response = await upload(ada, jpeg, { filename: 'holiday.txt', type: 'text/plain' })
  t.equal(response.statusCode, 200, response.body)
  const avatar = response.json()
  t.match(avatar, { room_id: room.id, content_type: 'image/webp', width: 512, height: 384 })
  t.match(avatar.avatar_url, new RegExp(`^/chatrooms/${room.id}/avatar/\\?v=`))
  t.match(avatar.etag, /^"[\w-]+"$/)

  const fetched = await app.inject({ method: 'GET', url: avatar.avatar_url, headers: ada.headers })
  t.equal(fetched.statusCode, 200)
  t.equal(fetched.headers['content-type'], 'image/webp')
  t.equal(fetched.headers.etag, avatar.etag)
  t.equal(fetched.headers['cache-control'], 'private')
  t.equal(fetched.rawPayload.length, avatar.size)
  const stored = await sharp(fetched.rawPayload).metadata()
  t.equal(stored.format, 'webp')
  t.same([stored.width, stored.height], [512, 384])
  t.notOk(stored.exif, 'no EXIF')
  t.notOk(stored.icc, 'no ICC profile')
  t.notOk(fetched.rawPayload.includes(Buffer.from('Ada secret')), 'no trace of the metadata')

  const cached = await app.inject({ method: 'GET', url: `/chatrooms/${room.id}/avatar/`, headers: { ...ada.headers, 'if-none-match': avatar.etag } })
  t.equal(cached.statusCode, 304)
  t.equal(cached.body, '')
  t.equal(cached.headers.etag, avatar.etag)
  const stale = await app.inject({ method: 'GET', url: `/chatrooms/${room.id}/avatar/`, headers: { ...ada.headers, 'if-none-match': '"other"' } })
  t.equal(stale.statusCode, 200)

  const listed = await app.inject({ method: 'GET', url: `/chatrooms/${room.id}/`, headers: ada.headers })
  t.equal(listed.json<Room>().avatar_url, avatar.avatar_url)
  await waitFor(() => events.length === 2)
  t.match(events[1], { type: 'room.updated', seq: 2, room: { id: room.id, avatar_url: avatar.avatar_url } })
})

t.test('small images are not upscaled; PNG, GIF (first frame) and WebP are accepted', async (t) => {
  const { ada, upload } = await setup(t)
  const small = await upload(ada, await noise(100, 40).png().toBuffer(), { filename: 'a.png', type: 'image/png' })
  t.equal(small.statusCode, 200)
  t.match(small.json(), { width: 100, height: 40 })
  const tall = await upload(ada, await noise(300, 1200).webp().toBuffer())
  t.match(tall.json(), { width: 128, height: 512 })
  const gif = await upload(ada, await noise(64, 64).gif().toBuffer())
  t.equal(gif.statusCode, 200)
  t.match(gif.json(), { content_type: 'image/webp', width: 64, height: 64 })
})

t.test('a PNG declaring 30000x30000 pixels is refused from its header, quickly', async (t) => {
  const { ada, upload, db } = await setup(t)
  const bomb = pngDeclaring(30_000, 30_000)
  t.ok(bomb.length < 200_000, 'a small file')
  const started = Date.now()
  const response = await upload(ada, bomb, { type: 'image/png' })
  const elapsed = Date.now() - started
  t.equal(response.statusCode, 422)
  t.equal(response.json().code, 'image_dimensions_too_large')
  t.ok(elapsed < 1000, `refused in ${elapsed} ms`)
  t.equal((await db.selectFrom('room_avatars').select('room_id').execute()).length, 0)
})

t.test('what is not an image: 415; a broken image: 422; never 500', async (t) => {
  const { ada, upload, db } = await setup(t)
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>')
  const cases: Array<[string, Buffer, string, number, string]> = [
    ['SVG', svg, 'image/svg+xml', 415, 'unsupported_media_type'],
    ['text named .png', Buffer.from('hello, definitely a png'), 'image/png', 415, 'unsupported_media_type'],
    ['PDF', Buffer.from('%PDF-1.7\n...'), 'application/pdf', 415, 'unsupported_media_type'],
    ['BMP', Buffer.from('BM' + 'x'.repeat(100)), 'image/bmp', 415, 'unsupported_media_type']
  ]
  const jpeg = await noise(400, 300).jpeg().toBuffer()
  cases.push(['truncated JPEG', jpeg.subarray(0, Math.floor(jpeg.length / 2)), 'image/jpeg', 422, 'invalid_image'])
  cases.push(['JPEG magic then garbage', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(500, 7)]), 'image/jpeg', 422, 'invalid_image'])
  for (const [label, bytes, type, status, code] of cases) {
    const response = await upload(ada, bytes, { type })
    t.equal(response.statusCode, status, label)
    t.equal(response.json().code, code, label)
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8', label)
  }
  t.equal((await db.selectFrom('room_avatars').select('room_id').execute()).length, 0, 'nothing stored')
})

t.test('upload limits and shape', async (t) => {
  const { app, ada, room, upload, user } = await setup(t)
  const oversize = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(5 * 1024 * 1024)])
  const tooLarge = await upload(ada, oversize)
  t.equal(tooLarge.statusCode, 413)
  t.equal(tooLarge.json().code, 'payload_too_large')
  const wrongField = await upload(ada, await noise(10, 10).png().toBuffer(), { field: 'picture' })
  t.equal(wrongField.statusCode, 400)
  t.equal(wrongField.json().code, 'avatar_missing')
  const json = await app.inject({ method: 'PATCH', url: `/chatrooms/${room.id}/avatar/`, headers: ada.headers, payload: { avatar: 'x' } })
  t.equal(json.statusCode, 415, 'not multipart')
  const png = await noise(10, 10).png().toBuffer()
  const cut = multipart('avatar', 'a.png', 'image/png', png)
  const truncated = await app.inject({
    method: 'PATCH',
    url: `/chatrooms/${room.id}/avatar/`,
    headers: { ...ada.headers, ...cut.headers },
    payload: cut.payload.subarray(0, cut.payload.length - 40)
  })
  t.equal(truncated.statusCode, 400, 'a body cut short')
  t.equal(truncated.json().code, 'malformed_multipart')
  const noBoundary = await app.inject({ method: 'PATCH', url: `/chatrooms/${room.id}/avatar/`, headers: { ...ada.headers, 'content-type': 'multipart/form-data' }, payload: cut.payload })
  t.ok([400, 415].includes(noBoundary.statusCode), `no boundary: ${noBoundary.statusCode}`)
  t.equal(noBoundary.headers['content-type'], 'application/problem+json; charset=utf-8')
  const otherFileFirst = await app.inject({
    method: 'PATCH',
    url: `/chatrooms/${room.id}/avatar/`,
    headers: { ...ada.headers, 'content-type': 'multipart/form-data; boundary=b' },
    payload: Buffer.concat([
      Buffer.from('--b\r\nContent-Disposition: form-data; name="other"; filename="x.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n'),
      Buffer.from('--b\r\nContent-Disposition: form-data; name="avatar"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'),
      png,
      Buffer.from('\r\n--b--\r\n')
    ])
  })
  t.equal(otherFileFirst.statusCode, 200, 'another file part before the avatar is skipped')
  const mallory = await user('Mallory')
  const outsider = await upload(mallory, await noise(10, 10).png().toBuffer())
  t.equal(outsider.statusCode, 403)
  t.equal((await upload(ada, await noise(10, 10).png().toBuffer(), { roomId: unknownRoomId })).statusCode, 404)
  const anonymous = await app.inject({ method: 'PATCH', url: `/chatrooms/${room.id}/avatar/`, ...multipart('avatar', 'a.png', 'image/png', Buffer.from('x')) })
  t.equal(anonymous.statusCode, 401)
})

t.test('get and delete: avatar_not_set, 204, room.updated', async (t) => {
  const { app, ada, room, upload, user, events } = await setup(t)
  const none = await app.inject({ method: 'GET', url: `/chatrooms/${room.id}/avatar/`, headers: ada.headers })
  t.equal(none.statusCode, 404)
  t.equal(none.json().code, 'avatar_not_set')
  t.equal((await app.inject({ method: 'DELETE', url: `/chatrooms/${room.id}/avatar/`, headers: ada.headers })).json().code, 'avatar_not_set')
  await upload(ada, await noise(50, 50).png().toBuffer())
  const mallory = await user('Mallory')
  t.equal((await app.inject({ method: 'GET', url: `/chatrooms/${room.id}/avatar/`, headers: mallory.headers })).statusCode, 403)
  t.equal((await app.inject({ method: 'DELETE', url: `/chatrooms/${room.id}/avatar/`, headers: mallory.headers })).statusCode, 403)
  const removed = await app.inject({ method: 'DELETE', url: `/chatrooms/${room.id}/avatar/`, headers: ada.headers })
  t.equal(removed.statusCode, 204)
  t.equal((await app.inject({ method: 'GET', url: `/chatrooms/${room.id}/avatar/`, headers: ada.headers })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: `/chatrooms/${room.id}/`, headers: ada.headers })).json().avatar_url, null)
  await waitFor(() => events.length === 3)
  t.match(events[2], { type: 'room.updated', seq: 3, room: { avatar_url: null } })
})

t.test('past the bounded decode queue an upload gets 503 overloaded with Retry-After, and nothing changes', async (t) => {
  // One decoding slot with room for one waiter; the test holds the slot.
  const decoding = createSemaphore(1, 1)
  const { app, ada, room, upload, events } = await setup(t, { avatarDecoding: decoding })
  let release = () => {}
  const held = decoding.run(() => new Promise<void>((resolve) => { release = resolve }))
  const png = await noise(64, 64).png().toBuffer()
  const queued = upload(ada, png)
  await waitFor(() => decoding.waiting === 1)
  const eventsBefore = events.length
  const refused = await upload(ada, png)
  t.equal(refused.statusCode, 503, refused.body)
  t.match(refused.headers['content-type'], /^application\/problem\+json/)
  t.equal(refused.headers['retry-after'], '2')
  t.match(refused.json(), { status: 503, code: 'overloaded' })
  t.equal(events.length, eventsBefore, 'no room event')
  t.equal((await app.inject({ method: 'GET', url: `/chatrooms/${room.id}/avatar/`, headers: ada.headers })).statusCode, 404, 'no avatar stored')
  release()
  await held
  t.equal((await queued).statusCode, 200, 'the waiting upload is decoded once a slot is free')
  t.equal((await upload(ada, png)).statusCode, 200, 'and the queue takes uploads again')
})

t.test('the decode semaphore: slots, then a bounded queue in order', async (t) => {
  const semaphore = createSemaphore(1, 2)
  const order: number[] = []
  const gates: Array<() => void> = []
  const task = (n: number) => semaphore.run(async () => {
    order.push(n)
    await new Promise<void>((resolve) => gates.push(resolve))
  })
  const runs = [task(1), task(2), task(3)]
  await waitFor(() => semaphore.waiting === 2)
  await t.rejects(task(4), { name: 'Error' }, 'a fourth is refused at once')
  while (order.length < 3 || gates.length > 0) {
    await waitFor(() => gates.length > 0)
    gates.shift()!()
  }
  await Promise.all(runs)
  t.same(order, [1, 2, 3], 'waiters run in order')
  t.equal(semaphore.waiting, 0)
})
