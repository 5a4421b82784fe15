import type { Output } from '../src/output';

/** An Output that records what a command prints, for in-process CLI tests. */
export function capture(): { io: Output; readonly out: string; readonly err: string } {
  let out = '';
  let err = '';
  return {
    io: { out: (s: string) => void (out += s), err: (s: string) => void (err += s) },
    get out() {
      return out;
    },
    get err() {
      return err;
    },
  };
}
