import { expect, test, type Page } from '@playwright/test';
import { KINDS, centre, closeParticipants, expectShapeCount, newParticipant, pixel, shapes, toPage, uniqueRoom } from './helpers';

test.afterEach(closeParticipants);

type Point = [number, number];

/** Fingers on the screen, through the browser's own touch input (Chromium's DevTools protocol). */
async function fingers(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  const send = (type: string, points: Point[]) =>
    cdp.send('Input.dispatchTouchEvent', { type, touchPoints: points.map(([x, y], id) => ({ x, y, id })) });
  return {
    /** Puts fingers down at `from`, moves them to `to` in `steps`, lifts them. */
    async gesture(from: Point[], to: Point[], steps = 8) {
      await send('touchStart', from);
      for (let i = 1; i <= steps; i++) {
        const t = i / steps;
        await send('touchMove', from.map(([x, y], k) => [x + (to[k][0] - x) * t, y + (to[k][1] - y) * t] as Point));
      }
      await send('touchEnd', []);
    },
  };
}

const fill = KINDS.Rectangle.fill as readonly number[];
const isFill = (p: number[]) => p.every((v, i) => Math.abs(v - fill[i]) <= 3);

test('on a phone held upright: everything fits, a finger drags, a pinch zooms, two fingers pan', async ({ browser }) => {
  const page = await newParticipant(browser, { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 3 });
  await page.goto(`/r/${uniqueRoom('e2e-phone')}`);
  await expect(page.getByRole('status')).toHaveText('Connected');

  // Nothing is cut off: no sideways scrolling, every control inside the screen.
  expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
  for (const control of await page.locator('button:visible, input:visible, canvas').all()) {
    const box = await control.boundingBox();
    expect(box, 'a control is laid out').not.toBeNull();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
  }

  await page.getByRole('button', { name: 'Rectangle', exact: true }).tap();
  const [rect] = await expectShapeCount(page, 1);
  const touch = await fingers(page);

  // One finger drags the shape to the middle of the board.
  const middle = await toPage(page, 800, 500);
  await touch.gesture([await toPage(page, ...centre(rect))], [middle]);
  await expect.poll(async () => Math.abs((await shapes(page))[0].x - (rect.x + 800 - centre(rect)[0]))).toBeLessThan(10);
  const placed = (await shapes(page))[0];
  const mid: Point = [placed.x + KINDS.Rectangle.w / 2, placed.y + KINDS.Rectangle.h / 2];

  // A pinch outwards about it: three times closer. A point beside the shape is now on it.
  const beside: Point = [mid[0] + 150, mid[1]];
  expect(isFill(await pixel(page, ...beside))).toBe(false);
  const [mx, my] = await toPage(page, ...mid);
  await touch.gesture([[mx - 15, my], [mx + 15, my]], [[mx - 45, my], [mx + 45, my]]);
  await expect.poll(async () => isFill(await pixel(page, ...beside)), { message: 'zoomed in' }).toBe(true);

  // Zoomed in, a finger drag moves the shape a third as far on the board: it stays under the finger.
  const before = (await shapes(page))[0];
  await touch.gesture([[mx, my]], [[mx + 60, my]]);
  await expect.poll(async () => (await shapes(page))[0].x).toBeGreaterThan(before.x + 60);
  const after = (await shapes(page))[0];
  const perPx = 1600 / (await page.locator('canvas.board').boundingBox())!.width;
  expect(after.x - before.x).toBeLessThan((60 * perPx) / 2);
  const under: Point = [800 + 60 * perPx - 10, mid[1] - 10];
  await expect.poll(async () => isFill(await pixel(page, ...under)), { message: 'under the finger' }).toBe(true);

  // Two fingers moving together pan: the shape goes with them.
  const [ux, uy] = await toPage(page, ...under);
  await touch.gesture([[ux - 120, uy - 20], [ux - 120, uy + 20]], [[ux - 240, uy - 20], [ux - 240, uy + 20]]);
  await expect.poll(async () => isFill(await pixel(page, under[0] - 120 * perPx, under[1])), { message: 'panned' }).toBe(true);
  expect(isFill(await pixel(page, ...under))).toBe(false);
  // Panning and zooming changed the view, never the board.
  expect((await shapes(page))[0]).toEqual(after);
});

test('on a phone, a tap with the Text tool starts a text box that keeps the focus and takes typing', async ({ browser }) => {
  const page = await newParticipant(browser, { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 3 });
  await page.goto(`/r/${uniqueRoom('e2e-phone-text')}`);
  await expect(page.getByRole('status')).toHaveText('Connected');
  await page.getByRole('button', { name: 'Text', exact: true }).tap();
  const [x, y] = await toPage(page, 600, 500);
  await page.touchscreen.tap(x, y);
  const field = page.getByRole('textbox', { name: 'Text' });
  // (Where a browser moves the focus to the board after the tap, as some Android ones do, the field takes it back.)
  await expect(field).toBeFocused();
  await page.keyboard.type('Hi');
  await expect.poll(async () => (await shapes(page))[0]?.text).toBe('Hi');
  expect((await shapes(page))[0].kind).toBe('Text');
});
