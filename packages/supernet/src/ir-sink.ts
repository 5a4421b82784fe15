import type { IRNode } from '@netaug/core';

/** Appends ModelIR nodes during `extract()`. */
export interface IRSink {
  /** Appends `node` and returns its name (the name of its output). */
  push(node: IRNode): string;
}

/** An {@link IRSink} that collects the nodes in order. */
export class NodeList implements IRSink {
  readonly nodes: IRNode[] = [];
  push(node: IRNode): string {
    this.nodes.push(node);
    return node.name;
  }
}
