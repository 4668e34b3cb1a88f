import { expect, type Browser, type BrowserContext, type Locator, type Page } from '@playwright/test';

// Contexts opened by hand (several per test, one per participant) are closed
// after each test, so no test runs beside the live pages of earlier ones.
// Each spec file registers `test.afterEach(closeParticipants)`.
const contexts: BrowserContext[] = [];

export async function closeParticipants(): Promise<void> {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
}

/** A page in a fresh browser context (a separate participant), closed after the test. */
export async function newParticipant(browser: Browser, options: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
  const context = await browser.newContext(options);
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  return page;
}

export const BOARD_WIDTH = 1600;
export const BOARD_HEIGHT = 1000;

/** Each kind's size and fill colour (RGB), as src/model/shape.rs and src/client/canvas.rs define them. */
export const KINDS = {
  Rectangle: { w: 160, h: 100, fill: [0xa5, 0xd8, 0xff] },
  Triangle: { w: 140, h: 120, fill: [0xff, 0xd8, 0xa8] },
  Circle: { w: 120, h: 120, fill: [0xb2, 0xf2, 0xbb] },
  Note: { w: 200, h: 200, fill: [0xff, 0xec, 0x99] },
  // A text box has no fill: this is its letters' grey.
  Text: { w: 28, h: 46, fill: [0x49, 0x50, 0x57] },
} as const;
export type Kind = keyof typeof KINDS;

export interface ShapeItem {
  kind: Kind;
  /** The colour's name as the text alternative says it ("Blue"). */
  colour: string;
  x: number;
  y: number;
  /** Its size and turn (degrees clockwise), in whole units. */
  w: number;
  h: number;
  rotation: number;
  /** What is written on it (at most its first 200 characters). */
  text: string;
  selected: boolean;
}

/** A room name no other test (or earlier run) uses. */
export function uniqueRoom(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Opens a room in a fresh browser context and waits until it is live. */
export async function openRoom(browser: Browser, room: string): Promise<Page> {
  const page = await newParticipant(browser);
  await page.goto(`/r/${room}`);
  await expect(page.getByRole('status')).toHaveText('Connected');
  return page;
}

export function shapeList(page: Page): Locator {
  return page.getByRole('list', { name: /Shapes/ });
}

/** The shapes the page's text alternative lists, in drawing order. */
export async function shapes(page: Page): Promise<ShapeItem[]> {
  const texts = await shapeList(page).getByRole('listitem').allTextContents();
  return texts.map((t) => {
    const m = /^([A-Z][a-z]+) (rectangle|triangle|circle|note|text) at (-?\d+), (-?\d+), (\d+) × (\d+)(?:, rotated (\d+)°)?(?:, “(.*)”)?(, selected)?$/.exec(
      t.trim(),
    );
    if (!m) throw new Error(`unexpected shape description: ${t}`);
    const kind = (m[2][0].toUpperCase() + m[2].slice(1)) as Kind;
    const [x, y, w, h, rotation] = [m[3], m[4], m[5], m[6], m[7] ?? '0'].map(Number);
    return { kind, colour: m[1], x, y, w, h, rotation, text: m[8] ?? '', selected: !!m[9] };
  });
}

/** Waits until the page lists exactly `n` shapes; returns them. */
export async function expectShapeCount(page: Page, n: number): Promise<ShapeItem[]> {
  await expect(shapeList(page).getByRole('listitem')).toHaveCount(n);
  return shapes(page);
}

export function centre(s: { kind: Kind; x: number; y: number; w?: number; h?: number }): [number, number] {
  const w = s.w ?? KINDS[s.kind].w;
  const h = s.h ?? KINDS[s.kind].h;
  // Slightly below the middle: inside a triangle too.
  return [s.x + w / 2, s.y + h * 0.6];
}

/** The RGB colour the canvas shows at a board position. */
export async function pixel(page: Page, bx: number, by: number): Promise<number[]> {
  return page.evaluate(
    ([x, y, W]) => {
      const c = document.querySelector('canvas.board') as HTMLCanvasElement;
      const scale = c.width / W;
      const d = c.getContext('2d')!.getImageData(Math.round(x * scale), Math.round(y * scale), 1, 1).data;
      return [d[0], d[1], d[2]];
    },
    [bx, by, BOARD_WIDTH],
  );
}

/** Waits until the canvas shows (or, with `present` false, no longer shows) a shape's fill at its centre. */
export async function expectPainted(page: Page, s: { kind: Kind; x: number; y: number }, present = true) {
  // A little up and left of the centre: a pointer that dragged the shape is
  // drawn on the others' boards at the centre, its arrow pointing up-left, so
  // it covers what lies right of and below its tip.
  const [cx, cy] = centre(s);
  const [x, y] = [cx - 10, cy - 10];
  const fill = KINDS[s.kind].fill as readonly number[];
  await expect
    .poll(async () => {
      const px = await pixel(page, x, y);
      return px.every((v, i) => Math.abs(v - fill[i]) <= 2);
    }, { message: `${s.kind} at ${s.x}, ${s.y} ${present ? 'painted' : 'gone'}` })
    .toBe(present);
}

/** Page coordinates of a board position. */
export async function toPage(page: Page, bx: number, by: number): Promise<[number, number]> {
  const box = await page.locator('canvas.board').boundingBox();
  if (!box) throw new Error('no canvas');
  return [box.x + (bx / BOARD_WIDTH) * box.width, box.y + (by / BOARD_HEIGHT) * box.height];
}

export async function clickBoard(page: Page, bx: number, by: number) {
  const [x, y] = await toPage(page, bx, by);
  await page.mouse.click(x, y);
}

/** Without the ", selected" mark: what every participant should agree on. */
export function positions(list: ShapeItem[]) {
  return list.map(({ kind, x, y }) => ({ kind, x, y }));
}

/** Waits until the server has confirmed every change the page made (the tab's saved record of unsent changes is empty). */
export async function expectAllConfirmed(page: Page) {
  await expect
    .poll(async () =>
      page.evaluate(() =>
        Object.keys(sessionStorage)
          .filter((k) => k.startsWith('sketchboard:'))
          .map((k) => (JSON.parse(sessionStorage.getItem(k) ?? '{}').pending ?? []).length)
          .reduce((a, b) => a + b, 0),
      ), { message: 'every change confirmed by the server' })
    .toBe(0);
}

/** Waits until the page lists shapes at exactly these places, in this order (changes may still be arriving). */
export async function expectPositions(page: Page, expected: ReturnType<typeof positions>) {
  await expect.poll(async () => positions(await shapes(page)), { message: 'the shapes where expected' }).toEqual(expected);
}
