import { expect, test } from '@playwright/test';
import {
  centre,
  clickBoard,
  closeParticipants,
  expectPainted,
  expectPositions,
  expectShapeCount,
  newParticipant,
  openRoom,
  positions,
  shapes,
  toPage,
  uniqueRoom,
} from './helpers';

test.afterEach(closeParticipants);

test('two people in one room see each other’s shapes; another room sees nothing; a reload keeps the board', async ({
  browser,
}) => {
  const room = uniqueRoom('e2e');
  const alice = await openRoom(browser, room);
  const bob = await openRoom(browser, room);
  const carol = await openRoom(browser, uniqueRoom('e2e-other'));
  await expect(alice.getByText('2 people here')).toBeVisible();

  // Add one of each kind with the toolbar; the newest is selected.
  for (const kind of ['Rectangle', 'Triangle', 'Circle'] as const) {
    await alice.getByRole('button', { name: kind, exact: true }).click();
  }
  const added = await expectShapeCount(alice, 3);
  expect(added.map((s) => s.kind)).toEqual(['Rectangle', 'Triangle', 'Circle']);
  expect(added.map((s) => s.selected)).toEqual([false, false, true]);
  await expectShapeCount(bob, 3);
  await expectPositions(bob, positions(added));
  for (const s of added) await expectPainted(bob, s);

  // Select the rectangle by clicking it; move it with the arrow keys.
  const [rect, tri, circle] = added;
  await clickBoard(alice, ...centre(rect));
  await expect.poll(async () => (await shapes(alice))[0].selected).toBe(true);
  await alice.keyboard.press('ArrowRight');
  await alice.keyboard.press('ArrowRight');
  await alice.keyboard.press('ArrowRight');
  await alice.keyboard.press('Shift+ArrowDown');
  const movedRect = { kind: 'Rectangle' as const, x: rect.x + 30, y: rect.y + 50 };
  await expect.poll(async () => positions(await shapes(bob))[0]).toEqual(movedRect);
  await expectPainted(bob, movedRect);

  // Drag the circle; Bob sees it move before the button is released.
  const [fromX, fromY] = await toPage(alice, ...centre(circle));
  const [toX, toY] = await toPage(alice, centre(circle)[0] + 300, centre(circle)[1] + 200);
  await alice.mouse.move(fromX, fromY);
  await alice.mouse.down();
  await alice.mouse.move((fromX + toX) / 2, (fromY + toY) / 2, { steps: 8 });
  await expect.poll(async () => (await shapes(bob))[2].x).toBeGreaterThan(circle.x + 100);
  await alice.mouse.move(toX, toY, { steps: 8 });
  await alice.mouse.up();
  // The pointer lands on whole device pixels at both ends of the drag, so allow
  // two pixels' worth of board units (plus the list's rounding to whole units).
  const box = await alice.locator('canvas.board').boundingBox();
  const slack = 2 * (1600 / box!.width) + 1;
  const movedCircle = { kind: 'Circle' as const, x: circle.x + 300, y: circle.y + 200 };
  let seen = '';
  await expect
    .poll(
      async () => {
        const [a, b] = [(await shapes(alice))[2], (await shapes(bob))[2]];
        seen = `alice sees ${a.x}, ${a.y}; bob sees ${b.x}, ${b.y}`;
        return Math.abs(b.x - movedCircle.x) <= slack && Math.abs(b.y - movedCircle.y) <= slack;
      },
      { message: `the circle lands at ${movedCircle.x}, ${movedCircle.y} (±${slack.toFixed(1)})` },
    )
    .toBe(true)
    .catch((e) => {
      throw new Error(`${e.message}\nlast seen: ${seen}`);
    });
  await expectPainted(bob, (await shapes(bob))[2]);

  // Select the triangle and delete it with the Delete key.
  await clickBoard(alice, ...centre(tri));
  await expect.poll(async () => (await shapes(alice))[1].selected).toBe(true);
  await alice.keyboard.press('Delete');
  const remaining = await expectShapeCount(bob, 2);
  expect(remaining.map((s) => s.kind)).toEqual(['Rectangle', 'Circle']);
  await expectPainted(bob, tri, false);

  // Bob's changes reach Alice the same way.
  await bob.getByRole('button', { name: 'Triangle', exact: true }).click();
  await expectShapeCount(alice, 3);
  await bob.keyboard.press('Backspace');
  await expectShapeCount(alice, 2);

  // The other room saw none of it, on its canvas or in its list.
  await expectShapeCount(carol, 0);
  for (const s of added) await expectPainted(carol, s, false);

  // A reload (and so a late joiner) shows the same board.
  const before = positions(await shapes(alice));
  await bob.reload();
  await expect(bob.getByRole('status')).toHaveText('Connected');
  await expectShapeCount(bob, 2);
  await expectPositions(bob, before);
  for (const s of await shapes(bob)) await expectPainted(bob, s);
});

