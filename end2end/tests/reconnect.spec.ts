import { expect, test, type Page, type WebSocketRoute } from '@playwright/test';
import {
  closeParticipants,
  expectPainted,
  expectShapeCount,
  newParticipant,
  openRoom,
  positions,
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
  expect(positions(aliceSees)).toEqual(positions(bobSees));
  expect(aliceSees.map((s) => s.kind)).toEqual(['Rectangle', 'Triangle', 'Circle']);
  await expect(alice.getByText('waiting to send')).toHaveCount(0);
  // Both were placed in the same free spot while apart; the one on top is painted.
  await expectPainted(alice, aliceSees[2]);
  await expectPainted(bob, bobSees[2]);
});
