import { existsSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { NetAugError } from '@netaug/core';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { resolveRunConfig } from '../run/load-config';
import type { RunConfig, RunConfigInput } from '../run/run-config';

const overrides = z.record(z.string(), z.unknown());

/**
 * A study file: a base run config, named arms over it, factors crossed with the arms, seeds, and the
 * comparisons to report. Every cell is (arm, one level of each factor, seed) and is one training run.
 */
export const studySchema = z
  .object({
    /** Name of the study (default: the file name without extension). */
    name: z.string().min(1).optional(),
    /** Free text shown at the top of the report. */
    description: z.string().optional(),
    /** Folder of the study's runs and report (default `runs/studies/<name>`; relative to the working folder). */
    out: z.string().min(1).optional(),
    /**
     * Folder of the finished cells' records (relative to the working folder; e.g. `studies/records/<name>`):
     * config, summary and per-epoch metrics of each, small enough to commit, so that a clone without the run
     * folders reports the study and trains only what is not recorded. Default: none.
     */
    records: z.string().min(1).optional(),
    /** The run config every cell starts from: the keys of `netaug train --config`, plus `preset`. */
    base: overrides.default({}),
    /** Seeds, fixed in advance. */
    seeds: z.array(z.number().int()).min(1),
    /**
     * Named arms, each a set of run-config keys over `base` (default: `baseline` and `netaug` strategies).
     * `after: [arm]` runs the arm's cells after those arms' cells of the same seed and levels; a string value
     * `${arm}` in its config is replaced by that cell's run folder.
     */
    arms: z
      .record(
        z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/i, 'arm names are letters, digits, . _ -'),
        z
          .object({
            config: overrides.default({}),
            /** Arms whose cells (same seed and levels) must finish first. */
            after: z.array(z.string()).default([]),
            /** Restrict the arm to some levels: `{ factor: [level, …] }`. */
            only: z.record(z.string(), z.array(z.union([z.string(), z.number(), z.boolean()]))).optional(),
          })
          .strict(),
      )
      .default({
        baseline: { config: { strategy: 'baseline' }, after: [] },
        netaug: { config: { strategy: 'netaug' }, after: [] },
      }),
    /**
     * Factors crossed with the arms: `key: [v1, v2]` (levels are values of that run-config key) or
     * `name: { level: { key: value, … }, … }` (named levels, each a set of keys).
     */
    factors: z
      .record(
        z.string(),
        z.union([
          z.array(z.union([z.string(), z.number(), z.boolean()])).min(1),
          z.record(z.string(), overrides),
        ]),
      )
      .default({}),
    /** Paired comparisons (by seed, within each combination of factor levels). */
    compare: z
      .array(z.object({ treatment: z.string(), control: z.string() }).strict())
      .default([{ treatment: 'netaug', control: 'baseline' }]),
    /**
     * The figure compared: a dotted path into the run's final figures (`test.top1`, `val.top1`, `test.loss`)
     * or into its summary (`model.macs`, `seconds`). Default `test.top1`.
     */
    metric: z.string().default('test.top1'),
    /** Higher is better (default true; false for losses). */
    higherIsBetter: z.boolean().default(true),
    /**
     * Cost at equal metric (the paper's "fewer MACs for the same mAP"): `factor` is a factor whose levels trade a
     * cost for the metric (e.g. `width`), `cost` a path into the runs' summaries (default `model.macs`, the tiny
     * model's MACs). For each comparison the report reads, for each level of the treatment, the cost the
     * control needs for the treatment's metric off the control's curve over that factor's levels.
     */
    equalMetric: z
      .object({ factor: z.string().min(1), cost: z.string().min(1).default('model.macs') })
      .strict()
      .optional(),
  })
  .strict();

export type StudySpec = z.output<typeof studySchema>;

/** One level of every factor of a cell, in factor order. */
export interface Level {
  factor: string;
  /** The level's name (a value, or the name of a named level). */
  level: string;
}

/** One training run of a study. */
export interface Cell {
  /** `<arm>[-<level>…]-s<seed>`: unique in the study. */
  id: string;
  arm: string;
  levels: Level[];
  /** `<factor>=<level>,…` — the cells compared with each other share it. */
  group: string;
  seed: number;
  /** Ids of the cells that must finish first. */
  after: string[];
  /** The run config without `out` (the runner places the folder by the run's hash). */
  config: RunConfig;
}

