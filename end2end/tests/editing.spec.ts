import { expect, test } from '@playwright/test';
import {
  centre,
  clickBoard,
  closeParticipants,
  expectPositions,
  expectShapeCount,
  openRoom,
  positions,
  shapes,
  toPage,
  uniqueRoom,
} from './helpers';

test.afterEach(closeParticipants);

const colours = async (page: Parameters<typeof shapes>[0]) => (await shapes(page)).map((s) => `${s.colour} ${s.kind}`);

test('a colour picked for the selection is seen by the other tab, and new shapes take it', async ({ browser }) => {
  const room = uniqueRoom('e2e-colour');
  const alice = await openRoom(browser, room);
  const bob = await openRoom(browser, room);
  await alice.getByRole('button', { name: 'Circle', exact: true }).click();
  await expectShapeCount(bob, 1);
  await expect.poll(() => colours(bob)).toEqual(['Green Circle']);

  await alice.getByRole('button', { name: 'Red', exact: true }).click();
  await expect.poll(() => colours(alice)).toEqual(['Red Circle']);
  await expect.poll(() => colours(bob)).toEqual(['Red Circle']);

  await alice.getByRole('button', { name: 'Rectangle', exact: true }).click();
  await expect.poll(() => colours(bob)).toEqual(['Red Circle', 'Red Rectangle']);
});

test('bring to front and send to back change the drawing order for everyone', async ({ browser }) => {
  const room = uniqueRoom('e2e-layer');
  const alice = await openRoom(browser, room);
  const bob = await openRoom(browser, room);
  await alice.getByRole('button', { name: 'Rectangle', exact: true }).click();
  await alice.getByRole('button', { name: 'Triangle', exact: true }).click();
  const order = async (page: Parameters<typeof shapes>[0]) => (await shapes(page)).map((s) => s.kind);
  await expect.poll(() => order(bob)).toEqual(['Rectangle', 'Triangle']);

  // The triangle is selected (the newest): send it back, then bring it forward again by keys.
  await alice.getByRole('button', { name: 'Send to back' }).click();
  await expect.poll(() => order(bob)).toEqual(['Triangle', 'Rectangle']);
  await alice.keyboard.press('Control+]');
  await expect.poll(() => order(bob)).toEqual(['Rectangle', 'Triangle']);
});

test('undo and redo, by keys and buttons; undo leaves alone what someone else moved since', async ({ browser }) => {
  const room = uniqueRoom('e2e-undo');
  const alice = await openRoom(browser, room);
  const bob = await openRoom(browser, room);
  await expect(alice.getByRole('button', { name: 'Undo' })).toBeDisabled();
  await alice.getByRole('button', { name: 'Circle', exact: true }).click();
  const [circle] = await expectShapeCount(alice, 1);

  // Three arrow presses in a burst are one step.
  for (let i = 0; i < 3; i++) await alice.keyboard.press('ArrowRight');
  const at = (dx: number) => [{ kind: 'Circle' as const, x: circle.x + dx, y: circle.y }];
  await expectPositions(bob, at(30));
  await alice.keyboard.press('Control+z');
  await expectPositions(bob, at(0));
  await alice.keyboard.press('Control+Shift+z');
  await expectPositions(bob, at(30));
  await alice.getByRole('button', { name: 'Undo' }).click();
  await expectPositions(bob, at(0));
  await alice.getByRole('button', { name: 'Redo' }).click();
  await expectPositions(bob, at(30));

  // Bob moves it after Alice's move: her undo must leave it where he put it.
  await clickBoard(bob, ...centre((await shapes(bob))[0]));
  await bob.keyboard.press('ArrowDown');
  const bobs = [{ kind: 'Circle' as const, x: circle.x + 30, y: circle.y + 10 }];
  await expectPositions(alice, bobs);
  await alice.getByRole('button', { name: 'Undo' }).click();
  // Her undo of the move is a no-op now; one more undoes her creation.
  await alice.getByRole('button', { name: 'Undo' }).click();
  await expectShapeCount(bob, 0);
  expect(positions(await shapes(alice))).toEqual([]);
  await alice.getByRole('button', { name: 'Redo' }).click();
  await expectPositions(bob, bobs);
});

