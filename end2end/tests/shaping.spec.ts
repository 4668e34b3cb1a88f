import { expect, test, type Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { clickBoard, closeParticipants, expectShapeCount, newParticipant, openRoom, shapes, toPage, uniqueRoom } from './helpers';

test.afterEach(closeParticipants);

/** Size and turn as the text alternative of `page` lists them, for the first shape. */
const frame = async (page: Page) => {
  const [s] = await shapes(page);
  return { x: s.x, y: s.y, w: s.w, h: s.h, rotation: s.rotation };
};

test('resize and rotate by keys and by handles, seen live by the other tab, each undone in one step', async ({ browser }) => {
  const room = uniqueRoom('e2e-shape');
  const alice = await openRoom(browser, room);
  const bob = await openRoom(browser, room);
  await alice.getByRole('button', { name: 'Rectangle', exact: true }).click();
  const [rect] = await expectShapeCount(bob, 1);
  expect([rect.w, rect.h, rect.rotation]).toEqual([160, 100, 0]);

  // Keys: Alt+Right twice, Shift+Alt+Down once; then > twice and < once.
  await alice.keyboard.press('Alt+ArrowRight');
  await alice.keyboard.press('Alt+ArrowRight');
  await alice.keyboard.press('Alt+Shift+ArrowDown');
  await expect.poll(() => frame(bob)).toEqual({ x: rect.x, y: rect.y, w: 180, h: 150, rotation: 0 });
  await alice.keyboard.press('Shift+Period');
  await alice.keyboard.press('Shift+Period');
  await alice.keyboard.press('Shift+Comma');
  await expect.poll(() => frame(bob)).toEqual({ x: rect.x, y: rect.y, w: 180, h: 150, rotation: 15 });
  // The turns were one step, the resizes another.
  await alice.keyboard.press('Control+z');
  await expect.poll(() => frame(bob)).toEqual({ x: rect.x, y: rect.y, w: 180, h: 150, rotation: 0 });
  await alice.keyboard.press('Control+z');
  await expect.poll(() => frame(bob)).toEqual({ x: rect.x, y: rect.y, w: 160, h: 100, rotation: 0 });

  // The bottom-right handle, dragged 140 × 60 board units out: Bob sees it grow
  // before the button is released.
  const [hx, hy] = await toPage(alice, rect.x + 160, rect.y + 100);
  const [tx, ty] = await toPage(alice, rect.x + 300, rect.y + 160);
  await alice.mouse.move(hx, hy);
  await expect(alice.locator('canvas.board')).toHaveCSS('cursor', 'nwse-resize');
  await alice.mouse.down();
  await alice.mouse.move((hx + tx) / 2, (hy + ty) / 2, { steps: 6 });
  await expect.poll(async () => (await frame(bob)).w).toBeGreaterThan(180);
  await alice.mouse.move(tx, ty, { steps: 6 });
  await alice.mouse.up();
  // The pointer lands on whole device pixels: allow a unit or two.
  await expect.poll(async () => Math.abs((await frame(alice)).w - 300)).toBeLessThanOrEqual(2);
  await expect.poll(async () => Math.abs((await frame(alice)).h - 160)).toBeLessThanOrEqual(2);
  const grown = await frame(alice);
  expect([grown.x, grown.y]).toEqual([rect.x, rect.y]);
  await expect.poll(() => frame(bob)).toEqual(grown);

  // The rotation handle (24 pixels above the top edge's middle), dragged with
  // Shift to the right of the centre: a quarter turn, snapped.
  const [cx, cy] = await toPage(alice, rect.x + grown.w / 2, rect.y + grown.h / 2);
  const [topX, topY] = await toPage(alice, rect.x + grown.w / 2, rect.y);
  await alice.mouse.move(topX, topY - 24);
  await expect(alice.locator('canvas.board')).toHaveCSS('cursor', 'grab');
  await alice.mouse.down();
  await alice.keyboard.down('Shift');
  await alice.mouse.move(cx + 150, cy + 10, { steps: 8 });
  await alice.mouse.up();
  await alice.keyboard.up('Shift');
  await expect.poll(() => frame(bob)).toEqual({ ...grown, rotation: 90 });

  // Each gesture is one undo step.
  await alice.keyboard.press('Control+z');
  await expect.poll(() => frame(bob)).toEqual(grown);
  await alice.keyboard.press('Control+z');
  await expect.poll(() => frame(bob)).toEqual({ x: rect.x, y: rect.y, w: 160, h: 100, rotation: 0 });
});

test('write in a shape, seen live by the other tab; two tabs typing in one shape at once both keep their letters; undo; text size', async ({ browser }) => {
  const room = uniqueRoom('e2e-write');
  const alice = await openRoom(browser, room);
  const bob = await openRoom(browser, room);
  await alice.getByRole('button', { name: 'Rectangle', exact: true }).click();
  const [rect] = await expectShapeCount(bob, 1);
  const textOf = async (page: Page) => (await shapes(page))[0].text;

  // Enter on the selected shape opens its text field; typing shows on the other tab as it goes.
  await alice.keyboard.press('Enter');
  const field = alice.getByRole('textbox', { name: 'Text' });
  await expect(field).toBeFocused();
  await alice.keyboard.type('Plan', { delay: 30 });
  await expect.poll(() => textOf(bob)).toBe('Plan');
  await alice.keyboard.press('Escape');
  await expect(field).toBeHidden();

  // A double-click on the shape opens it on Bob's side too; both type at the end at once.
  const [cx, cy] = await toPage(bob, rect.x + 80, rect.y + 50);
  await bob.mouse.dblclick(cx, cy);
  const bobField = bob.getByRole('textbox', { name: 'Text' });
  await expect(bobField).toBeFocused();
  await bob.keyboard.press('End');
  await alice.keyboard.press('Enter');
  await expect(field).toBeFocused();
  await alice.keyboard.press('End');
  await Promise.all([alice.keyboard.type(' AAAA', { delay: 40 }), bob.keyboard.type(' BBBB', { delay: 40 })]);
  const both = async (page: Page) => {
    const t = await textOf(page);
    return t.startsWith('Plan') && t.includes(' AAAA') && t.includes(' BBBB') && t.length === 'Plan'.length + 10;
  };
  await expect.poll(() => both(alice)).toBe(true);
  await expect.poll(() => both(bob)).toBe(true);
  expect(await textOf(alice)).toBe(await textOf(bob));

  // Undo takes back Alice's typing only, and Bob's letters stay.
  await alice.keyboard.press('Escape');
  await alice.keyboard.press('Control+z');
  await expect.poll(() => textOf(bob)).toBe('Plan BBBB');
  await alice.keyboard.press('Control+z');
  await expect.poll(() => textOf(bob)).toBe(' BBBB');

  // A text size for the selection, recorded for everyone, undone in one step.
  const textSize = async () => (await (await alice.request.get(`/api/rooms/${room}`)).json()).shapes[0].text_size ?? 'm';
  await alice.getByRole('toolbar', { name: 'Text size' }).getByRole('button', { name: 'XL', exact: true }).click();
  await expect.poll(textSize).toBe('xl');
  await alice.keyboard.press('Control+z');
  await expect.poll(textSize).toBe('m');
});

test('a sticky note: N or the Note button adds a yellow square to write in, seen by the other tab', async ({ browser }) => {
  const room = uniqueRoom('e2e-note');
  const alice = await openRoom(browser, room);
  const bob = await openRoom(browser, room);
  await alice.getByRole('button', { name: 'Note', exact: true }).click();
  const [first] = await expectShapeCount(bob, 1);
  expect([first.kind, first.colour, first.w, first.h]).toEqual(['Note', 'Yellow', 200, 200]);
  await alice.locator('canvas.board').focus();
  await alice.keyboard.press('n');
  const [, note] = await expectShapeCount(bob, 2);
  expect(note.kind).toBe('Note');
  // The new note is selected: Enter writes in it.
  await alice.keyboard.press('Enter');
  await alice.keyboard.type('Buy milk');
  await alice.keyboard.press('Escape');
  await expect.poll(async () => (await shapes(bob))[1].text).toBe('Buy milk');
});

/** How many pixels of `page`'s canvas inside the board rectangle [x0, y0, x1, y1] are dark (letters). */
const darkPixels = (page: Page, area: number[]) =>
  page.evaluate(([x0, y0, x1, y1]) => {
    const c = document.querySelector('canvas.board') as HTMLCanvasElement;
    const k = c.width / 1600;
    const [w, h] = [Math.round((x1 - x0) * k), Math.round((y1 - y0) * k)];
    const d = c.getContext('2d')!.getImageData(Math.round(x0 * k), Math.round(y0 * k), w, h).data;
    let dark = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 140 && d[i + 1] < 140 && d[i + 2] < 140) dark++;
    return dark;
  }, area);

