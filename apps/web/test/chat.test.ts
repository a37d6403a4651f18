import { createChatClient } from '@chat/client'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import t from 'tap'
import { artifactPath, launchChromium, missingInfra, solidPng, startServer, type RunningServer } from './helpers.js'

/** Polls `check` until it holds; fails with `what` after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    try {
      if (await check()) return
    } catch (error) {
      lastError = error
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`timed out waiting for: ${what}`, { cause: lastError })
}

const password = 'correct horse battery'

async function register(page: Page, baseUrl: string, displayName: string): Promise<void> {
  await page.goto(baseUrl)
  await page.getByRole('button', { name: 'Create an account' }).click()
  await page.getByLabel('Display name').fill(displayName)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Register' }).click()
  await page.getByRole('heading', { name: 'Rooms' }).waitFor()
}

function roomButton(page: Page, name: string) {
  return page.locator(`button[data-room-name="${name}"]`)
}

function messageLine(page: Page, text: string) {
  return page.locator('li.message:not(.pending)').filter({ has: page.locator('.message-text').getByText(text, { exact: true }) })
}

/** The texts of the confirmed messages on screen, top to bottom. */
async function shownTexts(page: Page): Promise<string[]> {
  return page.locator('ol.messages > li.message:not(.pending) .message-text').allTextContents()
}

async function connection(page: Page): Promise<string | null> {
  return page.locator('[data-connection]').getAttribute('data-connection')
}

async function send(page: Page, text: string): Promise<void> {
  const composer = page.getByLabel('Message', { exact: true })
  await composer.fill(text)
  await composer.press('Enter')
}