test('many at once: select all, a selection rectangle, Shift+click, duplicate; each action one batch, one undo step', async ({ browser }) => {
  const room = uniqueRoom('e2e-many');
  const alice = await openRoom(browser, room);
  const bob = await openRoom(browser, room);
  for (const kind of ['Rectangle', 'Triangle', 'Circle'] as const) {
    await alice.getByRole('button', { name: kind, exact: true }).click();
  }
  const [rect, tri, circle] = await expectShapeCount(bob, 3);
  const moved = (list: typeof rect[], dx: number, dy: number) => list.map((s) => ({ kind: s.kind, x: s.x + dx, y: s.y + dy }));

  // Select all and nudge: everyone moves, together.
  await alice.keyboard.press('Control+a');
  await expect.poll(async () => (await shapes(alice)).every((s) => s.selected)).toBe(true);
  await alice.keyboard.press('ArrowRight');
  await expectPositions(bob, moved([rect, tri, circle], 10, 0));
  await alice.keyboard.press('Escape');
  await expect.poll(async () => (await shapes(alice)).some((s) => s.selected)).toBe(false);

  // A rectangle from empty board over the first two selects them, not the third.
  const [x0, y0] = await toPage(alice, 2, 2);
  const [x1, y1] = await toPage(alice, tri.x + 20, tri.y + 20);
  await alice.mouse.move(x0, y0);
  await alice.mouse.down();
  await alice.mouse.move(x1, y1, { steps: 8 });
  await alice.mouse.up();
  await expect.poll(async () => (await shapes(alice)).map((s) => s.selected)).toEqual([true, true, false]);
  await alice.keyboard.press('ArrowDown');
  await expectPositions(bob, [...moved([rect, tri], 10, 10), ...moved([circle], 10, 0)]);

  // Shift+click adds the circle; Delete removes all three as one step, undone as one.
  await alice.keyboard.down('Shift');
  await clickBoard(alice, ...centre((await shapes(alice))[2]));
  await alice.keyboard.up('Shift');
  await expect.poll(async () => (await shapes(alice)).map((s) => s.selected)).toEqual([true, true, true]);
  await alice.keyboard.press('Delete');
  await expectShapeCount(bob, 0);
  await alice.keyboard.press('Control+z');
  await expectPositions(bob, [...moved([rect, tri], 10, 10), ...moved([circle], 10, 0)]);

  // Duplicate the circle: the copy lands offset, on top, selected. (Alice's
  // list shows her undo at her next animation frame, which can come after Bob
  // has already seen it: wait for it.)
  const now = await expectShapeCount(alice, 3);
  await clickBoard(alice, ...centre(now[2]));
  await alice.keyboard.press('Control+d');
  const after = await expectShapeCount(bob, 4);
  expect(positions([after[3]])).toEqual(moved([now[2]], 24, 24));
  await expect.poll(async () => (await shapes(alice)).map((s) => s.selected)).toEqual([false, false, false, true]);
});

test('the undo history survives a reload of the tab', async ({ browser }) => {
  const page = await openRoom(browser, uniqueRoom('e2e-undo-reload'));
  await page.getByRole('button', { name: 'Rectangle', exact: true }).click();
  const [rect] = await expectShapeCount(page, 1);
  await page.keyboard.press('ArrowDown');
  await expectPositions(page, [{ kind: 'Rectangle', x: rect.x, y: rect.y + 10 }]);
  await page.reload();
  await expect(page.getByRole('status')).toHaveText('Connected');
  await expect(page.getByRole('button', { name: 'Undo' })).toBeEnabled();
  await page.keyboard.press('Control+z');
  await expectPositions(page, [{ kind: 'Rectangle', x: rect.x, y: rect.y }]);
});

test('copy in one room, paste in another: the same layout, new shapes, seen by that room; pasting again lands beside', async ({ browser }) => {
  const first = uniqueRoom('e2e-copy-from');
  const second = uniqueRoom('e2e-copy-to');
  const alice = await openRoom(browser, first);
  await alice.getByRole('button', { name: 'Rectangle', exact: true }).click();
  await alice.getByRole('button', { name: 'Red', exact: true }).click();
  await alice.getByRole('button', { name: 'Circle', exact: true }).click();
  const originals = await expectShapeCount(alice, 2);
  await alice.keyboard.press('Control+a');
  await alice.keyboard.press('Control+c');

  // The same browser (its clipboard), another room, where Bob is.
  const bob = await openRoom(browser, second);
  const there = await alice.context().newPage();
  await there.goto(`/r/${second}`);
  await expect(there.getByRole('status')).toHaveText('Connected');
  await there.keyboard.press('Control+v');
  const pasted = await expectShapeCount(bob, 2);
  expect(positions(pasted)).toEqual(positions(originals));
  expect(pasted.map((s) => s.colour)).toEqual(originals.map((s) => s.colour));
  await expect.poll(async () => (await shapes(there)).map((s) => s.selected)).toEqual([true, true]);

  // Again: beside the first copies, not on them; one undo step takes both away.
  await there.keyboard.press('Control+v');
  const twice = await expectShapeCount(bob, 4);
  expect(positions(twice.slice(2))).toEqual(positions(originals).map((s) => ({ ...s, x: s.x + 24, y: s.y + 24 })));
  await there.keyboard.press('Control+z');
  await expectShapeCount(bob, 2);
  // The room copied from is as it was.
  await expectShapeCount(alice, 2);
});
