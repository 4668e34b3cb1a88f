// Several nodes for the browser tests, as scripts/cluster.sh runs them: a real
// Redis Cluster of six redis-server processes (three primaries, three
// replicas), a real PostgreSQL keeping the rooms' history (each room's last two
// changes stay in Redis), three real server nodes (the binary `cargo leptos
// end-to-end` built) acknowledging a change once a replica has it, and Debian's
// HAProxy in front, configured by deploy/haproxy.cfg, all on free loopback ports. A part
// that cannot start fails the test: nothing is skipped.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, type Browser, type Page } from '@playwright/test';
import { newParticipant } from './helpers';

const ROOT = path.resolve(__dirname, '../..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Waits until `ok`; fails at once if one of `procs` has exited (its stderr says why). */
async function waitFor(what: string, ok: () => Promise<boolean>, exited: Map<string, number | null>) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (exited.size > 0) throw new Error(`${what}: ${[...exited].map(([n, c]) => `${n} exited (${c})`).join(', ')}`);
    if (await ok().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within 30 s`);
}

/** Whether a Redis answers PING on `port`. */
function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      resolve(d.toString().startsWith('+PONG'));
      s.destroy();
    });
    s.on('error', () => resolve(false));
  });
}

const healthy = (addr: string) => async () => (await fetch(`http://${addr}/healthz`)).ok;

export type NodeName = 'a' | 'b' | 'c';

/** What `redis-cli` on `port` answers to `args` ('' when it cannot reach it). */
function cli(port: number, ...args: string[]): string {
  try {
    return execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** Whether every server of the cluster at `port` agrees on who holds which slot. */
function clusterAgrees(port: number): boolean {
  try {
    execFileSync('redis-cli', ['--cluster', 'check', `127.0.0.1:${port}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Debian's PostgreSQL binaries, the newest version installed. */
function postgresBin(): string {
  const versions = readdirSync('/usr/lib/postgresql').filter((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
  versions.sort((x, y) => Number(x) - Number(y));
  if (versions.length === 0) throw new Error('PostgreSQL is not installed (scripts/setup.sh --tests installs it)');
  return `/usr/lib/postgresql/${versions[versions.length - 1]}/bin`;
}

/** `cmd args` as the postgres user when this is root (PostgreSQL refuses to run as root). */
function asPostgres(cmd: string, args: string[]) {
  if (process.getuid?.() === 0) execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'ignore' });
  else execFileSync(cmd, args, { stdio: 'ignore' });
}

export class Cluster {
  private procs = new Map<string, ChildProcess>();
  private pgStop?: () => void;
  /** Processes that ended by themselves, with their exit codes. */
  private exited = new Map<string, number | null>();
  private constructor(
    private dir: string,
    readonly lb: string,
    readonly nodes: Record<NodeName, string>,
    private redisPorts: number[],
    private pgPort: number,
  ) {}

  static async start(): Promise<Cluster> {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-cluster-'));
    const ports: number[] = [];
    for (let i = 0; i < 11; i++) ports.push(await freePort());
    const [lbPort, portA, portB, portC, pgPort, ...redisPorts] = ports;
    const nodes = { a: `127.0.0.1:${portA}`, b: `127.0.0.1:${portB}`, c: `127.0.0.1:${portC}` };
    const c = new Cluster(dir, `127.0.0.1:${lbPort}`, nodes, redisPorts, pgPort);
    try {
      c.startPostgres();
      for (const port of redisPorts) c.startRedis(port);
      for (const port of redisPorts) await waitFor(`redis-server on ${port}`, () => redisAnswers(port), c.exited);
      const addresses = redisPorts.map((p) => `127.0.0.1:${p}`);
      execFileSync('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'], {
        stdio: 'ignore',
      });
      await waitFor('the Redis Cluster', async () => clusterAgrees(redisPorts[0]), c.exited);
      // Every replica in step with its primary: until then nothing can be acknowledged.
      const inStep = (p: number) => /^(role:master|master_link_status:up)/m.test(cli(p, 'INFO', 'replication'));
      await waitFor('the replicas', async () => redisPorts.every(inStep), c.exited);
      for (const name of ['a', 'b', 'c'] as const) c.startNode(name);
      const haproxy = existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy';
      c.run('haproxy', haproxy, ['-db', '-f', path.join(ROOT, 'deploy/haproxy.cfg')], {
        SB_LB_ADDR: c.lb,
        SB_NODE_A: c.nodes.a,
        SB_NODE_B: c.nodes.b,
        SB_NODE_C: c.nodes.c,
      });
      for (const name of ['a', 'b', 'c'] as const) await waitFor(`node ${name}`, healthy(c.nodes[name]), c.exited);
      await waitFor('HAProxy', healthy(c.lb), c.exited);
      return c;
    } catch (e) {
      c.stop();
      throw e;
    }
  }

  private run(name: string, cmd: string, args: string[], env: Record<string, string> = {}) {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', (e) => console.error(`[cluster] ${name} (${cmd}) could not start: ${e.message}`));
    child.on('exit', (code) => {
      if (this.procs.get(name) === child) this.exited.set(name, code);
    });
    this.procs.set(name, child);
  }

  /** A cluster's redis-server on `port`, configured as production is; its files in its own folder. */
  private startRedis(port: number) {
    const dir = path.join(this.dir, `redis-${port}`);
    mkdirSync(dir, { recursive: true });
    this.run(`redis-${port}`, 'redis-server', [
      '--bind', '127.0.0.1', '--port', String(port), '--dir', dir,
      '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory-policy', 'noeviction',
      '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000',
    ]);
  }

  /** A scratch PostgreSQL for the rooms' history, in its own folder. */
  private startPostgres() {
    const bin = postgresBin();
    const data = path.join(this.dir, 'pg');
    mkdirSync(data);
    if (process.getuid?.() === 0) {
      execFileSync('chown', ['-R', 'postgres', data]);
      execFileSync('chmod', ['755', this.dir]);
    }
    asPostgres(`${bin}/initdb`, ['-D', data, '-U', 'postgres', '--auth=trust']);
    const options = `-p ${this.pgPort} -k ${data} -c listen_addresses=127.0.0.1`;
    asPostgres(`${bin}/pg_ctl`, ['-D', data, '-l', path.join(data, 'server.log'), '-w', '-o', options, 'start']);
    this.pgStop = () => asPostgres(`${bin}/pg_ctl`, ['-D', data, '-m', 'immediate', 'stop']);
  }

  /** How many segments of `room`'s history PostgreSQL holds. */
  archivedSegments(room: string): number {
    const sql = `SELECT count(*) FROM sb_segments WHERE room = '${room.replace(/'/g, "''")}'`;
    const url = `postgresql://postgres@127.0.0.1:${this.pgPort}/postgres`;
    return Number(execFileSync('psql', ['-X', '-A', '-t', '-d', url, '-c', sql], { encoding: 'utf8' }).trim());
  }

  /** The port of the primary that holds `room`'s slot now (none while it fails over). */
  primaryOf(room: string): number | undefined {
    const alive = this.redisPorts.filter((p) => this.procs.has(`redis-${p}`));
    const slot = Number(cli(alive[0], 'CLUSTER', 'KEYSLOT', `sb:{${room}}:meta`));
    const holds = (port: number) => {
      const mine = cli(port, 'CLUSTER', 'NODES').split('\n').find((l) => l.includes('myself,master')) ?? '';
      return mine.split(' ').slice(8).some((range) => {
        const [from, to] = range.split('-').map(Number);
        return slot >= from && slot <= (to ?? from);
      });
    };
    return alive.find(holds);
  }

  /** SIGKILLs the redis-server on `port`; `restartRedis` brings it back on the same files. */
  killRedis(port: number) {
    this.kill(`redis-${port}`);
  }

  restartRedis(port: number) {
    this.startRedis(port);
  }

  startNode(name: NodeName) {
    this.run(name, path.join(ROOT, 'target/debug/sketchboard'), [
      '--addr', this.nodes[name],
      '--database-url', `sqlite://${this.dir}/node-${name}.db`,
      '--redis-url', this.redisPorts.map((p) => `redis://127.0.0.1:${p}`).join(','),
      '--redis-replicas', '1',
      '--trusted-proxies', '127.0.0.1',
      '--history-url', `postgresql://postgres@127.0.0.1:${this.pgPort}/postgres`,
      '--hot-tail', '2',
    ], {
      LEPTOS_OUTPUT_NAME: 'sketchboard',
      LEPTOS_SITE_ROOT: 'target/site',
      LEPTOS_SITE_PKG_DIR: 'pkg',
      LEPTOS_HASH_FILES: 'true',
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
    });
  }

  /** SIGKILL: the process gets no chance to say goodbye. */
  kill(name: string) {
    const child = this.procs.get(name);
    this.procs.delete(name);
    child?.kill('SIGKILL');
  }

  /** Opens `room` through HAProxy in a fresh browser pinned to node `name`; checks that node answered. */
  async openOn(browser: Browser, name: NodeName, room: string): Promise<Page> {
    const page = await newParticipant(browser, { baseURL: `http://${this.lb}` });
    await page.context().addCookies([{ name: 'sb_node', value: name, url: `http://${this.lb}` }]);
    const response = await page.goto(`/r/${room}`);
    expect(response?.headers()['x-sketchboard-node']).toBe(name);
    await expect(page.getByRole('status')).toHaveText('Connected');
    return page;
  }

  stop() {
    const children = [...this.procs.values()];
    this.procs.clear();
    for (const child of children) child.kill('SIGKILL');
    try {
      this.pgStop?.();
    } catch (e) {
      console.error(`[cluster] PostgreSQL did not stop: ${e}`);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