test('a text box: the Text tool or T, a click on the board, typing that grows it, seen live and without JavaScript; one undo; empty ones go', async ({ browser }) => {
  const room = uniqueRoom('e2e-text');
  const alice = await openRoom(browser, room);
  const bob = await openRoom(browser, room);
  const tool = alice.getByRole('button', { name: 'Text', exact: true });
  await tool.click();
  await expect(tool).toHaveAttribute('aria-pressed', 'true');
  await clickBoard(alice, 400, 300);
  const field = alice.getByRole('textbox', { name: 'Text' });
  await expect(field).toBeFocused();
  await expect(tool).toHaveAttribute('aria-pressed', 'false');

  // The click is at the start of the first line; the box grows with each letter and line, live on Bob's side.
  await alice.keyboard.type('Hello', { delay: 30 });
  await alice.keyboard.press('Enter');
  await alice.keyboard.type('there, world', { delay: 30 });
  await expect.poll(async () => (await shapes(bob))[0]?.text).toBe('Hello there, world');
  const [box] = await shapes(bob);
  expect([box.kind, box.colour, box.h]).toEqual(['Text', 'Grey', 76]);
  // Within a unit of the click (the page's pixels are not whole board units).
  expect(Math.abs(box.x - 392) <= 1 && Math.abs(box.y - 277) <= 1).toBe(true);
  expect(box.w).toBeGreaterThan(120);
  // Bob's canvas draws the letters, with no fill or outline around them.
  await expect.poll(() => darkPixels(bob, [box.x, box.y, box.x + box.w, box.y + box.h])).toBeGreaterThan(100);
  expect(await darkPixels(bob, [box.x + 1, box.y + 1, box.x + 6, box.y + 6])).toBe(0);
  await alice.keyboard.press('Escape');
  await expect(field).toBeHidden();

  // The page without JavaScript and Export SVG show its two lines as text, with no box drawn.
  const plain = await newParticipant(browser, { javaScriptEnabled: false });
  await plain.goto(`/r/${room}`);
  const lines = plain.locator('.board-picture svg text tspan');
  await expect(lines).toHaveText(['Hello', 'there, world']);
  await expect(plain.locator('.board-picture svg text')).toHaveAttribute('fill', '#495057');
  const download = alice.waitForEvent('download');
  await alice.getByRole('link', { name: 'Export SVG' }).click();
  const svg = await readFile((await (await download).path())!, 'utf8');
  expect(svg).toContain('>there, world</tspan>');

  // The box and the letters typed into it are one step.
  await alice.keyboard.press('Control+z');
  await expectShapeCount(bob, 0);

  // T, a click, nothing typed: the box others saw while it waited is gone again.
  await alice.keyboard.press('t');
  await clickBoard(alice, 800, 500);
  await expect(field).toBeFocused();
  await expectShapeCount(bob, 1);
  await alice.keyboard.press('Escape');
  await expectShapeCount(bob, 0);
  await expectShapeCount(alice, 0);

  // A double-click on empty board starts one too.
  const [dx, dy] = await toPage(alice, 1000, 200);
  await alice.mouse.dblclick(dx, dy);
  await expect(field).toBeFocused();
  await alice.keyboard.type('Hi');
  await expect.poll(async () => (await shapes(bob))[0]?.text).toBe('Hi');
  expect((await shapes(bob))[0].kind).toBe('Text');
});