/** A parsed study: its spec, where it lives, and its cells in a runnable order. */
export interface Study {
  spec: StudySpec;
  name: string;
  /** The study file (absent for studies built in memory, e.g. by `netaug compare`). */
  file?: string;
  out: string;
  /** The records folder (`records:`), if any. */
  records?: string;
  cells: Cell[];
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_');

/** Reads and validates a study file (YAML or JSON); errors name the file and the key. */
export function readStudyFile(file: string): Study {
  if (!existsSync(file)) {
    throw new NetAugError('DATA_NOT_FOUND', `study file '${file}' does not exist`, {
      hint: 'pass the path of a study YAML (see studies/ for examples)',
    });
  }
  const text = readFileSync(file, 'utf8');
  let raw: unknown;
  try {
    raw = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new NetAugError(
      'INVALID_CONFIG',
      `${file}: not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  return buildStudy(raw, { file, name: basename(file, extname(file)) });
}

/** Validates a study spec and expands it into cells (each cell's run config validated). */
export function buildStudy(
  raw: unknown,
  o: { file?: string; name?: string; out?: string; records?: string } = {},
): Study {
  const where = o.file ?? 'study';
  const r = studySchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = issue.path.join('.') || '(top level)';
    const msg =
      issue.code === 'unrecognized_keys'
        ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`
        : issue.message;
    throw new NetAugError('INVALID_CONFIG', `${where}: ${key}: ${msg}`, {
      hint: 'a study has base, seeds, arms, factors, compare and metric (see docs/guides/study.md)',
    });
  }
  const spec = r.data;
  const name = spec.name ?? o.name ?? 'study';
  const bad = (msg: string, hint?: string) =>
    new NetAugError('INVALID_CONFIG', `${where}: ${msg}`, hint ? { hint } : {});
  if (new Set(spec.seeds).size !== spec.seeds.length) throw bad(`seeds repeat a seed: [${spec.seeds}]`);
  const armNames = Object.keys(spec.arms);
  if (armNames.length === 0) throw bad('arms is empty', 'name at least one arm');
  for (const [a, arm] of Object.entries(spec.arms)) {
    for (const dep of arm.after)
      if (!spec.arms[dep]) throw bad(`arms.${a}.after names an unknown arm '${dep}'`);
    for (const f of Object.keys(arm.only ?? {}))
      if (!spec.factors[f]) throw bad(`arms.${a}.only names an unknown factor '${f}'`);
  }
  if (spec.equalMetric) {
    const f = spec.factors[spec.equalMetric.factor];
    if (!f)
      throw bad(
        `equalMetric.factor names an unknown factor '${spec.equalMetric.factor}'`,
        `factors: ${Object.keys(spec.factors).join(', ') || '(none)'}`,
      );
    if ((Array.isArray(f) ? f.length : Object.keys(f).length) < 2)
      throw bad(`equalMetric.factor '${spec.equalMetric.factor}' needs at least 2 levels to draw a curve`);
  }
  for (const c of spec.compare)
    for (const a of [c.treatment, c.control])
      if (!spec.arms[a]) throw bad(`compare names an unknown arm '${a}'`, `arms: ${armNames.join(', ')}`);

  // the factors' levels, each with the keys it sets
  const factors = Object.entries(spec.factors).map(([factor, v]) => ({
    factor,
    levels: Array.isArray(v)
      ? v.map((x) => ({ level: String(x), keys: { [factor]: x } as Record<string, unknown> }))
      : Object.entries(v).map(([level, keys]) => ({ level, keys })),
  }));
  let combos: { levels: Level[]; keys: Record<string, unknown> }[] = [{ levels: [], keys: {} }];
  for (const f of factors) {
    combos = combos.flatMap((c) =>
      f.levels.map((l) => ({
        levels: [...c.levels, { factor: f.factor, level: l.level }],
        keys: { ...c.keys, ...l.keys },
      })),
    );
  }

  const { preset, ...base } = spec.base as { preset?: string } & Record<string, unknown>;
  if (preset !== undefined && typeof preset !== 'string') throw bad('base.preset must be a preset name');
  const cellId = (arm: string, levels: Level[], seed: number) =>
    [arm, ...levels.map((l) => slug(l.level)), `s${seed}`].join('-');
  const cells: Cell[] = [];
  const ids = new Set<string>();
  for (const combo of combos) {
    const group = combo.levels.map((l) => `${l.factor}=${l.level}`).join(',');
    for (const [arm, a] of Object.entries(spec.arms)) {
      const allowed = Object.entries(a.only ?? {}).every(([f, ls]) =>
        ls.map(String).includes(combo.levels.find((l) => l.factor === f)!.level),
      );
      if (!allowed) continue;
      for (const seed of spec.seeds) {
        const id = cellId(arm, combo.levels, seed);
        if (ids.has(id)) throw bad(`two cells are named '${id}'`, 'give levels distinct names');
        ids.add(id);
        const flags = { ...base, ...combo.keys, ...a.config, seed } as Record<string, unknown>;
        if ('out' in flags) throw bad(`cell ${id}: 'out' is set by the study`, 'remove out from the configs');
        let config: RunConfig;
        try {
          config = resolveRunConfig({
            preset,
            flags: { ...(flags as Partial<RunConfigInput>), out: '.' },
          });
        } catch (e) {
          throw bad(`cell ${id}: ${(e as Error).message}`);
        }
        cells.push({
          id,
          arm,
          levels: combo.levels,
          group,
          seed,
          after: a.after.map((dep) => cellId(dep, combo.levels, seed)),
          config,
        });
      }
    }
  }
  for (const c of cells)
    for (const dep of c.after)
      if (!ids.has(dep)) throw bad(`cell ${c.id} runs after '${dep}', which the study does not have`);
  const out = o.out ?? spec.out ?? join('runs', 'studies', slug(name));
  const records = o.records ?? spec.records;
  return { spec, name, file: o.file, out, ...(records ? { records } : {}), cells: order(cells, where) };
}

/** Cells in an order where every cell comes after the cells it waits for (stable otherwise). */
function order(cells: Cell[], where: string): Cell[] {
  const done = new Set<string>();
  const out: Cell[] = [];
  let rest = cells;
  while (rest.length) {
    const ready = rest.filter((c) => c.after.every((d) => done.has(d)));
    if (!ready.length) {
      throw new NetAugError(
        'INVALID_CONFIG',
        `${where}: arms wait for each other in a cycle (${rest[0].id})`,
      );
    }
    for (const c of ready) {
      done.add(c.id);
      out.push(c);
    }
    rest = rest.filter((c) => !done.has(c.id));
  }
  return out;
}