const missing = missingInfra()
if (missing.length > 0) {
  if (process.env.REQUIRE_INFRA === '1') t.fail(`end-to-end infrastructure missing: ${missing.join('; ')}`)
  else t.test('end-to-end', { skip: `infrastructure missing: ${missing.join('; ')} (REQUIRE_INFRA=1 makes this a failure)` }, () => {})
} else {
  t.test('two users chat through the built web app against the real server', async (t) => {
    const server: RunningServer = await startServer()
    t.teardown(() => server.stop())
    const browser: Browser = await launchChromium()
    t.teardown(() => browser.close())
    const { baseUrl } = server
    const contextA: BrowserContext = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const contextB: BrowserContext = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const ada = await contextA.newPage()
    const bob = await contextB.newPage()
    const pageErrors: string[] = []
    for (const page of [ada, bob]) page.on('pageerror', (error) => pageErrors.push(error.message))
    const policyViolations: string[] = []
    for (const page of [ada, bob]) {
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) policyViolations.push(message.text())
      })
    }
    // Display names come back unchanged: markup and quotes included.
    const adaName = 'Ada "<b>"'
    const bobName = 'Bob'

    await t.test('register, and the login view', async (t) => {
      await ada.goto(baseUrl)
      await ada.getByRole('heading', { name: 'Sign in to Chat' }).waitFor()
      await ada.screenshot({ path: await artifactPath('login-1280.png') })
      await register(ada, baseUrl, adaName)
      await register(bob, baseUrl, bobName)
      t.equal(await ada.locator('.me').textContent(), adaName, 'the display name shows as typed')
      await until('both sockets open', async () => (await connection(ada)) === 'open' && (await connection(bob)) === 'open')
    })

    await t.test('create a room, add the other user with the picker', async (t) => {
      await ada.getByRole('button', { name: 'New room' }).click()
      await ada.getByLabel('Room name').fill('Tea')
      await ada.getByRole('button', { name: 'Create room' }).click()
      await ada.getByRole('heading', { name: 'Tea', level: 2 }).waitFor()
      await ada.getByRole('button', { name: 'Details' }).click()
      await ada.getByLabel('Add people').fill('bo')
      await ada.getByRole('button', { name: `Add ${bobName}` }).click()
      await ada.getByRole('button', { name: 'Add to room' }).click()
      await until('Bob listed among the participants', async () => (await ada.locator('.participants li').allTextContents()).some((text) => text.startsWith(bobName)))
      await ada.getByRole('button', { name: 'Hide details' }).click()
      // Bob learns of the room on his socket (room.joined).
      await roomButton(bob, 'Tea').waitFor({ timeout: 15_000 })
      await roomButton(bob, 'Tea').click()
      await bob.getByRole('heading', { name: 'Tea', level: 2 }).waitFor()
      t.pass('Bob sees the room and opens it')
    })

    await t.test('chat both ways, with typing indicators', async (t) => {
      await send(ada, 'Hello Bob')
      await messageLine(bob, 'Hello Bob').waitFor()
      await bob.getByLabel('Message', { exact: true }).pressSequentially('Hi A', { delay: 20 })
      await until('Ada sees Bob typing', async () => (await ada.locator('.typing').textContent()) === `${bobName} is typing…`)
      await bob.getByLabel('Message', { exact: true }).pressSequentially('da')
      await bob.getByLabel('Message', { exact: true }).press('Enter')
      await messageLine(ada, 'Hi Ada').waitFor()
      await until('the typing line goes once the message arrives', async () => (await ada.locator('.typing').textContent()) === '')
      t.same(await shownTexts(ada), ['Hello Bob', 'Hi Ada'])
      t.same(await shownTexts(bob), ['Hello Bob', 'Hi Ada'])
    })

    await t.test('presence and read receipts: an online dot by the other\'s name, "seen by" under the last message', async (t) => {
      await until('Ada sees Bob online', async () => (await ada.locator('.participants-line .presence-dot[data-online="true"]').count()) === 1)
      t.equal(await ada.locator('.participants-line .presence-dot').count(), 1, 'a dot for Bob, none for herself')
      // Both have the room open at its end: each read the other's last message.
      await until('Ada sees that Bob read it', async () => (await ada.locator('.seen-by').textContent()) === `Seen by ${bobName}`)
      await until('Bob sees that Ada read it', async () => (await bob.locator('.seen-by').textContent()) === `Seen by ${adaName}`)
      t.pass('seen by, both ways')
    })

    await t.test('reactions: live counts, one’s own highlighted', async (t) => {
      const onBob = messageLine(bob, 'Hello Bob')
      await onBob.getByRole('button', { name: 'Add a reaction' }).click()
      await onBob.getByRole('button', { name: 'Like', exact: true }).click()
      const likeOnAda = messageLine(ada, 'Hello Bob').locator('button[data-reaction="like"]')
      await until('Ada sees one like', async () => (await likeOnAda.getAttribute('data-count')) === '1')
      t.equal(await likeOnAda.getAttribute('aria-pressed'), 'false', 'not Ada’s own')
      await likeOnAda.click()
      const likeOnBob = onBob.locator('button[data-reaction="like"]')
      await until('Bob sees two likes', async () => (await likeOnBob.getAttribute('data-count')) === '2')
      await until('Ada’s like highlighted for her', async () => (await likeOnAda.getAttribute('aria-pressed')) === 'true')
      t.equal(await likeOnBob.getAttribute('aria-pressed'), 'true', 'Bob’s own like highlighted for him')
      await likeOnBob.click()
      await until('Ada sees Bob’s like go', async () => (await likeOnAda.getAttribute('data-count')) === '1')
      t.equal(await likeOnAda.getAttribute('aria-pressed'), 'true')
    })

    await t.test('edit and delete one’s own message', async (t) => {
      const line = messageLine(ada, 'Hello Bob')
      await line.getByRole('button', { name: 'Edit message' }).click()
      await ada.getByLabel('Edit message').fill('Hello Bob, again')
      await ada.getByLabel('Edit message').press('Enter')
      await messageLine(bob, 'Hello Bob, again').waitFor()
      t.match(await messageLine(bob, 'Hello Bob, again').textContent(), /\(edited\)/)
      t.equal(await messageLine(bob, 'Hi Ada').getByRole('button', { name: 'Edit message' }).count(), 1, 'Bob may edit his own')
      t.equal(await messageLine(bob, 'Hello Bob, again').getByRole('button', { name: 'Edit message' }).count(), 0, 'not Ada’s')
      await send(ada, 'oops')
      await messageLine(bob, 'oops').waitFor()
      await messageLine(ada, 'oops').getByRole('button', { name: 'Delete message' }).click()
      await until('Bob sees it deleted', async () => (await shownTexts(bob)).includes('Message deleted') && !(await shownTexts(bob)).includes('oops'))
    })

    await t.test('unread counts in the room list', async (t) => {
      await ada.getByRole('button', { name: 'New room' }).click()
      await ada.getByLabel('Room name').fill('Cake')
      await ada.getByLabel('Participants').fill('Bo')
      await ada.getByRole('button', { name: `Add ${bobName}` }).click()
      await ada.getByRole('button', { name: 'Create room' }).click()
      await ada.getByRole('heading', { name: 'Cake', level: 2 }).waitFor()
      await roomButton(bob, 'Cake').waitFor({ timeout: 15_000 })
      await send(ada, 'cake one')
      await send(ada, 'cake two')
      await until('Bob sees 2 unread in Cake', async () => (await roomButton(bob, 'Cake').getAttribute('aria-label')) === 'Cake, 2 unread')
      t.equal(await roomButton(bob, 'Cake').locator('.badge').textContent(), '2')
      t.same(await bob.locator('button[data-room-name]').evaluateAll((buttons) => buttons.map((button) => button.getAttribute('data-room-name'))), ['Cake', 'Tea'], 'latest activity first')
      await bob.screenshot({ path: await artifactPath('room-list-1280.png') })
      await roomButton(bob, 'Cake').click()
      await until('reading clears the count', async () => (await roomButton(bob, 'Cake').getAttribute('aria-label')) === 'Cake')
      await roomButton(ada, 'Tea').click()
      await roomButton(bob, 'Tea').click()
      await messageLine(bob, 'Hi Ada').waitFor()
    })

    await t.test('mentions: marked in the text, counted in the room list until read', async (t) => {
      await send(ada, 'tea, @bob?')
      await messageLine(bob, 'tea, @bob?').waitFor()
      t.equal(await messageLine(bob, 'tea, @bob?').locator('mark.mention.me').textContent(), '@bob', 'Bob sees himself mentioned')
      t.equal(await messageLine(ada, 'tea, @bob?').locator('mark.mention:not(.me)').textContent(), '@bob', 'Ada sees whom she mentioned')
      await roomButton(bob, 'Cake').click()
      await send(ada, `@"${bobName}" back to tea`)
      await until('Bob sees the mention counted in Tea', async () => (await roomButton(bob, 'Tea').getAttribute('aria-label')) === 'Tea, 1 unread, 1 mentioning you')
      t.equal(await roomButton(bob, 'Tea').locator('.mention-badge').textContent(), '@1')
      await roomButton(bob, 'Tea').click()
      await until('reading clears it', async () => (await roomButton(bob, 'Tea').getAttribute('aria-label')) === 'Tea')
      await messageLine(bob, `@"${bobName}" back to tea`).waitFor()
    })

    await t.test('offline, then back: every message exactly once, in order', async (t) => {
      const before = await shownTexts(bob)
      // Chromium keeps open WebSockets through setOffline (and through DevTools'
      // offline emulation alike); the app drops its socket on the page's
      // `offline` event and resumes with after_seq on `online`.
      await contextB.setOffline(true)
      t.teardown(() => contextB.setOffline(false))
      await until('Bob reconnecting', async () => (await connection(bob)) === 'reconnecting', 5_000)
      t.equal(await bob.locator('[data-connection]').textContent(), 'Reconnecting…', 'a visible reconnecting state')

      // Bob writes while offline: an optimistic line that offers a retry.
      await send(bob, 'from the tunnel')
      const tunnelLine = bob.locator('li.message.pending').filter({ hasText: 'from the tunnel' })
      await tunnelLine.waitFor()
      const burst = ['burst 1', 'burst 2', 'burst 3', 'burst 4', 'burst 5']
      for (const text of burst) await send(ada, text)
      await messageLine(ada, 'burst 5').waitFor()
      await tunnelLine.getByRole('button', { name: 'Retry' }).waitFor({ timeout: 15_000 })
      t.pass('the unsent line offers a retry')
      await new Promise((resolve) => setTimeout(resolve, 500))
      t.same(await shownTexts(bob), before, 'nothing arrives while offline: the socket is really gone')
      await bob.screenshot({ path: await artifactPath('reconnecting-1280.png') })

      await contextB.setOffline(false)
      await until('Bob back online', async () => (await connection(bob)) === 'open', 20_000)
      // Retry goes over HTTP with the same client_msg_id: stored at most once.
      await tunnelLine.getByRole('button', { name: 'Retry' }).click()
      await messageLine(bob, 'burst 5').waitFor()
      await messageLine(ada, 'from the tunnel').waitFor()
      await until('no pending line left', async () => (await bob.locator('li.message.pending').count()) === 0)
      const expected = [...before, ...burst, 'from the tunnel']
      await until('Bob shows every message', async () => (await shownTexts(bob)).length >= expected.length)
      t.same(await shownTexts(bob), expected, 'Bob: every message once, in order')
      t.same(await shownTexts(ada), expected, 'Ada: the same')
      const seqs = await bob.locator('ol.messages > li.message[data-seq]').evaluateAll((lines) => lines.map((line) => Number(line.getAttribute('data-seq'))))
      t.same(seqs, [...seqs].sort((a, b) => a - b), 'ascending seq on screen')
      t.equal(new Set(seqs).size, seqs.length, 'no seq twice')
    })

    await t.test('room avatar: upload shows the image on both sides, then remove', async (t) => {
      await ada.getByRole('button', { name: 'Details' }).click()
      await ada.getByLabel('Upload a room image').setInputFiles({ name: 'red.png', mimeType: 'image/png', buffer: solidPng(48, 48, [220, 20, 20]) })
      const header = ada.locator('.conversation-header img.avatar')
      await header.waitFor()
      const pixel = await header.evaluate(async (image: HTMLImageElement) => {
        await image.decode()
        const canvas = document.createElement('canvas')
        canvas.width = image.naturalWidth
        canvas.height = image.naturalHeight
        const context = canvas.getContext('2d')
        context?.drawImage(image, 0, 0)
        return [...(context?.getImageData(canvas.width / 2, canvas.height / 2, 1, 1).data ?? [])]
      })
      t.ok(pixel[0]! > 180 && pixel[1]! < 70 && pixel[2]! < 70, `the uploaded red image is shown (${pixel.join(',')})`)
      t.match(await header.getAttribute('src'), /^blob:/, 'through an object URL')
      await roomButton(bob, 'Tea').locator('img.avatar').waitFor()
      t.pass('Bob’s room list shows it live')
      await ada.getByRole('button', { name: 'Remove image' }).click()
      await roomButton(bob, 'Tea').locator('[data-avatar="initials"]').waitFor()
      await ada.getByRole('button', { name: 'Remove image' }).waitFor({ state: 'detached' })
      await ada.getByLabel('Upload a room image').setInputFiles({ name: 'blue.png', mimeType: 'image/png', buffer: solidPng(32, 32, [20, 40, 200]) })
      await roomButton(bob, 'Tea').locator('img.avatar').waitFor()
      await ada.getByRole('button', { name: 'Hide details' }).click()
    })

    await t.test('older pages load as the reader scrolls up', async (t) => {
      const api = createChatClient({ baseUrl })
      await api.auth.login({ display_name: adaName, password })
      const room = await api.rooms.create({ name: 'History', participants_display_names: [bobName] })
      for (let index = 1; index <= 70; index++) await api.messages.send(room.id, { text: `history ${index}` })
      await roomButton(bob, 'History').waitFor({ timeout: 15_000 })
      await roomButton(bob, 'History').click()
      await messageLine(bob, 'history 70').waitFor()
      t.equal((await shownTexts(bob)).length, 50, 'the latest page first')
      t.equal((await shownTexts(bob))[0], 'history 21')
      await bob.locator('.timeline').evaluate((list) => list.scrollTo({ top: 0 }))
      await messageLine(bob, 'history 1').waitFor()
      const texts = await shownTexts(bob)
      t.same(texts, Array.from({ length: 70 }, (_, index) => `history ${index + 1}`), 'all 70, in order, once')
      await api.auth.logout()
    })

    await t.test('screenshots at 1280 px and 360 px', async (t) => {
      await roomButton(ada, 'Tea').click()
      await messageLine(ada, 'burst 5').waitFor()
      await ada.screenshot({ path: await artifactPath('conversation-1280.png') })
      await bob.setViewportSize({ width: 360, height: 740 })
      t.teardown(() => bob.setViewportSize({ width: 1280, height: 800 }))
      // Bob still has History open: on a narrow screen, the conversation alone.
      await bob.getByRole('heading', { name: 'History', level: 2 }).waitFor()
      t.notOk(await bob.locator('.room-pane').isVisible(), 'narrow: the conversation alone')
      await bob.getByRole('button', { name: 'Back to the room list' }).click()
      await roomButton(bob, 'Tea').waitFor()
      t.notOk(await bob.locator('.conversation-pane').isVisible(), 'narrow: the list alone')
      await bob.screenshot({ path: await artifactPath('room-list-360.png') })
      await roomButton(bob, 'Tea').click()
      await messageLine(bob, 'burst 5').waitFor()
      await bob.screenshot({ path: await artifactPath('conversation-360.png') })
      const overflow = await bob.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
      t.equal(overflow, 0, 'nothing wider than 360 px')
      await bob.setViewportSize({ width: 1280, height: 800 })
    })

    await t.test('keyboard: tab to a room and open it', async (t) => {
      await bob.locator('body').click({ position: { x: 5, y: 5 } })
      let focused = ''
      for (let step = 0; step < 12 && focused !== 'Cake'; step++) {
        await bob.keyboard.press('Tab')
        focused = await bob.evaluate(() => document.activeElement?.getAttribute('data-room-name') ?? '')
      }
      t.equal(focused, 'Cake', 'the room list is reachable with Tab')
      const outline = await bob.evaluate(() => (document.activeElement ? getComputedStyle(document.activeElement).outlineStyle : ''))
      t.equal(outline, 'solid', 'focus is visible')
      await bob.keyboard.press('Enter')
      await bob.getByRole('heading', { name: 'Cake', level: 2 }).waitFor()
    })

    await t.test('leave a room: it goes for the leaver, the other sees them go', async (t) => {
      await roomButton(ada, 'Cake').click()
      await bob.getByRole('button', { name: 'Details' }).click()
      await bob.getByRole('button', { name: 'Leave room' }).click()
      await roomButton(bob, 'Cake').waitFor({ state: 'detached' })
      await until('Ada sees Bob leave', async () => !((await ada.locator('.conversation-header .room-meta').textContent()) ?? '').includes(bobName))
      t.equal(await bob.locator('.notice').count(), 0, 'leaving shows no error')
      t.equal(await bob.getByRole('heading', { name: 'Cake', level: 2 }).count(), 0, 'the conversation closes')
    })

    await t.test('roles: Ada promotes Bob and back, members_can_add, and a removed user’s page loses the room', async (t) => {
      const contextC: BrowserContext = await browser.newContext({ viewport: { width: 1280, height: 800 } })
      t.teardown(() => contextC.close())
      const cy = await contextC.newPage()
      cy.on('pageerror', (error) => pageErrors.push(error.message))
      cy.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) policyViolations.push(message.text())
      })
      await register(cy, baseUrl, 'Cy')
      await roomButton(ada, 'Tea').click()
      await ada.getByRole('heading', { name: 'Tea', level: 2 }).waitFor()
      await ada.getByRole('button', { name: 'Details' }).click()
      await ada.getByLabel('Add people').fill('cy')
      await ada.getByRole('button', { name: 'Add Cy' }).click()
      await ada.getByRole('button', { name: 'Add to room' }).click()
      await roomButton(cy, 'Tea').waitFor({ timeout: 15_000 })
      await roomButton(cy, 'Tea').click()
      await cy.getByRole('heading', { name: 'Tea', level: 2 }).waitFor()

      await roomButton(bob, 'Tea').click()
      await bob.getByRole('button', { name: 'Details' }).click()
      const bobAsBobSees = bob.locator(`.participants li[data-user-name="${bobName}"]`)
      t.equal(await bobAsBobSees.getAttribute('data-role'), 'member')
      t.equal(await bob.locator('.participants li[data-role="owner"] .participant-name').textContent(), adaName, 'the owner is shown as such')
      t.equal(await bob.getByRole('button', { name: 'Remove Cy from the room' }).count(), 0, 'a member removes nobody')
      t.equal(await bob.getByLabel('Rename the room').count(), 0, 'nor renames')
      t.equal(await bob.getByLabel('Upload a room image').count(), 0, 'nor sets the image')

      await ada.getByRole('button', { name: `Make ${bobName} an admin` }).click()
      await until('Bob sees himself made admin, live', async () => (await bobAsBobSees.getAttribute('data-role')) === 'admin')
      t.equal(await bobAsBobSees.locator('.role').textContent(), 'admin')
      await bob.getByRole('button', { name: 'Remove Cy from the room' }).waitFor()
      await ada.screenshot({ path: await artifactPath('room-details-owner-1280.png') })
      await bob.screenshot({ path: await artifactPath('room-details-admin-1280.png') })
      t.equal(await bob.getByRole('button', { name: `Remove ${adaName} from the room` }).count(), 0, 'an admin never removes the owner')
      t.equal(await bob.getByRole('button', { name: /^Make / }).count(), 0, 'only the owner changes roles')
      t.equal(await bob.getByLabel('Members can add others').count(), 0, 'only the owner switches members_can_add')
      await bob.getByLabel('Rename the room').fill('Green tea')
      await bob.getByRole('button', { name: 'Rename', exact: true }).click()
      await ada.getByRole('heading', { name: 'Green tea', level: 2 }).waitFor()
      await ada.getByLabel('Rename the room').fill('Tea')
      await ada.getByRole('button', { name: 'Rename', exact: true }).click()
      await bob.getByRole('heading', { name: 'Tea', level: 2 }).waitFor()
      t.pass('an admin and the owner rename the room')

      await ada.getByRole('button', { name: `Make ${bobName} a member` }).click()
      await until('Bob sees himself member again', async () => (await bobAsBobSees.getAttribute('data-role')) === 'member')
      await bob.getByRole('button', { name: 'Remove Cy from the room' }).waitFor({ state: 'detached' })

      await ada.getByLabel('Members can add others').uncheck()
      await bob.getByText('Only the owner and admins add people to this room.').waitFor()
      t.equal(await bob.getByLabel('Add people').count(), 0, 'Bob, a member, can no longer add people')
      await ada.getByLabel('Members can add others').check()
      await bob.getByLabel('Add people').waitFor()

      await ada.getByRole('button', { name: 'Remove Cy from the room' }).click()
      await roomButton(cy, 'Tea').waitFor({ state: 'detached' })
      t.equal(await cy.getByRole('heading', { name: 'Tea', level: 2 }).count(), 0, 'Cy’s open conversation closes')
      t.equal(await cy.locator('.notice').count(), 0, 'with no error')
      await until('Bob sees Cy go', async () => (await bob.locator('.participants li[data-user-name="Cy"]').count()) === 0)
      await ada.getByRole('button', { name: 'Hide details' }).click()
    })

    await t.test('consent: Bob blocks Ada, who can then neither add him nor message him; then rooms_invite', async (t) => {
      // From Ada's name on one of her messages; Tea's details, open beside, follow.
      const sender = messageLine(bob, 'burst 5').getByRole('button', { name: adaName, exact: true })
      await sender.click()
      t.equal(await sender.getAttribute('aria-expanded'), 'true')
      await messageLine(bob, 'burst 5').getByRole('button', { name: `Block ${adaName}` }).click()
      await until('the menu closes', async () => (await sender.getAttribute('aria-expanded')) === 'false')
      await bob.locator('#room-details').getByRole('button', { name: `Unblock ${adaName}` }).waitFor()

      // Bob left Cake: Ada, its owner, tries to add him back.
      async function adaAddsBobToCake(): Promise<void> {
        await ada.getByRole('button', { name: 'Details' }).click()
        await ada.getByLabel('Add people').fill('bo')
        await ada.getByRole('button', { name: `Add ${bobName}` }).click()
        await ada.getByRole('button', { name: 'Add to room' }).click()
      }
      const cakeError = ada.locator('#room-details .form-error')
      await roomButton(ada, 'Cake').click()
      await adaAddsBobToCake()
      await until('the add fails as for an unknown name', async () => (await cakeError.textContent()) === `Unknown users: ${bobName}`)
      t.equal(await roomButton(bob, 'Cake').count(), 0, 'Bob is not in Cake')
      await ada.getByRole('button', { name: 'Hide details' }).click()

      await ada.getByRole('button', { name: 'New message' }).click()
      await ada.getByLabel('Message someone').fill('bo')
      await ada.getByRole('button', { name: `Add ${bobName}` }).click()
      await until('the direct message fails as for an unknown name', async () => (await ada.locator('.create-room .form-error').textContent()) === `Unknown users: ${bobName}`)
      t.equal(await ada.locator('button[data-room-kind="direct"]').count(), 0, 'no direct room made')
      await ada.getByRole('button', { name: 'Cancel' }).click()

      await bob.getByRole('button', { name: 'Settings' }).click()
      const settings = bob.getByRole('region', { name: 'Settings' })
      await bob.screenshot({ path: await artifactPath('settings-1280.png') })
      t.same(await settings.getByRole('list', { name: 'Blocked people' }).getByRole('listitem').allTextContents(), [`${adaName}Unblock`], 'the blocked list')
      await settings.getByRole('button', { name: `Unblock ${adaName}` }).click()
      await settings.getByText('You have blocked nobody.').waitFor()
      await bob.locator('#room-details').getByRole('button', { name: `Block ${adaName}` }).waitFor()
      t.pass('room details follow the unblock')
      await bob.locator('#room-details').getByRole('button', { name: `Block ${adaName}` }).click()
      await settings.getByRole('button', { name: `Unblock ${adaName}` }).waitFor()
      t.pass('blocked from room details, listed in Settings')
      await bob.locator('#room-details').getByRole('button', { name: `Unblock ${adaName}` }).click()
      await settings.getByText('You have blocked nobody.').waitFor()

      await settings.getByLabel('Nobody').check()
      await until('rooms_invite saved', () => settings.getByLabel('Anyone').isEnabled())
      await adaAddsBobToCake()
      await until('nobody may add Bob: the same answer', async () => (await cakeError.textContent()) === `Unknown users: ${bobName}`)
      await ada.getByRole('button', { name: 'Hide details' }).click()

      await settings.getByLabel('Anyone').check()
      await until('rooms_invite saved', () => settings.getByLabel('Anyone').isEnabled())
      await bob.getByRole('button', { name: 'Settings' }).click()
      await adaAddsBobToCake()
      await roomButton(bob, 'Cake').waitFor({ timeout: 15_000 })
      t.equal(await cakeError.count(), 0, 'unblocked and consenting: Ada adds Bob')
      await ada.getByRole('button', { name: 'Hide details' }).click()
    })

    await t.test('a direct message started from a name, and a search that opens its room', async (t) => {
      await ada.getByRole('button', { name: 'New message' }).click()
      await ada.getByLabel('Message someone').fill('bo')
      await ada.getByRole('button', { name: `Add ${bobName}` }).click()
      await ada.getByRole('heading', { name: bobName, level: 2 }).waitFor()
      t.equal(await ada.locator('button[data-room-kind="direct"]').getAttribute('data-room-name'), bobName, "the direct room is called by Bob's name")
      await send(ada, 'Lunch at <noon>?')
      // Bob learns of the room when it is made, which may be before the message is stored: search once it is.
      await messageLine(ada, 'Lunch at <noon>?').waitFor()
      // Bob is told of the room on his socket (room.joined), named after Ada.
      const direct = bob.locator('button[data-room-kind="direct"]')
      await direct.waitFor({ timeout: 15_000 })
      t.equal(await direct.getAttribute('data-room-name'), adaName)
      await bob.getByLabel('Search messages').fill('lunc')
      await bob.getByLabel('Search messages').press('Enter')
      const hit = bob.getByRole('list', { name: 'Search results' }).getByRole('button')
      await hit.first().waitFor()
      t.equal(await hit.count(), 1, 'one hit')
      t.equal(await hit.locator('mark').textContent(), 'Lunch', 'the match is marked')
      t.equal(await hit.locator('.hit-text').textContent(), 'Lunch at <noon>?', 'the text shows as sent')
      await hit.click()
      await messageLine(bob, 'Lunch at <noon>?').waitFor()
      t.equal(await bob.locator('.conversation-header h2').textContent(), adaName, 'the hit opened its room')
    })

    await t.test('a reply in a thread: the thread view, its reply box, the count on the root, live on both sides', async (t) => {
      // Both are in the direct room, on Ada's "Lunch" message.
      await messageLine(bob, 'Lunch at <noon>?').getByRole('button', { name: 'Reply in thread' }).click()
      const bobThread = bob.getByRole('complementary', { name: 'Thread' })
      await bobThread.locator('.thread-root').getByText('Lunch at <noon>?').waitFor()
      await bobThread.getByLabel('Reply', { exact: true }).fill('Yes, noon works')
      await bobThread.getByLabel('Reply', { exact: true }).press('Enter')
      await bobThread.getByRole('list', { name: 'Replies' }).getByText('Yes, noon works').waitFor()
      const adaCount = messageLine(ada, 'Lunch at <noon>?').locator('.reply-count')
      await until('Ada sees the reply count on her message', async () => (await adaCount.getAttribute('data-reply-count')) === '1')
      t.equal(await adaCount.textContent(), '1 reply')
      await adaCount.click()
      const adaThread = ada.getByRole('complementary', { name: 'Thread' })
      await adaThread.getByRole('list', { name: 'Replies' }).getByText('Yes, noon works').waitFor()
      await adaThread.getByLabel('Reply', { exact: true }).fill('See you there')
      await adaThread.getByLabel('Reply', { exact: true }).press('Enter')
      await bobThread.getByRole('list', { name: 'Replies' }).getByText('See you there').waitFor()
      t.same(await bobThread.locator('.thread-replies .message-text').allTextContents(), ['Yes, noon works', 'See you there'], 'in order, live')
      t.equal(await messageLine(bob, 'See you there').getAttribute('data-reply-to'), await messageLine(bob, 'Lunch at <noon>?').getAttribute('data-message-id'), 'a reply is also a line of the room')
      await bobThread.getByRole('button', { name: 'Close thread' }).click()
      await adaThread.getByRole('button', { name: 'Close thread' }).click()
      t.equal(await bob.getByRole('complementary', { name: 'Thread' }).count(), 0, 'closed')
    })

    await t.test('a room made on another device of the same user appears without a reload', async (t) => {
      // Bob's "phone": the API with his own login, while the browser tab stays open.
      const phone = createChatClient({ baseUrl })
      await phone.auth.login({ display_name: bobName, password })
      const made = await phone.rooms.create({ name: 'Made elsewhere', participants_display_names: [] })
      await roomButton(bob, 'Made elsewhere').waitFor({ timeout: 15_000 })
      t.equal(await roomButton(bob, 'Made elsewhere').count(), 1, 'the open tab lists the room the other device made')
      t.ok(made.id)
      await phone.auth.logout()
    })

    await t.test('the session survives a reload; log out and in again', async (t) => {
      await bob.reload()
      await roomButton(bob, 'Tea').waitFor()
      await ada.getByRole('button', { name: 'Log out' }).click()
      await ada.getByRole('heading', { name: 'Sign in to Chat' }).waitFor()
      t.equal(await ada.evaluate(() => localStorage.getItem('chat.session')), null, 'the stored session is gone')
      await ada.getByLabel('Display name').fill(adaName)
      await ada.getByLabel('Password').fill('wrong password')
      await ada.getByRole('button', { name: 'Log in' }).click()
      await ada.getByRole('alert').waitFor()
      await ada.getByLabel('Password').fill(password)
      await ada.getByRole('button', { name: 'Log in' }).click()
      await roomButton(ada, 'Tea').waitFor()
    })

    t.same(pageErrors, [], 'no uncaught error in either page')
    t.same(policyViolations, [], 'nothing the Content-Security-Policy refused')
  })
}
