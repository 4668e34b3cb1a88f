import { expect, test } from '@playwright/test';
import { centre, clickBoard, closeParticipants, expectPositions, expectShapeCount, newParticipant, openRoom, shapes, toPage, uniqueRoom } from './helpers';

test.afterEach(closeParticipants);

test('share: both links; a view-only tab sees the room live, cannot change it, is listed as viewing; a replaced link stops working', async ({ browser }) => {
  const room = uniqueRoom('e2e-share');
  const ann = await openRoom(browser, room);
  await ann.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await ann.getByRole('button', { name: 'Rectangle', exact: true }).click();
  await ann.getByRole('button', { name: 'Share' }).click();
  const dialog = ann.getByRole('dialog', { name: 'Share this room' });
  await expect(dialog.getByLabel('Edit link')).toHaveValue(new RegExp(`/r/${room}$`));
  await expect(dialog.getByLabel('View-only link')).toHaveValue(/\/v\/[A-Za-z0-9_-]{22}$/);
  const edit = await dialog.getByLabel('Edit link').inputValue();
  await dialog.getByRole('button', { name: 'Copy edit link' }).click();
  await expect(dialog).toContainText('Copied.');
  expect(await ann.evaluate(() => navigator.clipboard.readText())).toBe(edit);
  const link = await dialog.getByLabel('View-only link').inputValue();
  await dialog.getByRole('button', { name: 'Copy view-only link' }).click();
  await expect.poll(() => ann.evaluate(() => navigator.clipboard.readText())).toBe(link);
  await expect(dialog).toContainText('Copied.');

  const viewer = await newParticipant(browser);
  await viewer.goto(link);
  await expect(viewer.getByRole('status')).toHaveText('Connected');
  const [rect] = await expectShapeCount(viewer, 1);
  expect(await viewer.content(), 'nothing on the page names the room').not.toContain(room);
  for (const name of ['Rectangle', 'Delete', 'Undo', 'Red', 'Share']) {
    await expect(viewer.getByRole('button', { name, exact: true })).toHaveCount(0);
  }
  // Mouse and keys change nothing.
  await clickBoard(viewer, ...centre(rect));
  for (const key of ['ArrowRight', 'Delete', 'Control+a', 'Control+d', 'Control+z']) await viewer.keyboard.press(key);
  const [vx, vy] = await toPage(viewer, ...centre(rect));
  // A drag, too.
  await viewer.mouse.move(vx, vy);
  await viewer.mouse.down();
  await viewer.mouse.move(vx + 80, vy + 40, { steps: 4 });
  await viewer.mouse.up();
  await expectPositions(viewer, [{ kind: 'Rectangle', x: rect.x, y: rect.y }]);
  await expectPositions(ann, [{ kind: 'Rectangle', x: rect.x, y: rect.y }]);
  await expectShapeCount(ann, 1);
  // It sees the room live, and the room sees it, as viewing.
  await ann.keyboard.press('ArrowRight');
  await expectPositions(viewer, [{ kind: 'Rectangle', x: rect.x + 10, y: rect.y }]);
  await expect(ann.getByRole('list', { name: 'People in this room' })).toContainText(['(viewing)']);
  // The room's record holds ann's two changes and nothing of the viewer's.
  expect((await (await ann.request.get(`/api/rooms/${room}`)).json()).seq, 'only the editor changed the room').toBe(2);

  // Replacing the link: the open view closes, the old link opens nothing, the new one works.
  await dialog.getByRole('button', { name: 'Replace view-only link' }).click();
  await expect(dialog).toContainText('the old one no longer works');
  const fresh = await dialog.getByLabel('View-only link').inputValue();
  expect(fresh).not.toBe(link);
  await expect(viewer.getByRole('status')).toHaveText('This view-only link was replaced: ask for the new one');
  const old = await viewer.goto(link);
  expect(old?.status()).toBe(404);
  await viewer.goto(fresh);
  await expect(viewer.getByRole('status')).toHaveText('Connected');
  await expect.poll(async () => (await shapes(viewer)).length).toBe(1);
});

test('a private room: an unguessable name, not in the lobby, in "Your recent rooms"', async ({ browser }) => {
  const page = await newParticipant(browser);
  await page.goto('/');
  await page.getByRole('link', { name: 'New private room' }).click();
  await expect(page).toHaveURL(/\/r\/[A-Za-z0-9_-]{22}$/);
  await expect(page.getByRole('status')).toHaveText('Connected');
  const name = new URL(page.url()).pathname.slice(3);
  await page.getByRole('button', { name: 'Circle', exact: true }).click();
  await expectShapeCount(page, 1);

  const other = await newParticipant(browser);
  await other.goto('/');
  await expect(other.getByRole('heading', { name: 'Rooms' })).toBeVisible();
  await expect(other.getByRole('link', { name })).toHaveCount(0);

  await page.goto('/');
  const recent = page.getByRole('region', { name: 'Your recent rooms' });
  await expect(recent.getByRole('link', { name })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Rooms', exact: true }).getByRole('link', { name })).toHaveCount(0);
});
