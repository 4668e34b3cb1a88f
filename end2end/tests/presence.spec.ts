import { expect, test, type Page } from '@playwright/test';
import { clickBoard, closeParticipants, expectShapeCount, openRoom, pixel, toPage, uniqueRoom } from './helpers';

test.afterEach(closeParticipants);

const people = (page: Page) => page.getByRole('list', { name: 'People in this room' }).getByRole('listitem');

/** Sets the name in the "Your name" field, as a person would (type, then leave the field). */
async function rename(page: Page, name: string) {
  const field = page.getByLabel('Your name');
  await field.fill(name);
  await field.press('Enter');
  await field.blur();
}

/** The person colour a page's people list gives `name`, as RGB. */
async function colourOf(page: Page, name: string): Promise<number[]> {
  const style = (await people(page).filter({ hasText: name }).getAttribute('style')) ?? '';
  const hex = /#([0-9a-f]{6})/i.exec(style)?.[1];
  if (!hex) throw new Error(`no colour for ${name}: ${style}`);
  return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

const near = (a: number[], b: number[], tolerance: number) => a.every((v, i) => Math.abs(v - b[i]) <= tolerance);

test('names and the people list: three people, one with two tabs; a rename shows for everyone and is remembered', async ({ browser }) => {
  const room = uniqueRoom('e2e-people');
  const ann = await openRoom(browser, room);
  const bob = await openRoom(browser, room);
  const cy = await openRoom(browser, room);
  // A friendly default name, already filled in.
  await expect(ann.getByLabel('Your name')).toHaveValue(/^[A-Z][a-z]+ [A-Z][a-z]+$/);

  await rename(ann, '  Ann  ');
  await rename(bob, 'Bob <i>the builder</i>');
  await rename(cy, 'Cy');
  for (const page of [ann, bob, cy]) {
    await expect(people(page)).toHaveCount(3);
    await expect(page.getByText('3 people here')).toBeVisible();
  }
  await expect(people(ann).first()).toHaveText('Ann (you)');
  await expect(people(cy)).toContainText(['Cy (you)', 'Ann', 'Bob <i>the builder</i>']);
  await expect(cy.locator('.people i')).toHaveCount(0); // shown as text, never as markup

  // Ann's second tab (same browser) is still one person.
  const annAgain = await ann.context().newPage();
  await annAgain.goto(`/r/${room}`);
  await expect(annAgain.getByRole('status')).toHaveText('Connected');
  await expect(annAgain.getByLabel('Your name')).toHaveValue('Ann');
  await expect(people(annAgain).first()).toHaveText('Ann (you)');
  await expect(people(bob)).toHaveCount(3);

  // A rename reaches everyone (and Ann's other tab) within a second.
  await rename(ann, 'Annie');
  for (const page of [bob, cy]) await expect(people(page)).toContainText(['Annie'], { timeout: 1000 });
  await expect(people(annAgain).first()).toHaveText('Annie (you)', { timeout: 1000 });

  // Leaving is seen at once; the name is remembered for the next visit.
  await cy.close();
  await expect(people(bob)).toHaveCount(2);
  await ann.reload();
  await expect(ann.getByLabel('Your name')).toHaveValue('Annie');
  // A name that breaks the rule is not taken.
  await rename(ann, '   ');
  await expect(ann.getByLabel('Your name')).toHaveValue('Annie');
  await expect(people(bob)).toContainText(['Annie']);
});

test("a pointer and a selection from one tab are drawn on the other's canvas, in the person's colour", async ({ browser }) => {
  const room = uniqueRoom('e2e-pointer');
  const ann = await openRoom(browser, room);
  const bob = await openRoom(browser, room);
  await rename(ann, 'Ann');
  await expect(people(bob)).toContainText(['Ann']);
  const colour = await colourOf(bob, 'Ann');

  // The pointer: an arrow at the board position, its name label beside it.
  const [px, py] = await toPage(ann, 700, 500);
  await ann.mouse.move(px, py, { steps: 5 });
  await expect.poll(() => pixel(bob, 703, 510).then((p) => near(p, colour, 40)), { message: 'the arrow' }).toBe(true);
  await expect.poll(() => pixel(bob, 713.5, 25 + 500).then((p) => near(p, colour, 40)), { message: 'the label' }).toBe(true);
  // It follows the pointer.
  const [qx, qy] = await toPage(ann, 300, 200);
  await ann.mouse.move(qx, qy, { steps: 10 });
  await expect.poll(() => pixel(bob, 303, 210).then((p) => near(p, colour, 40))).toBe(true);
  await expect.poll(() => pixel(bob, 703, 510).then((p) => near(p, colour, 40))).toBe(false);
  // Off the board, it is gone.
  await ann.mouse.move(1, 1);
  await expect.poll(() => pixel(bob, 303, 210).then((p) => near(p, colour, 40))).toBe(false);

  // A selection: Ann's shape is outlined in her colour on Bob's board, his own selection untouched.
  await ann.getByRole('button', { name: 'Rectangle', exact: true }).click();
  const [rect] = await expectShapeCount(bob, 1);
  await clickBoard(ann, rect.x + 80, rect.y + 50);
  await ann.mouse.move(1, 1);
  await expect.poll(() => pixel(bob, rect.x - 2, rect.y - 6).then((p) => near(p, colour, 60)), { message: 'the outline' }).toBe(true);
  await expect(bob.getByRole('list', { name: /Shapes/ }).getByRole('listitem')).not.toContainText(['selected']);
  await ann.keyboard.press('Escape');
  await expect.poll(() => pixel(bob, rect.x - 2, rect.y - 6).then((p) => near(p, colour, 60))).toBe(false);
});
