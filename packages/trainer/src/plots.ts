import * as fs from 'node:fs';
import * as path from 'node:path';
import { NetAugError } from '@netaug/core';
import { writeFilesAtomic } from '@netaug/core/node';
import type { EpochRecord } from './metrics';

type Row = Record<string, string | number>;

/**
 * Renders a Vega-Lite spec to SVG (vega View, no browser) and PNG (sharp); writes `<out>.svg` and `<out>.png`
 * together, atomically.
 */
export async function renderPlot(
  spec: Record<string, unknown>,
  out: string,
): Promise<{ svg: string; png: string }> {
  const vega = await import('vega');
  const vl = await import('vega-lite');
  const sharp = (await import('sharp')).default;
  const compiled = vl.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const base = out.replace(/\.(svg|png)$/, '');
  const png = await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer();
  // both or neither, each complete (writeFilesAtomic of @netaug/core/node)
  await writeFilesAtomic([
    { file: `${base}.svg`, bytes: svg },
    { file: `${base}.png`, bytes: png },
  ]);
  return { svg: `${base}.svg`, png: `${base}.png` };
}

/** Reads `metrics.jsonl` of a run folder. */
export function readMetrics(runDir: string): EpochRecord[] {
  const file = path.join(runDir, 'metrics.jsonl');
  if (!fs.existsSync(file)) throw new NetAugError('DATA_NOT_FOUND', `No metrics.jsonl in ${runDir}`);
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as EpochRecord);
}

function lineSpec(title: string, y: string, rows: Row[], color = 'series'): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 420,
    height: 260,
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'value', type: 'quantitative', title: y, scale: { zero: false } },
      color: { field: color, type: 'nominal', title: null },
    },
  };
}

/** Writes `loss.svg/.png` and `accuracy.svg/.png` of a run folder from its metrics history. */
export async function plotRun(
  runDir: string,
  history: EpochRecord[] = readMetrics(runDir),
): Promise<string[]> {
  const loss: Row[] = [];
  const acc: Row[] = [];
  for (const r of history) {
    const e = r.epoch + 1;
    loss.push({ epoch: e, series: 'train', value: r.train.loss });
    acc.push({ epoch: e, series: 'train top-1', value: r.train.top1 });
    if (r.val) {
      loss.push({ epoch: e, series: 'val', value: r.val.loss });
      acc.push(
        { epoch: e, series: 'val top-1', value: r.val.top1 },
        { epoch: e, series: 'val top-5', value: r.val.top5 },
      );
    }
  }
  const a = await renderPlot(lineSpec('Loss (tiny model)', 'loss', loss), path.join(runDir, 'loss'));
  const b = await renderPlot(
    lineSpec('Accuracy (tiny model)', 'accuracy', acc),
    path.join(runDir, 'accuracy'),
  );
  return [a.svg, a.png, b.svg, b.png];
}

/**
 * Compares runs (e.g. baseline vs NetAug): validation top-1 of the tiny model per epoch, one line per run.
 * `runs` is a list of run folders (labelled by folder name) or `{label: folder}`. Writes `<out>.svg` and `<out>.png`.
 */
export async function plotComparison(
  runs: string[] | Record<string, string>,
  out: string,
  metric: 'val.top1' | 'val.loss' | 'train.loss' = 'val.top1',
): Promise<{ svg: string; png: string }> {
  const entries = Array.isArray(runs)
    ? runs.map((d) => [path.basename(d), d] as const)
    : Object.entries(runs);
  const rows: Row[] = [];
  for (const [label, dir] of entries) {
    for (const r of readMetrics(dir)) {
      const v = metric === 'train.loss' ? r.train.loss : metric === 'val.loss' ? r.val?.loss : r.val?.top1;
      if (v !== undefined) rows.push({ epoch: r.epoch + 1, run: label, value: v });
    }
  }
  return renderPlot(lineSpec(`Tiny model ${metric}`, metric, rows, 'run'), out);
}
