import { expect, test } from '@playwright/test';
import { centre, clickBoard, closeParticipants, expectPositions, expectShapeCount, openRoom, positions, shapes, uniqueRoom } from './helpers';

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
