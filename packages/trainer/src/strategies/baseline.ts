import type { Strategy } from './strategy';

/** Trains the tiny model alone (`setActive('min')`, loss `L(tiny)`): the baseline NetAug is compared with. */
export function baseline(): Strategy {
  return { name: 'baseline', describe: () => ({ name: 'baseline' }) };
}

/** Label smoothing ε for every loss of the step (official: 0.1). */
export function labelSmoothing(epsilon = 0.1): Strategy {
  return {
    name: 'labelSmoothing',
    criterion: (o) => ({ ...o, labelSmoothing: epsilon }),
    describe: () => ({ name: 'labelSmoothing', epsilon }),
  };
}
