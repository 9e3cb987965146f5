// JavaScript read with acorn, not with patterns over lines: every string, template and comment,
// wherever it sits in the layout (minified one-liners, strings split across lines and joined with
// `+`), and every network call (fetch, XMLHttpRequest, WebSocket, EventSource, sendBeacon, import(),
// new URL(x, base), Worker, location changes, src/href assignments) with its destination resolved.
import { parse, type Comment, type Node, type Options } from 'acorn';
import { fullAncestor } from 'acorn-walk';
import { propertyName, StaticEvaluator, isLocation, type Bindings } from './staticValue.js';
import type { ScanSink } from './types.js';
import { countNewlines, scanDestination, scanValue } from './valueScan.js';
import { OWN_ORIGIN, UNKNOWN_HOST } from './urls.js';

type AnyNode = Node & Record<string, any>;

const OPTIONS: Options = { ecmaVersion: 'latest', locations: true, allowHashBang: true, allowAwaitOutsideFunction: true, allowReturnOutsideFunction: true, allowImportExportEverywhere: true };

// Constructors and functions whose first argument is a URL the browser fetches or connects to.
const URL_CONSTRUCTORS = new Set(['WebSocket', 'EventSource', 'Worker', 'SharedWorker', 'Request', 'URL', 'Audio']);
const URL_FUNCTIONS = new Set(['fetch', 'importScripts', 'open']);
const URL_METHODS = new Set(['sendBeacon', 'assign', 'replace', 'register', 'fetch', 'importScripts', 'preload']);
const URL_PROPERTIES = new Set(['src', 'href', 'action', 'formAction', 'data', 'poster', 'srcset', 'location', 'background', 'cite', 'ping']);
const URL_ATTRIBUTES = new Set(['src', 'href', 'action', 'formaction', 'data', 'poster', 'srcset', 'imagesrcset', 'background', 'cite', 'ping', 'xlink:href', 'manifest', 'icon']);
const HTTP_METHODS = /^(get|post|put|delete|patch|head|options|connect|trace)$/i;
// Placeholder for a parameter or a property-written variable: never followed to a value.
const OPAQUE: AnyNode = { type: 'Opaque', start: 0, end: 0 } as unknown as AnyNode;

