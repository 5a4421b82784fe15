import { builtinModules } from 'node:module';
import ts from 'typescript';

/** Which fenced block of a README is "the example". */
export interface ExampleSelector {
  /** Take the first runnable block after the first line that starts with this text (a heading); else the first in the file. */
  after?: string;
}

export interface ReadmeExample {
  /** The code exactly as written in the README. */
  code: string;
  lang: string;
  /** 1-based line of the opening fence, for messages. */
  line: number;
}

const RUNNABLE = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs', 'cjs']);

/** Fenced code blocks of a markdown text, with their info string and line. */
export function fencedBlocks(markdown: string): { lang: string; code: string; line: number }[] {
  const lines = markdown.split('\n');
  const out: { lang: string; code: string; line: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```\s*([\w-]*)/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i = i + 1; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    out.push({ lang: open[1].toLowerCase(), code: body.join('\n') + '\n', line: start + 1 });
  }
  return out;
}

/** The README's example: the first ts/js block (after `selector.after`, when given). */
export function findExample(markdown: string, selector: ExampleSelector = {}): ReadmeExample {
  let fromLine = 0;
  if (selector.after) {
    const idx = markdown.split('\n').findIndex((l) => l.startsWith(selector.after!));
    if (idx < 0) throw new Error(`README has no line starting with '${selector.after}'`);
    fromLine = idx + 1;
  }
  const block = fencedBlocks(markdown).find((b) => b.line > fromLine && RUNNABLE.has(b.lang));
  if (!block)
    throw new Error(`README has no ts/js block${selector.after ? ` after '${selector.after}'` : ''}`);
  return block;
}

/**
 * The example as a file plain Node runs: TypeScript syntax is stripped (`ts.transpileModule`, which only
 * erases types; the imports stay exactly as written); `require(` makes it CommonJS, otherwise it is an ES module.
 */
export function toRunnable(example: ReadmeExample): { source: string; ext: '.mjs' | '.cjs' } {
  const isTs = example.lang === 'ts' || example.lang === 'typescript';
  const source = isTs
    ? ts.transpileModule(example.code, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText
    : example.code;
  const esm = /^\s*import\s/m.test(example.code) || /^\s*export\s/m.test(example.code);
  const cjs = /\brequire\(/.test(example.code);
  return { source, ext: cjs && !esm ? '.cjs' : '.mjs' };
}

/** Package names a piece of code imports or requires (bare specifiers only, `node:` and builtins excluded). */
export function importedPackages(code: string): string[] {
  const specs = new Set<string>();
  const patterns = [
    /\bimport\s+(?:type\s+)?[^'"]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bexport\s+[^'"]*?\bfrom\s*['"]([^'"]+)['"]/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) specs.add(m[1]);
  const names = new Set<string>();
  for (const s of specs) {
    if (s.startsWith('.') || s.startsWith('/') || s.startsWith('node:')) continue;
    const name = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0];
    if (builtinModules.includes(name)) continue;
    names.add(name);
  }
  return [...names].sort();
}
