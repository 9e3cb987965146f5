// The string values an expression can have, worked out without running it: literals, templates,
// `+` and `.concat()` chains, `[...].join()`, `String.fromCharCode`, `atob`, `decodeURIComponent`,
// both arms of `?:` / `||` / `??`, and variables bound once. What cannot be worked out becomes the
// UNKNOWN_HOST placeholder, so `"https://" + x` is known to be a URL whose host is not known, and the
// page's own location becomes OWN_HOST, so `` `wss://${location.host}/ws` `` is known to be ours.
import type { Node } from 'acorn';
import { OWN_HOST, OWN_ORIGIN, UNKNOWN_HOST } from './urls.js';

type AnyNode = Node & Record<string, any>;

// Combinations grow multiplicatively through `?:`; past this many the value is "unknown".
const MAX_VALUES = 16;
const MAX_DEPTH = 12;

const LOCATION_PARTS: Record<string, string> = {
  href: OWN_ORIGIN,
  origin: `https://${OWN_HOST}`,
  host: OWN_HOST,
  hostname: OWN_HOST,
  protocol: 'https:',
  port: '',
};
const GLOBALS = new Set(['window', 'self', 'globalThis', 'document', 'top', 'parent']);

/** Variable bindings of one program: name -> every expression assigned to it. */
export type Bindings = Map<string, AnyNode[]>;

/** Evaluates expressions of one parsed program. */
export class StaticEvaluator {
  #bindings: Bindings;
  #memo = new Map<Node, string[] | undefined>();

  /** `bindings` from collectBindings over the same program. */
  constructor(bindings: Bindings) {
    this.#bindings = bindings;
  }

  /** Possible string values of `node`, or undefined when it is not a string-valued expression we can read. */
  values(node: Node, depth = 0): string[] | undefined {
    if (depth > MAX_DEPTH) return undefined;
    if (this.#memo.has(node)) return this.#memo.get(node);
    this.#memo.set(node, undefined); // cycles (`a = a + "x"`) end as unknown
    const result = this.#evaluate(node as AnyNode, depth + 1);
    this.#memo.set(node, result && result.length <= MAX_VALUES ? result : undefined);
    return this.#memo.get(node);
  }

  /** Like values(), but an unreadable expression is the UNKNOWN placeholder. */
  valuesOrUnknown(node: Node, depth = 0): string[] {
    return this.values(node, depth) ?? [UNKNOWN_HOST];
  }

  #evaluate(n: AnyNode, depth: number): string[] | undefined {
    switch (n.type) {
      case 'Literal':
        if (typeof n.value === 'string') return [n.value];
        if (typeof n.value === 'number' || typeof n.value === 'boolean') return [String(n.value)];
        return undefined;
      case 'TemplateLiteral': {
        let acc: string[] = [n.quasis[0].value.cooked ?? n.quasis[0].value.raw];
        n.expressions.forEach((e: AnyNode, i: number) => {
          const q = n.quasis[i + 1].value;
          acc = product(product(acc, this.valuesOrUnknown(e, depth)), [q.cooked ?? q.raw]);
        });
        return acc;
      }
      case 'BinaryExpression': {
        if (n.operator !== '+') return undefined;
        const left = this.values(n.left, depth);
        const right = this.values(n.right, depth);
        if (left === undefined && right === undefined) return undefined;
        return product(left ?? [UNKNOWN_HOST], right ?? [UNKNOWN_HOST]);
      }
      case 'ParenthesizedExpression':
      case 'ChainExpression':
        return this.values(n.expression, depth);
      case 'SequenceExpression':
        return this.values(n.expressions[n.expressions.length - 1], depth);
      case 'ConditionalExpression':
        return union(this.values(n.consequent, depth), this.values(n.alternate, depth));
      case 'LogicalExpression':
        return union(this.values(n.left, depth), this.values(n.right, depth));
      case 'AssignmentExpression':
        return n.operator === '=' ? this.values(n.right, depth) : undefined;
      case 'MemberExpression':
        return this.#member(n);
      case 'Identifier':
        return this.#identifier(n.name, depth);
      case 'CallExpression':
        return this.#call(n, depth);
      case 'NewExpression':
        // `new URL(path, base)` as a value: its href.
        if (n.callee.type === 'Identifier' && n.callee.name === 'URL' && n.arguments[0]) {
          const paths = this.valuesOrUnknown(n.arguments[0], depth);
          const bases = n.arguments[1] ? this.valuesOrUnknown(n.arguments[1], depth) : [undefined];
          return paths.flatMap((p) => bases.map((b) => resolveHref(p, b)));
        }
        return undefined;
      default:
        return undefined;
    }
  }

