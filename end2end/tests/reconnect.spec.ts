import { expect, test, type Page, type WebSocketRoute } from '@playwright/test';
import {
  closeParticipants,
  expectAllConfirmed,
  expectPositions,
  expectPainted,
  expectShapeCount,
  newParticipant,
  openRoom,
  positions,
  shapes,
  uniqueRoom,
} from './helpers';

test.afterEach(closeParticipants);

/**
 * A network between one page and the server that the test can cut: every
 * WebSocket the page opens is proxied to the real server while "up"; going
 * "down" closes the live ones and refuses new ones. Chromium's offline mode is
 * switched along with it so the page sees what a real outage shows
 * (`navigator.onLine`, the `online` event), which on its own would leave an
 * open WebSocket untouched.
 */
async function cuttableNetwork(page: Page) {
  let up = true;
  const live = new Set<WebSocketRoute>();
  await page.routeWebSocket(/\/ws\//, (ws) => {
    if (!up) {
      ws.close({ code: 4999, reason: 'test network is down' });
      return;
    }
    const server = ws.connectToServer();
    live.add(ws);
    ws.onClose(() => {
      live.delete(ws);
      server.close();
    });
  });
  return {
    async down() {
      up = false;
      await page.context().setOffline(true);
      for (const ws of [...live]) await ws.close({ code: 4999, reason: 'test network is down' });
    },
    async up() {
      up = true;
      await page.context().setOffline(false);
    },
    /** The page loads again (HTTP works) but its WebSockets still cannot get through. */
    async pagesOnly() {
      await page.context().setOffline(false);
    },
  };
}

test('after a network drop the tab says so, keeps its edits, reconnects and catches up', async ({ browser }) => {
  const room = uniqueRoom('e2e-drop');
  const alice = await newParticipant(browser);
  const network = await cuttableNetwork(alice);
  await alice.goto(`/r/${room}`);
  await expect(alice.getByRole('status')).toHaveText('Connected');
  const bob = await openRoom(browser, room);

  await alice.getByRole('button', { name: 'Rectangle', exact: true }).click();
  await expectShapeCount(bob, 1);

  // Alice loses her network.
  await network.down();
  await expect(alice.getByRole('status')).toHaveText('Offline');
  await expect(bob.getByText('Just you here')).toBeVisible();
  // Offline, Alice's page does not claim to know who is in the room.
  await expect(alice.getByText(/here$/)).toHaveCount(0);

  // Both keep working: Alice's edit waits, Bob's goes through.
  await alice.getByRole('button', { name: 'Circle', exact: true }).click();
  await expect(alice.getByText('1 change waiting to send')).toBeVisible();
  await bob.getByRole('button', { name: 'Triangle', exact: true }).click();
  await expectShapeCount(bob, 2);

  // Back online: Alice reconnects by herself, sends her edit, and gets Bob's.
  await network.up();
  await expect(alice.getByRole('status')).toHaveText('Connected');
  const aliceSees = await expectShapeCount(alice, 3);
  const bobSees = await expectShapeCount(bob, 3);
  await expectPositions(alice, positions(bobSees));
  expect(aliceSees.map((s) => s.kind)).toEqual(['Rectangle', 'Triangle', 'Circle']);
  await expect(alice.getByText('waiting to send')).toHaveCount(0);
  // Both were placed in the same free spot while apart; the one on top is painted.
  await expectPainted(alice, aliceSees[2]);
  await expectPainted(bob, bobSees[2]);
});

