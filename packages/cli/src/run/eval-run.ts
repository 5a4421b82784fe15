import { setupBackend } from './backend';
import { evaluateDetectRun, isDetectRun, type DetectEvalResult } from './detect-eval';
import { readRunFolder } from './read-run';
import { loadRunEvalData } from './run-eval-data';

export interface EvalResult {
  top1: number;
  top5: number;
  loss: number;
  count: number;
  bnReestimated: boolean;
  data: string;
  run: string;
  backend: string;
}

/**
 * Evaluates a run's model.nair on its test data (or other data) with the training-time preprocessing; a detection
 * run gives its VOC / COCO mAP ({@link DetectEvalResult}).
 */
export async function evaluateRun(o: {
  run: string;
  data?: string;
  dataDir?: string;
  testSubset?: number;
  backend?: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
}): Promise<EvalResult | DetectEvalResult> {
  const run = readRunFolder(o.run);
  if (isDetectRun(run)) return evaluateDetectRun(run, o);
  const backend = await setupBackend(
    o.backend ?? (process.env.NETAUG_BACKEND as 'cpu' | undefined) ?? 'auto',
  );
  const { evaluateModel } = await import('@netaug/trainer');
  const { buildTfModel } = await import('@netaug/supernet');
  const d = await loadRunEvalData(run, o);
  const loader = d.loader(d.test);
  const model = buildTfModel(run.ir);
  try {
    const m = await evaluateModel((x) => model.predict(x), loader);
    return {
      ...m,
      bnReestimated: run.ir.metadata?.bnReestimated !== false,
      data: d.source,
      run: o.run,
      backend: backend.name,
    };
  } finally {
    model.dispose();
    await loader.close();
  }
}
