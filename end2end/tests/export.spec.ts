import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { closeParticipants, expectAllConfirmed, expectPainted, expectShapeCount, openRoom, positions, shapeList, shapes, uniqueRoom } from './helpers';

test.afterEach(closeParticipants);

test('export JSON then import it into another room gives the same board; PNG at 2×, SVG; a bad file changes nothing', async ({ browser }) => {
  const ann = await openRoom(browser, uniqueRoom('e2e-export'));
  for (const kind of ['Circle', 'Rectangle', 'Triangle']) await ann.getByRole('button', { name: kind, exact: true }).click();
  await ann.getByRole('button', { name: 'Violet', exact: true }).click(); // the triangle
  await ann.getByRole('button', { name: 'Send to back' }).click();
  await expectShapeCount(ann, 3);
  await expectAllConfirmed(ann);
  const board = await shapes(ann);

  const [json] = await Promise.all([ann.waitForEvent('download'), ann.getByRole('link', { name: 'Export JSON' }).click()]);
  expect(json.suggestedFilename()).toMatch(/\.json$/);
  const text = await readFile((await json.path())!, 'utf8');
  expect(JSON.parse(text)).toMatchObject({ format: 'sketchboard', version: 2 });
  const [png] = await Promise.all([ann.waitForEvent('download'), ann.getByRole('link', { name: 'Export PNG' }).click()]);
  const bytes = await readFile((await png.path())!);
  expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)], 'a PNG at 2×').toEqual([3200, 2000]);
  const [svg] = await Promise.all([ann.waitForEvent('download'), ann.getByRole('link', { name: 'Export SVG' }).click()]);
  expect(await readFile((await svg.path())!, 'utf8')).toContain('aria-label="The board: 3 shapes"');

  // Into another room, by the Import button: the same board (new ids, same look and order).
  const bob = await openRoom(browser, uniqueRoom('e2e-import'));
  await bob.getByLabel('Import', { exact: true }).setInputFiles({ name: 'board.json', mimeType: 'application/json', buffer: Buffer.from(text) });
  await expect(bob.locator('.notice')).toHaveText('Imported 3 shapes.');
  await expect.poll(async () => (await shapes(bob)).map(({ kind, colour, x, y }) => ({ kind, colour, x, y })))
    .toEqual(board.map(({ kind, colour, x, y }) => ({ kind, colour, x, y })));
  await expectAllConfirmed(bob);
  // One step to undo.
  await bob.getByRole('button', { name: 'Undo' }).click();
  await expectShapeCount(bob, 0);

  // A bad file says what is wrong and changes nothing; so does one dropped on the board.
  await bob.getByLabel('Import', { exact: true }).setInputFiles({ name: 'x.json', mimeType: 'application/json', buffer: Buffer.from('{"format":"excalidraw","elements":[]}') });
  await expect(bob.locator('.notice')).toHaveText('Import failed: this is not a Sketchboard board file (its "format" is "excalidraw").');
  const dropOnBoard = async (body: string) => {
    const files = await bob.evaluateHandle((b) => {
      const t = new DataTransfer();
      t.items.add(new File([b], 'dropped.json', { type: 'application/json' }));
      return t;
    }, body);
    await bob.locator('canvas.board').dispatchEvent('drop', { dataTransfer: files });
  };
  await dropOnBoard(text.replace('"circle"', '"hexagon"'));
  await expect(bob.locator('.notice')).toContainText('hexagon');
  await expectShapeCount(bob, 0);
  // A good file dropped is imported.
  await dropOnBoard(text);
  await expect(bob.locator('.notice')).toHaveText('Imported 3 shapes.');
  await expect.poll(async () => positions(await shapes(bob))).toEqual(positions(board));
});

test('a board-sized import is one change: another tab sees it whole, one undo takes it all back', async ({ browser }) => {
  const room = uniqueRoom('e2e-bigimport');
  const [ann, bob] = [await openRoom(browser, room), await openRoom(browser, room)];
  // Far more shapes than one message holds: the page sends them in parts, as one change.
  const n = 3000;
  const file = JSON.stringify({
    format: 'sketchboard',
    version: 1,
    shapes: Array.from({ length: n }, (_, i) => ({ kind: 'circle', x: (i % 100) * 14, y: Math.floor(i / 100) * 28 })),
  });
  await ann.getByLabel('Import', { exact: true }).setInputFiles({ name: 'big.json', mimeType: 'application/json', buffer: Buffer.from(file) });
  await expect(ann.locator('.notice')).toHaveText(`Imported ${n} shapes.`);
  await expectAllConfirmed(ann);
  const now = async () => (await ann.request.get(`/api/rooms/${room}`)).json();
  const recorded = await now();
  expect([recorded.seq, recorded.shapes.length], 'one recorded change holding every shape').toEqual([1, n]);
  await expect(shapeList(bob).getByRole('listitem').first()).toHaveText(`${n - 100} more shapes beneath these`);
  // One undo step, one change again.
  await ann.getByRole('button', { name: 'Undo' }).click();
  await expectShapeCount(bob, 0);
  await expectAllConfirmed(ann);
  expect((await now()).seq).toBe(2);
  // Its history shows the import whole (a board this large is painted rough first, then sharp).
  await bob.goto(`/r/${room}/history`);
  const slider = bob.getByRole('slider', { name: 'Version' });
  await expect(slider).toHaveValue('2');
  await slider.fill('1');
  await expect(shapeList(bob).getByRole('listitem').first()).toHaveText(`${n - 100} more shapes beneath these`);
  await expectPainted(bob, { kind: 'Circle', x: 99 * 14, y: 29 * 28 });
});
