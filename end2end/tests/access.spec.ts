import { expect, test } from '@playwright/test';
import { closeParticipants, expectPositions, expectShapeCount, openRoom, shapes, uniqueRoom } from './helpers';

test.afterEach(closeParticipants);

test('from the keyboard alone: Tab into the board, Tab and Shift+Tab move between shapes, arrows move them, Tab leaves at the end', async ({ browser }) => {
  const page = await openRoom(browser, uniqueRoom('e2e-keys'));
  for (const kind of ['Rectangle', 'Triangle', 'Circle'] as const) {
    await page.getByRole('button', { name: kind, exact: true }).click();
  }
  const all = await expectShapeCount(page, 3);
  await page.keyboard.press('Escape');
  const selected = async () => (await shapes(page)).map((s) => s.selected);
  await expect.poll(selected).toEqual([false, false, false]);

  const board = page.getByRole('application', { name: 'Board' });
  await board.focus();
  await page.keyboard.press('Tab');
  await expect.poll(selected).toEqual([true, false, false]);
  await page.keyboard.press('Tab');
  await expect.poll(selected).toEqual([false, true, false]);
  await page.keyboard.press('Shift+Tab');
  await expect.poll(selected).toEqual([true, false, false]);
  await page.keyboard.press('ArrowDown');
  const [rect, ...rest] = all.map(({ kind, x, y }) => ({ kind, x, y }));
  await expectPositions(page, [{ ...rect, y: rect.y + 10 }, ...rest]);
  await expect(board).toBeFocused();
  // Past the last shape, the focus moves on: no keyboard trap.
  for (let i = 0; i < 3; i++) await page.keyboard.press('Tab');
  await expect.poll(selected).toEqual([false, false, false]);
  await expect(board).not.toBeFocused();
});

test("others' changes are announced politely, at most once a second, a drag as one", async ({ browser }) => {
  const room = uniqueRoom('e2e-announce');
  const ann = await openRoom(browser, room);
  const bob = await openRoom(browser, room);
  const field = ann.getByLabel('Your name');
  await field.fill('Ann');
  await field.press('Enter');
  const said = bob.getByTestId('announcements');
  await expect(said).toHaveAttribute('aria-live', 'polite');
  await expect(bob.getByRole('list', { name: 'People in this room' })).toContainText('Ann');

  await ann.getByRole('button', { name: 'Circle', exact: true }).click();
  await expect(said).toHaveText('Ann added a green circle');
  // A burst of moves of one shape is said once.
  for (let i = 0; i < 5; i++) await ann.keyboard.press('ArrowRight');
  await expect(said).toHaveText('Ann moved a green circle');
  // Different things in one second are summed up.
  await ann.getByRole('button', { name: 'Rectangle', exact: true }).click();
  await ann.getByRole('button', { name: 'Triangle', exact: true }).click();
  await ann.keyboard.press('Delete');
  await expect(said).toHaveText(/^Ann made [23] changes$/);
  // Your own changes are not announced to you.
  await expect(ann.getByTestId('announcements')).toHaveText('');
});
