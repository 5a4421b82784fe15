import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../src/program';
import { lrWarning } from '../src/run/train-run';
import { capture } from './capture';

describe('netaug CLI (in process)', () => {
  it('lists the zoo', async () => {
    const c = capture();
    expect(await runCli(['models', '--json'], c.io)).toBe(0);
    const names = JSON.parse(c.out).map((m: { name: string }) => m.name);
    expect(names).toEqual(
      expect.arrayContaining(['mobilenetv2', 'mobilenetv2-tiny', 'proxylessnas', 'mcunet', 'mobilenetv3']),
    );
  });

  it('profiles the small-input tiny model exactly', async () => {
    const c = capture();
    const code = await runCli(
      [
        'profile',
        'mobilenetv2-tiny',
        '--resolution',
        '28',
        '--channels',
        '1',
        '--small-input',
        '--classes',
        '10',
        '--json',
      ],
      c.io,
    );
    expect(code).toBe(0);
    const p = JSON.parse(c.out);
    expect(p.params).toBe(305482);
    expect(Math.abs(p.macs - 11.34e6)).toBeLessThan(0.01e6);
  });

  it('profiles mobilenetv2 w0.35 small-input at 32×32×3', async () => {
    const c = capture();
    await runCli(
      [
        'profile',
        'mobilenetv2',
        '--width',
        '0.35',
        '--resolution',
        '32',
        '--small-input',
        '--classes',
        '10',
        '--json',
      ],
      c.io,
    );
    const p = JSON.parse(c.out);
    expect(p.params).toBe(408938);
    expect(Math.abs(p.macs - 15.61e6)).toBeLessThan(0.01e6);
  });

  it('gives one clear line and exit 1 for an unknown model, listing the known ones', async () => {
    const c = capture();
    expect(await runCli(['profile', 'resnet-9000'], c.io)).toBe(1);
    expect(c.err.trim().split('\n')).toHaveLength(1);
    expect(c.err).toMatch(/resnet-9000/);
    expect(c.err).toMatch(/mobilenetv2-tiny/);
  });

  it('rejects a bad flag value and an unknown flag with exit 1', async () => {
    const c = capture();
    expect(await runCli(['profile', 'mcunet', '--resolution', 'big'], c.io)).toBe(1);
    expect(c.err).toMatch(/--resolution must be a positive integer, got 'big'/);
    const d = capture();
    expect(await runCli(['profile', 'mcunet', '--frobnicate'], d.io)).toBe(1);
    expect(d.err).toMatch(/unknown option '--frobnicate'/);
  });

  it('rejects width lists that do not start at 1.0', async () => {
    const c = capture();
    expect(await runCli(['profile', 'mcunet', '--width-mults', '1.8,2.6'], c.io)).toBe(1);
    expect(c.err).toMatch(/does not start with 1.0/);
  });
});

describe('netaug CLI (built bin)', () => {
  const bin = join(__dirname, '..', 'dist', 'bin.js');
  it('exits 1 with one line and no stack trace on a user error', () => {
    expect(existsSync(bin)).toBe(true); // `npm test` builds every package first
    const r = spawnSync(process.execPath, [bin, 'profile', 'nope'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('--version prints the package version', () => {
    const r = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(
      JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version,
    );
  });

  it('a reader that is gone (| head -1, | true) ends the command quietly, exit 0, no stack trace', () => {
    // `true` exits without reading: the command's first write meets a closed pipe (EPIPE)
    const r = spawnSync(
      'bash',
      ['-c', `set -o pipefail; "${process.execPath}" "${bin}" models --json | true`],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('warnings', () => {
  it('a learning rate far above linear scaling for the batch is named, with the scaled value', () => {
    expect(lrWarning(0.1, 128, 'sgd')).toBeUndefined();
    expect(lrWarning(0.2, 256, 'sgd')).toBeUndefined();
    // 0.1 at batch 24 = 0.53 per 128 images; 0.1 × 24 / 128 = 0.01875 → 0.019
    expect(lrWarning(0.1, 24, 'sgd')).toMatch(/lr 0\.1 with batch 24 is 0\.53 per 128 images.*--lr 0\.019/);
    expect(lrWarning(0.1, 24, 'adam')).toBeUndefined();
  });
});

describe('netaug data inspect', () => {
  it('reports the embedded Fashion-MNIST subset when pointed at it', async () => {
    const { EMBEDDED_FASHION_MNIST_DIR } = await import('@netaug/data');
    const c = capture();
    expect(await runCli(['data', 'inspect', EMBEDDED_FASHION_MNIST_DIR, '--json'], c.io)).toBe(0);
    const info = JSON.parse(c.out);
    expect(info.splits.train.count).toBe(10000);
    expect(info.splits.test.count).toBe(2000);
    expect(info.numClasses).toBe(10);
    expect(info.shape).toEqual([28, 28, 1]);
  });

  it('finds fashion-mnist by name: the Debian files when present, the embedded subset otherwise', async () => {
    const { existsSync: exists } = await import('node:fs');
    const c = capture();
    expect(await runCli(['data', 'inspect', 'fashion-mnist', '--json'], c.io)).toBe(0);
    const info = JSON.parse(c.out);
    const system =
      exists('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz') && !process.env.NETAUG_DATA;
    expect(info.splits.train.count).toBe(system ? 60000 : 10000);
    expect(info.splits.test.count).toBe(system ? 10000 : 2000);
    expect(info.source).toMatch(system ? /system/ : /embedded/);
  });

  it('fails with one line for a path that does not exist', async () => {
    const c = capture();
    expect(await runCli(['data', 'inspect', '/nonexistent/photos'], c.io)).toBe(1);
    expect(c.err.trim().split('\n')).toHaveLength(1);
    expect(c.err).toMatch(/nonexistent/);
  });
});