test('clicking empty space clears the selection, and keys then do nothing', async ({ browser }) => {
  const page = await openRoom(browser, uniqueRoom('e2e-select'));
  await page.getByRole('button', { name: 'Rectangle', exact: true }).click();
  const [rect] = await expectShapeCount(page, 1);
  expect(rect.selected).toBe(true);
  await expect(page.getByRole('button', { name: 'Delete' })).toBeEnabled();
  await clickBoard(page, 1500, 900);
  await expect.poll(async () => (await shapes(page))[0].selected).toBe(false);
  await expect(page.getByRole('button', { name: 'Delete' })).toBeDisabled();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Delete');
  // Select it again and nudge once: it must sit exactly one step from where it
  // was, which proves the keys pressed with nothing selected did nothing.
  await clickBoard(page, ...centre(rect));
  await page.keyboard.press('ArrowRight');
  await expect.poll(async () => positions(await shapes(page))).toEqual([{ kind: 'Rectangle', x: rect.x + 10, y: rect.y }]);
});

test('the lobby lists rooms and creates one by name; bad names get a clear 400', async ({ browser }) => {
  const room = uniqueRoom('e2e-lobby');
  const inRoom = await openRoom(browser, room);
  await inRoom.getByRole('button', { name: 'Circle', exact: true }).click();
  await expectShapeCount(inRoom, 1);

  const page = await newParticipant(browser);
  await page.goto('/');
  const entry = page.getByRole('listitem').filter({ hasText: room });
  await expect(entry).toContainText('1 shape');
  await expect(entry).toContainText('1 person here');
  // The list is live: it refreshes itself (every 4 s) without a reload.
  await inRoom.getByRole('button', { name: 'Rectangle', exact: true }).click();
  await expect(entry).toContainText('2 shapes', { timeout: 15_000 });

  const fresh = uniqueRoom('e2e-created');
  await page.getByLabel('Room name').fill(fresh);
  await page.getByRole('button', { name: 'Create or join' }).click();
  await expect(page).toHaveURL(new RegExp(`/r/${fresh}$`));
  await expect(page.getByRole('status')).toHaveText('Connected');
  await expect(page.getByRole('heading', { name: fresh })).toBeVisible();

  const bad = await page.goto('/r/not%20a%20room');
  expect(bad?.status()).toBe(400);
  await expect(page.getByRole('heading', { name: 'Invalid room name' })).toBeVisible();
});

test('keys typed into a text field do not move or delete shapes', async ({ browser }) => {
  const page = await openRoom(browser, uniqueRoom('e2e-typing'));
  await page.getByRole('button', { name: 'Triangle', exact: true }).click();
  const [tri] = await expectShapeCount(page, 1);
  // A field on the page (as browser extensions and future dialogs add): typing there must not reach the board.
  await page.evaluate(() => {
    const input = document.createElement('input');
    input.setAttribute('aria-label', 'scratch');
    document.body.appendChild(input);
  });
  await page.getByLabel('scratch').fill('abc');
  await page.getByLabel('scratch').press('ArrowLeft');
  await page.getByLabel('scratch').press('Backspace');
  await expect(page.getByLabel('scratch')).toHaveValue('ac');
  // Leave the field and nudge: exactly one step from the start proves that the
  // ArrowLeft and Backspace typed above never reached the board.
  await page.getByRole('heading', { level: 1 }).click();
  await page.keyboard.press('ArrowRight');
  await expect.poll(async () => positions(await shapes(page))).toEqual([{ kind: 'Triangle', x: tri.x + 10, y: tri.y }]);
});

test('the canvas is sharp on a HiDPI screen: one canvas pixel per device pixel', async ({ browser }) => {
  const page = await newParticipant(browser, { deviceScaleFactor: 2 });
  await page.goto(`/r/${uniqueRoom('e2e-hidpi')}`);
  await expect(page.getByRole('status')).toHaveText('Connected');
  const ratio = async () =>
    page.evaluate(() => {
      const c = document.querySelector('canvas.board') as HTMLCanvasElement;
      const r = c.getBoundingClientRect();
      return [c.width / r.width, c.height / r.height];
    });
  for (const r of await ratio()) expect(r).toBeCloseTo(2, 1);
  // And after the window changes size, it still is.
  await page.setViewportSize({ width: 900, height: 700 });
  await expect.poll(async () => (await ratio()).every((r) => Math.abs(r - 2) < 0.05)).toBe(true);
});
