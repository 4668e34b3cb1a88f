import { expect, test } from '@playwright/test';
import { Cluster } from './cluster';
import { closeParticipants, expectAllConfirmed, expectShapeCount, positions, shapes, uniqueRoom } from './helpers';

// Three nodes on a Redis Cluster (three primaries, three replicas) with the rooms'
// history in PostgreSQL, behind HAProxy (deploy/haproxy.cfg), started for these
// tests as scripts/cluster.sh runs them.
let cluster: Cluster;
test.beforeAll(async () => {
  cluster = await Cluster.start();
});
test.afterAll(() => cluster?.stop());
test.afterEach(closeParticipants);

test('two tabs on two nodes edit one room; a node killed, its tab carries on; the room\'s Redis primary killed, its replica carries the room; its history archived and read whole', async ({ browser }) => {
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

  // The room's Redis primary dies (SIGKILL): its replica takes over with every
  // confirmed change. A change made meanwhile waits, unconfirmed, until it can
  // be on two machines (the killed server back, now the replica), then is
  // confirmed and reaches the other tab.
  const primary = cluster.primaryOf(room);
  expect(primary).toBeDefined();
  cluster.killRedis(primary!);
  const tookOver = () => ![undefined, primary].includes(cluster.primaryOf(room));
  await expect.poll(tookOver, { message: 'the replica takes over', timeout: 20_000 }).toBe(true);
  await bob.getByRole('button', { name: 'Rectangle', exact: true }).click();
  cluster.restartRedis(primary!);
  await expectShapeCount(alice, 4);
  await expectAllConfirmed(bob);
  await expectAllConfirmed(alice);
  expect(positions(await shapes(alice))).toEqual(positions(await shapes(bob)));

  // A late joiner, on the third node, gets the same board.
  const carol = await cluster.openOn(browser, 'c', room);
  await expectShapeCount(carol, 4);
  expect(positions(await shapes(carol))).toEqual(positions(await shapes(bob)));

  // The room's older changes went to PostgreSQL (Redis keeps the last two);
  // its history still reads whole, through any node.
  await expect.poll(() => cluster.archivedSegments(room), { message: 'the history is archived' }).toBeGreaterThan(0);
  const history = await carol.request.get(`/api/rooms/${room}/changes?after=0&limit=100`);
  expect(history.ok()).toBe(true);
  const seqs = ((await history.json()).changes as { seq: number }[]).map((c) => c.seq);
  expect(seqs).toEqual([1, 2, 3, 4]);
});
