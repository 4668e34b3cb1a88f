import { expect, test } from '@playwright/test';
import { closeParticipants, expectAllConfirmed, expectPainted, expectShapeCount, newParticipant, openRoom, uniqueRoom } from './helpers';

test.afterEach(closeParticipants);

test('without JavaScript the room page shows the board as SVG; with it, the canvas takes over; link previews point at the PNG', async ({ browser }) => {
  const room = uniqueRoom('e2e-nojs');
  const ann = await openRoom(browser, room);
  await ann.getByRole('button', { name: 'Circle', exact: true }).click();
  await ann.getByRole('button', { name: 'Rectangle', exact: true }).click();
  await ann.getByRole('button', { name: 'Red', exact: true }).click(); // the new rectangle is selected
  await expectShapeCount(ann, 2);
  await expectAllConfirmed(ann);

  const plain = await newParticipant(browser, { javaScriptEnabled: false });
  await plain.goto(`/r/${room}`);
  const picture = plain.locator('.board-picture svg');
  await expect(picture).toBeVisible();
  await expect(picture).toHaveAttribute('aria-label', 'The board: 2 shapes');
  await expect(picture.locator('ellipse[fill="#b2f2bb"]')).toHaveCount(1);
  await expect(picture.locator('rect[fill="#ffc9c9"]')).toHaveCount(1);
  const box = await picture.boundingBox();
  expect(box && box.width > 300 && Math.abs(box.width / box.height - 1.6) < 0.02, `a 16:10 board, ${JSON.stringify(box)}`).toBe(true);

  // The link preview: an absolute address of the board's PNG, which is one.
  const image = await plain.locator('meta[property="og:image"]').getAttribute('content');
  expect(image).toMatch(new RegExp(`^http://[^/]+/r/${room}\\.png$`));
  const png = await plain.request.get(image!);
  expect(png.headers()['content-type']).toBe('image/png');
  expect((await png.body()).subarray(1, 4).toString()).toBe('PNG');

  // The view-only link's page too, without JavaScript.
  await ann.getByRole('button', { name: 'Share' }).click();
  const field = ann.getByRole('dialog', { name: 'Share this room' }).getByLabel('View-only link');
  // The link is asked of the server when the dialog opens: wait for it.
  await expect(field).toHaveValue(/\/v\/[A-Za-z0-9_-]{22}$/);
  const link = await field.inputValue();
  await plain.goto(link);
  await expect(plain.locator('.board-picture svg ellipse')).toHaveCount(1);
  expect(await plain.content(), 'the view page does not name the room').not.toContain(room);
  // Its preview is the view-only link's own PNG, which names no room either.
  const token = new URL(link).pathname.slice('/v/'.length);
  const viewImage = await plain.locator('meta[property="og:image"]').getAttribute('content');
  expect(viewImage).toMatch(new RegExp(`^http://[^/]+/v/${token}\\.png$`));
  expect((await plain.request.get(viewImage!)).headers()['content-type']).toBe('image/png');

  // With JavaScript the live canvas replaces the picture once connected.
  const live = await openRoom(browser, room);
  await expect(live.locator('.board-picture')).toBeHidden();
  const [circle] = await expectShapeCount(live, 2);
  await expectPainted(live, circle);
});