test('edits made offline survive a reload of the tab and are delivered once', async ({ browser }) => {
  const room = uniqueRoom('e2e-reload');
  const alice = await newParticipant(browser);
  const network = await cuttableNetwork(alice);
  await alice.goto(`/r/${room}`);
  await expect(alice.getByRole('status')).toHaveText('Connected');
  const bob = await openRoom(browser, room);
  await alice.getByRole('button', { name: 'Rectangle', exact: true }).click();
  await expectShapeCount(bob, 1);

  // Offline, Alice adds a circle and nudges it three times: a create and
  // one move wait (moves of one shape made offline replace each other).
  await network.down();
  await expect(alice.getByRole('status')).toHaveText('Offline');
  await alice.getByRole('button', { name: 'Circle', exact: true }).click();
  const circle = (await expectShapeCount(alice, 2))[1];
  for (let i = 0; i < 3; i++) await alice.keyboard.press('ArrowRight');
  await expect.poll(async () => (await shapes(alice))[1].x).toBe(circle.x + 30);
  await expect(alice.getByText('2 changes waiting to send')).toBeVisible();
  const before = await shapes(alice);

  // The tab reloads while the server is still out of reach: the edits are
  // still there, still waiting.
  await network.pagesOnly();
  await alice.reload();
  await expect(alice.getByText('2 changes waiting to send')).toBeVisible();
  await expect(alice.getByRole('status')).not.toHaveText('Connected');

  // The network comes back (the browser says so, which cuts the reconnect
  // backoff short): delivered, once, where Alice left the circle.
  await network.down();
  await expect(alice.getByRole('status')).toHaveText('Offline');
  await network.up();
  await expect(alice.getByRole('status')).toHaveText('Connected');
  // The create and the move arrive one after the other: wait for both.
  await expectPositions(bob, positions(before));
  await expectPositions(alice, positions(before));
  const bobSees = await shapes(bob);
  await expect(alice.getByText('waiting to send')).toHaveCount(0);
  await expectPainted(bob, bobSees[1]);
});

test('a duplicated tab starts afresh instead of sharing the original tab’s identity', async ({ browser }) => {
  const room = uniqueRoom('e2e-dup');
  const alice = await newParticipant(browser);
  const network = await cuttableNetwork(alice);
  await alice.goto(`/r/${room}`);
  await expect(alice.getByRole('status')).toHaveText('Connected');
  await alice.getByRole('button', { name: 'Rectangle', exact: true }).click();
  await expectShapeCount(alice, 1);
  // The rectangle must be the server's before the cut, or it would wait too.
  await expectAllConfirmed(alice);
  await network.down();
  await expect(alice.getByRole('status')).toHaveText('Offline');
  await alice.getByRole('button', { name: 'Circle', exact: true }).click();
  await expect(alice.getByText('1 change waiting to send')).toBeVisible();

  // "Duplicate tab": a new page of the same browser with a copy of the tab's sessionStorage.
  const saved = await alice.evaluate(() => JSON.stringify(Object.entries(sessionStorage)));
  await network.pagesOnly(); // the new page can load; Alice's sockets stay cut
  const copy = await alice.context().newPage();
  await copy.addInitScript((entries) => {
    for (const [k, v] of JSON.parse(entries) as [string, string][]) sessionStorage.setItem(k, v);
  }, saved);
  await copy.goto(`/r/${room}`);
  await expect(copy.getByRole('status')).toHaveText('Connected');
  // The copy shows the server's board, without Alice's unsent circle, and nothing waiting.
  await expectShapeCount(copy, 1);
  await expect(copy.getByText('waiting to send')).toHaveCount(0);
  // Its own changes go through (a shared identity would have them refused as stale).
  await copy.getByRole('button', { name: 'Triangle', exact: true }).click();
  await expectShapeCount(copy, 2);

  // Alice's circle is delivered once, by Alice (the browser going offline and
  // online again cuts her reconnect backoff short).
  await network.down();
  await expect(alice.getByRole('status')).toHaveText('Offline');
  await network.up();
  await expect(alice.getByRole('status')).toHaveText('Connected');
  await expect(copy.getByRole('status')).toHaveText('Connected');
  const aliceSees = await expectShapeCount(alice, 3);
  await expectShapeCount(copy, 3);
  await expectPositions(copy, positions(aliceSees));
  expect(aliceSees.map((s) => s.kind).sort()).toEqual(['Circle', 'Rectangle', 'Triangle']);
});
