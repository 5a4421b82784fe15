import { NetAugError } from '@netaug/core';

/** An XML element: its name, attributes, child elements and its own text (entities decoded, not trimmed). */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
  /** 1-based line of the start tag. */
  line: number;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const NAME = /[A-Za-z_:][-\w.:]*/y;

/**
 * A small XML parser for annotation files such as Pascal VOC's: elements, attributes, text, the five predefined
 * entities and character references, CDATA, comments, processing instructions and a DOCTYPE without an internal
 * subset. Namespaces are not interpreted (a prefixed name is just a name). Errors are `DATA_FORMAT` naming `file`
 * and the line.
 */
export function parseXml(text: string, file: string): XmlElement {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let seenPos = 0;
  let seenLine = 1;
  const lineAt = (pos: number) => {
    if (pos < seenPos) {
      seenPos = 0;
      seenLine = 1;
    }
    for (; seenPos < pos && seenPos < text.length; seenPos++) if (text.charCodeAt(seenPos) === 10) seenLine++;
    return seenLine;
  };
  const fail = (msg: string, pos = i): never => {
    throw new NetAugError('DATA_FORMAT', `${file}: line ${lineAt(pos)}: malformed XML: ${msg}`, {
      hint: 'expected a well-formed XML annotation file (Pascal VOC format); fix or remove the file',
      details: { file, line: lineAt(pos) },
    });
  };
  const decode = (s: string, pos: number) =>
    s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);|&/g, (m, e: string | undefined) => {
      if (!e) return fail('bare "&" (write &amp;)', pos);
      if (e[0] === '#') {
        const code = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        if (!(code >= 0 && code <= 0x10ffff)) fail(`bad character reference ${m}`, pos);
        return String.fromCodePoint(code);
      }
      const v = ENTITIES[e];
      if (v === undefined) fail(`unknown entity ${m}`, pos);
      return v;
    });
  const skipTo = (end: string, what: string) => {
    const k = text.indexOf(end, i);
    if (k < 0) fail(`unterminated ${what}`);
    i = k + end.length;
  };
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = text.slice(i, lt < 0 ? text.length : lt);
    if (chunk) {
      const top = stack[stack.length - 1];
      if (top) top.text += decode(chunk, i);
      else if (chunk.trim()) fail(`text outside the root element: "${chunk.trim().slice(0, 20)}"`);
    }
    if (lt < 0) {
      i = text.length;
      break;
    }
    i = lt;
    if (text.startsWith('<?', i)) skipTo('?>', 'processing instruction');
    else if (text.startsWith('<!--', i)) skipTo('-->', 'comment');
    else if (text.startsWith('<![CDATA[', i)) {
      const start = i + 9;
      skipTo(']]>', 'CDATA section');
      const top = stack[stack.length - 1];
      if (!top) fail('CDATA outside the root element', start);
      top.text += text.slice(start, i - 3);
    } else if (text.startsWith('<!DOCTYPE', i)) {
      if (stack.length || root) fail('DOCTYPE after the root element');
      const close = text.indexOf('>', i);
      const bracket = text.indexOf('[', i);
      if (bracket >= 0 && (close < 0 || bracket < close)) fail('DOCTYPE internal subsets are not supported');
      skipTo('>', 'DOCTYPE');
    } else if (text.startsWith('</', i)) {
      const start = i;
      NAME.lastIndex = i + 2;
      const m = NAME.exec(text);
      if (!m) fail('bad closing tag');
      i = NAME.lastIndex;
      while (/\s/.test(text[i] ?? '')) i++;
      if (text[i] !== '>') fail(`bad closing tag </${m![0]}`);
      i++;
      const top = stack.pop();
      if (!top) fail(`closing tag </${m![0]}> without an open element`, start);
      if (top!.name !== m![0])
        fail(`closing tag </${m![0]}> does not match <${top!.name}> of line ${top!.line}`, start);
      if (!stack.length) root = top!;
    } else {
      const start = i;
      NAME.lastIndex = i + 1;
      const m = NAME.exec(text);
      if (!m) fail(`"<" not followed by a tag name`);
      i = NAME.lastIndex;
      const el: XmlElement = { name: m![0], attributes: {}, children: [], text: '', line: lineAt(start) };
      for (;;) {
        const ws = i;
        while (/\s/.test(text[i] ?? '')) i++;
        if (text.startsWith('/>', i) || text[i] === '>') break;
        if (i === ws) fail(`expected whitespace, ">" or "/>" in <${el.name}>`);
        NAME.lastIndex = i;
        const a = NAME.exec(text);
        if (!a) fail(`bad attribute in <${el.name}>`);
        i = NAME.lastIndex;
        while (/\s/.test(text[i] ?? '')) i++;
        if (text[i] !== '=') fail(`attribute ${a![0]} of <${el.name}> has no value`);
        i++;
        while (/\s/.test(text[i] ?? '')) i++;
        const q = text[i];
        if (q !== '"' && q !== "'") fail(`attribute ${a![0]} of <${el.name}> is not quoted`);
        const end = text.indexOf(q, i + 1);
        if (end < 0) fail(`unterminated attribute ${a![0]} of <${el.name}>`);
        el.attributes[a![0]] = decode(text.slice(i + 1, end), i);
        i = end + 1;
      }
      if (root) fail(`a second root element <${el.name}>`, start);
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      if (text[i] === '/') {
        i += 2;
        if (!parent) root = el;
      } else {
        i++;
        stack.push(el);
      }
    }
  }
  if (stack.length)
    fail(`<${stack[stack.length - 1].name}> of line ${stack[stack.length - 1].line} is never closed`);
  if (!root) fail('no root element', 0);
  return root!;
}

/** The first child element named `name`. */
export function xmlChild(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

/** All child elements named `name`. */
export function xmlChildren(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

/** The trimmed text of the first child named `name`, or `undefined`. */
export function xmlText(el: XmlElement, name: string): string | undefined {
  const c = xmlChild(el, name);
  return c === undefined ? undefined : c.text.trim();
}
