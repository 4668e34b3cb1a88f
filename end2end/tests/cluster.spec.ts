import { expect, test } from '@playwright/test';
import { Cluster } from './cluster';
import { closeParticipants, expectAllConfirmed, expectShapeCount, positions, shapes, uniqueRoom } from './helpers';

// Two nodes on one Redis behind HAProxy (deploy/haproxy.cfg), started for these tests.
let cluster: Cluster;
test.beforeAll(async () => {
  cluster = await Cluster.start();
});
test.afterAll(() => cluster?.stop());
test.afterEach(closeParticipants);

test('two tabs on two nodes edit one room; a node killed, its tab carries on through the other', async ({ browser }) => {
  const room = uniqueRoom('cluster');
  const alice = await cluster.openOn(browser, 'a', room);
  const bob = await cluster.openOn(browser, 'b', room);

  // Each sees the other's changes, though their sockets are on different nodes.
  await alice.getByRole('button', { name: 'Rectangle', exact: true }).click();
  await expectShapeCount(bob, 1);
  await bob.getByRole('button', { name: 'Circle', exact: true }).click();
  await expectShapeCount(alice, 2);
  await expect.poll(async () => positions(await shapes(alice))).toEqual(positions(await shapes(bob)));

  // Node a dies: alice's tab reconnects through HAProxy to node b and resumes
  // there. A change she makes is confirmed, so node b recorded it.
  await expectAllConfirmed(alice);
  cluster.kill('a');
  await alice.getByRole('button', { name: 'Triangle', exact: true }).click();
  await expectShapeCount(bob, 3);
  await expectAllConfirmed(alice);
  expect(positions(await shapes(alice))).toEqual(positions(await shapes(bob)));

  // A late joiner, necessarily on node b now, gets the same board.
  const carol = await cluster.openOn(browser, 'b', room);
  await expectShapeCount(carol, 3);
  expect(positions(await shapes(carol))).toEqual(positions(await shapes(bob)));
});
