/**
 * The zoo is unchanged by the block refactor: every model's fingerprint (params / MACs, forward outputs at a fixed
 * seed, `.nair` bytes of extracted sub-networks, variable names / shapes / initial values, gradients, channel
 * sorting) equals the one recorded from the code before it (`__fixtures__/zoo-regression.json`, written with
 * `NETAUG_WRITE_ZOO_FIXTURE=1`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { registerGradients } from './testing/helpers';
import { ZOO_CASES, zooFingerprint, type LogitsSample, type ZooPrint } from './testing/zoo-fingerprint';

const FIXTURE = path.join(__dirname, '__fixtures__', 'zoo-regression.json');
const WRITE = process.env.NETAUG_WRITE_ZOO_FIXTURE === '1';
const recorded: Record<string, ZooPrint> = WRITE ? {} : JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

afterAll(() => {
  if (!WRITE) return;
  fs.mkdirSync(path.dirname(FIXTURE), { recursive: true });
  fs.writeFileSync(FIXTURE, JSON.stringify(recorded, null, 1) + '\n');
});

/** |a − b| ≤ 1e-6 · max(1, |b|). */
function close(a: number, b: number, tol = 1e-6): boolean {
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
}

function expectLogits(got: LogitsSample, want: LogitsSample, what: string): void {
  const bad = [got.sum, ...got.sample].filter((v, i) => !close(v, [want.sum, ...want.sample][i]));
  expect({ what, got, bad: bad.length }).toEqual({ what, got, bad: 0 });
}

test.each(ZOO_CASES.map((c) => [c.id, c] as const))('%s: unchanged', (id, c) => {
  const got = zooFingerprint(c);
  if (WRITE) {
    recorded[id] = got;
    return;
  }
  const want = recorded[id];
  expect(want).toBeDefined();
  expect(got.choices).toEqual(want.choices);
  expect([got.variableCount, got.variableLayout, got.initialWeights]).toEqual([
    want.variableCount,
    want.variableLayout,
    want.initialWeights,
  ]);
  expect(got.paper).toEqual(want.paper);
  for (const k of ['min', 'max', 'random'] as const) {
    expect({ k, config: got[k].config, params: got[k].params, macs: got[k].macs }).toEqual({
      k,
      config: want[k].config,
      params: want[k].params,
      macs: want[k].macs,
    });
    expectLogits(got[k].logits, want[k].logits, k);
    expect({ k, nair: got[k].nair }).toEqual({ k, nair: want[k].nair });
  }
  expect(close(got.trainMaxSum, want.trainMaxSum)).toBe(true);
  expect(close(got.gradL1, want.gradL1, 1e-5)).toBe(true);
  expect([got.sort.permutations, got.sort.hash, got.sort.maxNair]).toEqual([
    want.sort.permutations,
    want.sort.hash,
    want.sort.maxNair,
  ]);
  expectLogits(got.sort.maxLogits, want.sort.maxLogits, 'max after sort');
  expectLogits(got.sort.minLogits, want.sort.minLogits, 'min after sort');
});
