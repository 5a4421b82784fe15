import type * as tf from '@tensorflow/tfjs-core';
import { NetAugError, type Supernet } from '@netaug/core';

/** A unit of layers that fine-tuning can freeze: the stem, one block, one head layer, the classifier. */
export interface LayerUnit {
  /** Position in forward order (`freezeUntil: index` freezes every unit before this one). */
  index: number;
  /** `stem`, `blocks.3`, `head.0`, `classifier`… — the prefix of its variables' names. */
  name: string;
  /** Names of its variables (trainable or not). */
  variables: string[];
}

/**
 * The supernet's layer units in forward order, from its variables' stable names: a name's first segment (`.` or `/`
 * separated), with the index when the second segment is one (`blocks.3.expand.conv.weight` → `blocks.3`, `stem.conv.weight` → `stem`).
 */
export function layerUnits(supernet: Supernet<tf.Tensor, tf.Variable>): LayerUnit[] {
  const units: LayerUnit[] = [];
  const byName = new Map<string, LayerUnit>();
  for (const v of supernet.variables()) {
    const parts = v.name.split(/[./]/);
    const key =
      parts.length > 2 && /^\d+$/.test(parts[1])
        ? v.name.slice(0, parts[0].length + 1 + parts[1].length)
        : parts[0];
    let u = byName.get(key);
    if (!u) {
      u = { index: units.length, name: key, variables: [] };
      units.push(u);
      byName.set(key, u);
    }
    u.variables.push(v.name);
  }
  return units;
}

/** `stem (0), blocks.0 (1), …`: the units as the help and errors list them. */
export function describeUnits(units: LayerUnit[]): string {
  return units.map((u) => `${u.index} ${u.name}`).join(', ');
}

/**
 * The names of the variables `freezeUntil` freezes: those of units `0…freezeUntil − 1` (0 = nothing frozen). The
 * last unit (the classifier) is always trained: `freezeUntil` is at most its index.
 *
 * @throws NetAugError `INVALID_CONFIG` listing the units when `freezeUntil` is out of range.
 */
export function frozenVariables(
  supernet: Supernet<tf.Tensor, tf.Variable>,
  freezeUntil: number,
): Set<string> {
  const units = layerUnits(supernet);
  const max = units.length - 1;
  if (!Number.isInteger(freezeUntil) || freezeUntil < 0 || freezeUntil > max) {
    throw new NetAugError(
      'INVALID_CONFIG',
      `freezeUntil ${freezeUntil} is not a layer unit index of ${supernet.name} (0 = nothing frozen … ${max} = all but ${units[max].name})`,
      { hint: `units: ${describeUnits(units)}` },
    );
  }
  return new Set(units.slice(0, freezeUntil).flatMap((u) => u.variables));
}