  #member(n: AnyNode): string[] | undefined {
    const prop = propertyName(n);
    if (prop === undefined) return undefined;
    // import.meta.url: this module's URL, served from the page's own origin.
    if (n.object.type === 'MetaProperty' && prop === 'url') return [`${OWN_ORIGIN}app.js`];
    if ((prop === 'baseURI' || prop === 'URL') && n.object.type === 'Identifier' && n.object.name === 'document') return [OWN_ORIGIN];
    if (isLocation(n.object) && prop in LOCATION_PARTS) return [LOCATION_PARTS[prop]!];
    return undefined;
  }

  #identifier(name: string, depth: number): string[] | undefined {
    if (name === 'location') return [OWN_ORIGIN];
    const bound = this.#bindings.get(name);
    // Minified code reuses short names in every scope; only a name bound a few times is followed.
    if (!bound || bound.length > 4) return undefined;
    let out: string[] = [];
    for (const init of bound) {
      const v = this.values(init, depth);
      if (v === undefined) return undefined;
      out = [...out, ...v];
    }
    return out;
  }

  #call(n: AnyNode, depth: number): string[] | undefined {
    const callee = n.callee as AnyNode;
    const args = n.arguments as AnyNode[];
    if (callee.type === 'MemberExpression') {
      const method = propertyName(callee);
      if (method === 'concat') {
        const base = this.values(callee.object, depth);
        if (base === undefined) return undefined;
        return args.reduce<string[]>((acc, a) => product(acc, this.valuesOrUnknown(a, depth)), base);
      }
      if (method === 'join' && callee.object.type === 'ArrayExpression') {
        const sep = args[0] ? this.values(args[0], depth)?.[0] ?? ',' : ',';
        const parts = (callee.object.elements as Array<AnyNode | null>).map((e) => (e ? this.valuesOrUnknown(e, depth) : ['']));
        return parts.reduce<string[] | undefined>((acc, p) => (acc === undefined ? p : product(product(acc, [sep]), p)), undefined) ?? [''];
      }
      // URL.createObjectURL(blob): a blob: URL of the page's own origin, naming memory, not a host.
      if (method === 'createObjectURL' && callee.object.type === 'Identifier' && callee.object.name === 'URL') return [`blob:${OWN_ORIGIN}object`];
      if (method === 'fromCharCode' && callee.object.type === 'Identifier' && callee.object.name === 'String') {
        const codes = args.map((a) => (a.type === 'Literal' && typeof a.value === 'number' ? a.value : NaN));
        return codes.every((c) => Number.isInteger(c)) ? [String.fromCharCode(...codes)] : undefined;
      }
      if (method === 'toLowerCase' || method === 'toUpperCase' || method === 'trim' || method === 'toString') {
        const base = this.values(callee.object, depth);
        return base?.map((s) => (method === 'toLowerCase' ? s.toLowerCase() : method === 'toUpperCase' ? s.toUpperCase() : method === 'trim' ? s.trim() : s));
      }
      return undefined;
    }
    if (callee.type === 'Identifier' && args[0]) {
      const decode: Record<string, (s: string) => string> = {
        atob: (s) => Buffer.from(s, 'base64').toString('latin1'),
        decodeURIComponent: (s) => decodeURIComponent(s),
        decodeURI: (s) => decodeURI(s),
        unescape: (s) => unescape(s),
        String: (s) => s,
      };
      const fn = decode[callee.name];
      if (!fn) return undefined;
      const v = this.values(args[0], depth);
      if (!v) return undefined;
      try {
        return v.map(fn);
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
}

/** Name of a member expression's property when it is static (`a.b`, `a["b"]`). */
export function propertyName(n: AnyNode): string | undefined {
  if (!n.computed && n.property.type === 'Identifier') return n.property.name;
  if (n.computed && n.property.type === 'Literal' && typeof n.property.value === 'string') return n.property.value;
  return undefined;
}

/** `location`, `window.location`, `document.location`, `self.location`, `globalThis.location`... */
export function isLocation(n: AnyNode): boolean {
  if (n.type === 'Identifier') return n.name === 'location';
  if (n.type === 'MemberExpression' && propertyName(n) === 'location') return n.object.type === 'Identifier' && GLOBALS.has(n.object.name);
  return false;
}

function product(a: string[], b: string[]): string[] {
  const out: string[] = [];
  for (const x of a) for (const y of b) out.push(x + y);
  return out.slice(0, MAX_VALUES + 1);
}

function union(a: string[] | undefined, b: string[] | undefined): string[] | undefined {
  if (a === undefined && b === undefined) return undefined;
  return [...(a ?? [UNKNOWN_HOST]), ...(b ?? [UNKNOWN_HOST])];
}

function resolveHref(path: string, base: string | undefined): string {
  if (path.startsWith(UNKNOWN_HOST)) return path;
  try {
    return new URL(path, base ?? undefined).href;
  } catch {
    return base && base.startsWith(UNKNOWN_HOST) ? UNKNOWN_HOST : path;
  }
}
