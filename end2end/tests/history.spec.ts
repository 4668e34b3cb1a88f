import { expect, test, type Page } from '@playwright/test';
import { closeParticipants, expectShapeCount, newParticipant, openRoom, shapes, uniqueRoom } from './helpers';

test.afterEach(closeParticipants);

const kinds = async (page: Page) => (await shapes(page)).map((s) => s.kind);

async function expectKinds(page: Page, expected: string[]) {
  await expect.poll(() => kinds(page), { message: `the board shows ${expected.join(', ') || 'nothing'}` }).toEqual(expected);
}

test('history: the Version slider at 0, in the middle and at the end; step, play; restore seen live by another tab, and undone', async ({ browser }) => {
  const room = uniqueRoom('e2e-history');
  const ann = await openRoom(browser, room);
  for (const kind of ['Circle', 'Rectangle', 'Triangle']) await ann.getByRole('button', { name: kind, exact: true }).click();
  await expectShapeCount(ann, 3);
  await ann.getByRole('button', { name: 'Delete', exact: true }).click(); // the new triangle: version 4
  await ann.getByRole('button', { name: 'Circle', exact: true }).click(); // version 5
  await expectKinds(ann, ['Circle', 'Rectangle', 'Circle']);
  const bob = await openRoom(browser, room);
  await expectKinds(bob, ['Circle', 'Rectangle', 'Circle']);

  await ann.getByRole('link', { name: 'History' }).click();
  await expect(ann).toHaveURL(new RegExp(`/r/${room}/history$`));
  const slider = ann.getByRole('slider', { name: 'Version' });
  const label = ann.locator('.version-label');
  await expect(slider).toHaveValue('5');
  await expect(label).toHaveText(/^Version 5 of 5 · made \d/);
  await expectKinds(ann, ['Circle', 'Rectangle', 'Circle']);

  await slider.fill('0');
  await expect(label).toHaveText('Version 0 of 5: the empty board');
  await expectShapeCount(ann, 0);
  await slider.fill('3');
  await expect(label).toHaveText(/^Version 3 of 5 · made \d/);
  await expectKinds(ann, ['Circle', 'Rectangle', 'Triangle']);
  await ann.getByRole('button', { name: 'Previous change' }).click();
  await expectKinds(ann, ['Circle', 'Rectangle']);
  await ann.getByRole('button', { name: 'Next change' }).click();
  await expectKinds(ann, ['Circle', 'Rectangle', 'Triangle']);
  // Looking at history changes nothing: keys do nothing to the board. (Had
  // they sent a change, it would go before the restore below on ann's socket,
  // and the room would be past 6 once bob sees the restore.)
  await ann.locator('canvas.board').focus();
  await ann.keyboard.press('Control+a');
  await ann.keyboard.press('Delete');
  await expectKinds(bob, ['Circle', 'Rectangle', 'Circle']);

  // Restore: one new change, seen live; the restorer is back on the board, where Undo takes it back.
  await ann.getByRole('button', { name: 'Restore this version' }).click();
  await expect(ann).toHaveURL(new RegExp(`/r/${room}$`));
  await expectKinds(bob, ['Circle', 'Rectangle', 'Triangle']);
  await expect.poll(async () => (await (await ann.request.get(`/api/rooms/${room}`)).json()).seq, { message: 'restoring is one change' }).toBe(6);
  await expect(ann.getByRole('status')).toHaveText('Connected');
  await ann.getByRole('button', { name: 'Undo' }).click();
  await expectKinds(bob, ['Circle', 'Rectangle', 'Circle']);
  await expectKinds(ann, ['Circle', 'Rectangle', 'Circle']);

  // Play from the empty board to the end, at the fastest speed.
  await ann.goto(`/r/${room}/history`);
  await expect(slider).toHaveValue('7');
  await slider.fill('0');
  await expectShapeCount(ann, 0);
  // At 1× (four changes a second) it can be paused on the way, stepped, and played on to the end.
  await ann.getByRole('button', { name: 'Play' }).click();
  await expect.poll(async () => Number(await slider.inputValue()), { message: 'playing moves on' }).toBeGreaterThan(0);
  await ann.getByRole('button', { name: 'Pause' }).click();
  await expect(ann.getByRole('button', { name: 'Play' })).toBeEnabled();
  const paused = Number(await slider.inputValue());
  expect(paused, 'paused before the end').toBeLessThan(6);
  await ann.getByRole('button', { name: 'Next change' }).click();
  await expect(label).toHaveText(new RegExp(`^Version ${paused + 1} of 7 · made \\d`));
  await ann.getByRole('button', { name: 'Play' }).click();
  await expect(label).toHaveText(/^Version 7 of 7 · made \d/);
  // At 4× and at 16×, played from the empty board to the end.
  for (const speed of ['4×', '16×']) {
    await slider.fill('0');
    await expectShapeCount(ann, 0);
    await ann.getByLabel('Speed').selectOption(speed);
    await ann.getByRole('button', { name: 'Play' }).click();
    await expect(label).toHaveText(/^Version 7 of 7 · made \d/);
    await expect(ann.getByRole('button', { name: 'Play' }), 'at the end, nothing more to play').toBeDisabled();
  }
  await expectKinds(ann, ['Circle', 'Rectangle', 'Circle']);

  // The view-only link has history too, without restoring.
  await bob.getByRole('button', { name: 'Share' }).click();
  const field = bob.getByRole('dialog', { name: 'Share this room' }).getByLabel('View-only link');
  // The link is asked of the server when the dialog opens: wait for it.
  await expect(field).toHaveValue(/\/v\/[A-Za-z0-9_-]{22}$/);
  const link = await field.inputValue();
  const viewer = await newParticipant(browser);
  await viewer.goto(`${link}/history`);
  await expect(viewer.getByRole('slider', { name: 'Version' })).toHaveValue('7');
  await viewer.getByRole('slider', { name: 'Version' }).fill('3');
  await expectKinds(viewer, ['Circle', 'Rectangle', 'Triangle']);
  await expect(viewer.getByRole('button', { name: 'Restore this version' })).toHaveCount(0);
  expect(await viewer.content(), 'the view-only history does not name the room').not.toContain(room);
});
