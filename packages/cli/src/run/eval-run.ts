import { setupBackend } from './backend';
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

/** Evaluates a run's model.nair on its test data (or other data) with the training-time preprocessing. */
export async function evaluateRun(o: {
  run: string;
  data?: string;
  dataDir?: string;
  testSubset?: number;
  backend?: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
}): Promise<EvalResult> {
  const run = readRunFolder(o.run);
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