/** Read one JavaScript text. `lineOffset` places an inline <script> inside its page. */
export function scanJavaScript(text: string, sink: ScanSink, lineOffset = 0): void {
  const comments: Comment[] = [];
  let ast: Node;
  try {
    ast = parse(text, { ...OPTIONS, sourceType: 'module', onComment: comments });
  } catch {
    comments.length = 0;
    try {
      ast = parse(text, { ...OPTIONS, sourceType: 'script', onComment: comments });
    } catch (err) {
      sink.unreadable(`not parseable as JavaScript: ${(err as Error).message}; read as plain text`);
      scanValue(sink, text, { line: 1 + lineOffset, context: 'code', how: 'unparsed text' });
      return;
    }
  }
  for (const c of comments) {
    const line = lineOf(text, c.start) + lineOffset;
    // A `//# sourceMappingURL=` comment is fetched by developer tools: a destination, not prose.
    const how = /^[#@]\s*source(Mapping)?URL=/.test(c.value.trimStart()) ? 'sourceMappingURL comment' : 'comment';
    scanValue(sink, c.value, { line, context: 'comment', how, identifiersAllowed: false });
  }
  const evaluator = new StaticEvaluator(collectBindings(ast));
  const at = (n: Node): number => ((n as AnyNode).loc?.start.line ?? 1) + lineOffset;

  let ancestors: Node[] = [];
  const destination = (arg: AnyNode | undefined, how: string, base?: AnyNode): void => {
    if (!arg || arg.type === 'SpreadElement') return;
    const bases = base ? evaluator.valuesOrUnknown(scopedInit(base, ancestors) ?? base) : [OWN_ORIGIN];
    for (const value of evaluator.valuesOrUnknown(scopedInit(arg, ancestors) ?? arg)) {
      for (const b of bases) {
        if (b.startsWith(UNKNOWN_HOST) && !/^[a-z][a-z0-9+.-]*:/i.test(value)) sink.unresolved({ line: at(arg), sink: how, value: `${value} (base ${b})` });
        else scanDestination(sink, value, { line: at(arg), context: 'code', how, base: b });
      }
    }
  };

  fullAncestor(ast, (node, _state, path) => {
    const n = node as AnyNode;
    ancestors = path;
    // Every string-valued expression, folded: a URL split over `+`, a template, a `.join('')`. A part
    // of a fold that could be worked out is read only as part of the whole: "https://class.example"
    // + "-uni.se" is one own URL, not a URL for class.example.
    const fold = foldingParent(path as AnyNode[]);
    if (isStringish(n) && !(fold && evaluator.values(fold) !== undefined)) {
      for (const value of evaluator.values(n) ?? []) scanValue(sink, value, { line: at(n), context: 'code', how: n.type === 'Literal' ? 'string value' : 'string expression' });
    }
    switch (n.type) {
      case 'ImportExpression':
        destination(n.source, 'import()');
        break;
      case 'ImportDeclaration':
      case 'ExportAllDeclaration':
      case 'ExportNamedDeclaration':
        if (n.source) destination(n.source, 'import statement');
        break;
      case 'NewExpression':
      case 'CallExpression':
        call(n);
        break;
      case 'AssignmentExpression': {
        const left = n.left as AnyNode;
        if (left.type === 'Identifier' && left.name === 'location') destination(n.right, 'location assignment');
        if (left.type === 'MemberExpression') {
          const prop = propertyName(left);
          if (prop && URL_PROPERTIES.has(prop)) destination(n.right, `.${prop} assignment`);
        }
        break;
      }
    }
  });

  function call(n: AnyNode): void {
    const callee = n.callee as AnyNode;
    const args = n.arguments as AnyNode[];
    const isNew = n.type === 'NewExpression';
    const name = callee.type === 'Identifier' ? callee.name : callee.type === 'MemberExpression' ? propertyName(callee) : undefined;
    if (!name) return;
    const label = `${isNew ? 'new ' : ''}${name}()`;
    if (isNew && URL_CONSTRUCTORS.has(name)) {
      // new URL(x, base): a relative x resolves against base, which may be foreign.
      destination(args[0], label, name === 'URL' ? args[1] : undefined);
      return;
    }
    if (isNew) return;
    if (name === 'open' && callee.type === 'MemberExpression' && args.length >= 2) {
      // xhr.open(method, url) or window.open(url, target).
      const method = evaluator.values(args[0]!)?.[0];
      destination(method && HTTP_METHODS.test(method) ? args[1] : args[0], method && HTTP_METHODS.test(method) ? 'XMLHttpRequest.open()' : 'window.open()');
      return;
    }
    if (callee.type === 'Identifier' && URL_FUNCTIONS.has(name)) destination(args[0], label);
    else if (callee.type === 'MemberExpression' && URL_METHODS.has(name)) {
      // location.assign/replace, navigator.sendBeacon, serviceWorker.register, window.fetch; not str.replace.
      if ((name === 'assign' || name === 'replace') && !isLocation(callee.object)) return;
      destination(args[0], label);
    } else if (name === 'setAttribute' || name === 'setAttributeNS') {
      const attrArg = name === 'setAttribute' ? args[0] : args[1];
      const valueArg = name === 'setAttribute' ? args[1] : args[2];
      const attr = attrArg ? evaluator.values(attrArg)?.[0]?.toLowerCase() : undefined;
      if (attr && URL_ATTRIBUTES.has(attr)) destination(valueArg, `setAttribute("${attr}")`);
    }
  }
}

/**
 * A sink's argument that is a plain variable, followed to its one declaration in the nearest
 * enclosing scope that declares it (`let e=new URL("/ws",location.href);...new WebSocket(e)`).
 * Undefined when it is a parameter, is reassigned, has its host written, or is not found.
 */
function scopedInit(arg: AnyNode, ancestors: Node[]): AnyNode | undefined {
  if (arg.type !== 'Identifier') return undefined;
  const name = arg.name as string;
  for (let i = ancestors.length - 2; i >= 0; i--) {
    const scope = ancestors[i] as AnyNode;
    if (FUNCTION_TYPES.has(scope.type) && (scope.params as AnyNode[]).some((p) => declares(p, name))) return undefined;
    const body: AnyNode[] | undefined = scope.type === 'Program' || scope.type === 'BlockStatement' || scope.type === 'StaticBlock' ? scope.body : undefined;
    if (!body) continue;
    let init: AnyNode | undefined;
    let declared = false;
    for (const statement of body) {
      if (statement.type !== 'VariableDeclaration') continue;
      for (const d of statement.declarations as AnyNode[]) {
        if (!declares(d.id, name)) continue;
        if (declared || d.id.type !== 'Identifier') return undefined;
        declared = true;
        init = d.init ?? undefined;
      }
    }
    if (!declared) continue;
    return init && !writtenIn(scope, name) ? init : undefined;
  }
  return undefined;
}

const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

function declares(pattern: AnyNode | null, name: string): boolean {
  if (!pattern) return false;
  switch (pattern.type) {
    case 'Identifier':
      return pattern.name === name;
    case 'AssignmentPattern':
      return declares(pattern.left, name);
    case 'RestElement':
      return declares(pattern.argument, name);
    case 'ArrayPattern':
      return (pattern.elements as AnyNode[]).some((e) => declares(e, name));
    case 'ObjectPattern':
      return (pattern.properties as AnyNode[]).some((p) => declares(p.type === 'RestElement' ? p : p.value, name));
    default:
      return false;
  }
}

// Conservative: any write to the name (or to its URL parts) anywhere in the scope, shadowed or not.
function writtenIn(scope: Node, name: string): boolean {
  let written = false;
  fullAncestor(scope, (node) => {
    const n = node as AnyNode;
    if (n.type === 'AssignmentExpression' || n.type === 'UpdateExpression') {
      const target = (n.type === 'AssignmentExpression' ? n.left : n.argument) as AnyNode;
      if (declares(target, name)) written = true;
      if (target.type === 'MemberExpression' && target.object.type === 'Identifier' && target.object.name === name && ['host', 'hostname', 'href', 'origin', 'port', 'username', 'password'].includes(propertyName(target) ?? '')) written = true;
    }
  });
  return written;
}

/** The expression that folds this node's value into its own (`+`, template, concat, join, atob). */
function foldingParent(path: AnyNode[]): AnyNode | undefined {
  const [p1, p2, p3] = [path[path.length - 2], path[path.length - 3], path[path.length - 4]];
  if (!p1) return undefined;
  if ((p1.type === 'BinaryExpression' && p1.operator === '+') || p1.type === 'TemplateLiteral') return p1;
  if (p1.type === 'CallExpression' && isStringish(p1)) return p1;
  if (p1.type === 'MemberExpression' && p2?.type === 'CallExpression' && p2.callee === p1 && isStringish(p2)) return p2;
  if (p1.type === 'ArrayExpression' && p2?.type === 'MemberExpression' && p3?.type === 'CallExpression' && p3.callee === p2 && isStringish(p3)) return p3;
  return undefined;
}

function isStringish(n: AnyNode): boolean {
  if (n.type === 'Literal') return typeof n.value === 'string';
  if (n.type === 'TemplateLiteral') return true;
  if (n.type === 'BinaryExpression') return n.operator === '+';
  if (n.type === 'CallExpression' && n.callee.type === 'MemberExpression') return ['concat', 'join', 'fromCharCode'].includes(propertyName(n.callee) ?? '');
  if (n.type === 'CallExpression' && n.callee.type === 'Identifier') return ['atob', 'decodeURIComponent', 'decodeURI', 'unescape'].includes(n.callee.name);
  return false;
}

/** Every name's assigned expressions; parameters and URL objects written through `.host=` are opaque. */
function collectBindings(ast: Node): Bindings {
  const bindings: Bindings = new Map();
  const bind = (name: string, value: AnyNode): void => {
    const list = bindings.get(name) ?? [];
    list.push(value);
    bindings.set(name, list);
  };
  fullAncestor(ast, (node) => {
    const n = node as AnyNode;
    if (n.type === 'VariableDeclarator' && n.id.type === 'Identifier') bind(n.id.name, n.init ?? { type: 'Literal', value: undefined });
    else if (n.type === 'AssignmentExpression' && n.left.type === 'Identifier') bind(n.left.name, n.operator === '=' ? n.right : OPAQUE);
    else if (n.type === 'AssignmentExpression' && n.left.type === 'MemberExpression' && n.left.object.type === 'Identifier' && ['host', 'hostname', 'href', 'origin', 'port', 'username'].includes(propertyName(n.left) ?? '')) bind(n.left.object.name, OPAQUE);
    else if (n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression') {
      for (const p of n.params as AnyNode[]) if (p.type === 'Identifier') bind(p.name, OPAQUE);
    } else if (n.type === 'CatchClause' && n.param?.type === 'Identifier') bind(n.param.name, OPAQUE);
  });
  return bindings;
}

function lineOf(text: string, offset: number): number {
  return 1 + countNewlines(text, offset);
}
