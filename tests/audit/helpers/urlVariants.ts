// The generated sweep over client-code URL forms: every destination form (scheme x host trick) in
// every layout (JS strings, templates, concatenations, comments, calls; HTML attributes, srcset,
// inline script/style; CSS url()/@import/escapes). Each variant is one small file that replaces the
// same-named file of the real built client.

/** One file of a variant client directory. */
export interface VariantFile {
  name: 'app.js' | 'index.html' | 'styles.css';
  content: string;
}

/** Schemes as a URL is written: `${scheme}${host}${path}`. */
export const SCHEMES = ['https://', 'http://', 'wss://', 'ws://', 'HTTPS://', 'HtTp://', '//', 'https:\\\\', '/\\', 'http:', 'ftp://', 'stun:', 'turns:'] as const;

/** Foreign hosts, and the tricks that dress a foreign host up as something else. */
export const FOREIGN_HOSTS = [
  'evil.example',
  'EVIL.EXAMPLE',
  'cdn.evil.example',
  '203.0.113.9', // IPv4 literal (TEST-NET-3)
  '3405803785', // the same address, as one decimal number
  '0xcb.0.0x71.9', // hex IPv4
  '[2001:db8::7]', // IPv6 literal
  'class.example-uni.se@evil.example', // userinfo: the host is evil.example
  'class.example-uni.se:pw@evil.example',
  'class.example-uni.se.evil.example', // own name as a subdomain of a foreign one
  'abc123.ngrok-free.app', // tunnels
  'quiet-sky-1234.trycloudflare.com',
  'lectern.loca.lt',
  'x.serveo.net',
  '127.0.0.1', // the participant's own machine, not the deployment
  'localhost',
] as const;

/** Own destinations that must stay quiet (with the clean config: class.example-uni.se). */
export const OWN_HOSTS = ['class.example-uni.se', 'CLASS.EXAMPLE-UNI.SE', 'turn.example-uni.se'] as const;

const ICE = (scheme: string): boolean => /^(stuns?|turns?):$/i.test(scheme);

/** The URL for a scheme and host (ICE URLs carry a port, others a path). */
export function urlFor(scheme: string, host: string): string {
  return ICE(scheme) ? `${scheme}${host}:3478` : `${scheme}${host}/lib/x.js?v=1`;
}

const js = (content: string): VariantFile => ({ name: 'app.js', content });
const html = (body: string): VariantFile => ({ name: 'index.html', content: `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Lectern</title>\n<link rel="stylesheet" href="/assets/styles.css">\n<script type="module" src="/assets/app.js"></script>\n</head>\n<body>\n${body}\n</body>\n</html>\n` });
const css = (content: string): VariantFile => ({ name: 'styles.css', content: `body{margin:0}\n${content}\n.bar{display:flex}\n` });
// In CSS a backslash starts an escape: a URL's literal backslash is written `\\`.
const cssUrl = (s: string): string => s.replace(/\\/g, '\\\\');
const half = (s: string): [string, string] => [s.slice(0, Math.ceil(s.length / 2)), s.slice(Math.ceil(s.length / 2))];
const jsEscape = (s: string): string => JSON.stringify(s).slice(1, -1);
const hexEscaped = (s: string): string => [...s].map((c, i) => (i < 5 ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : jsEscape(c))).join('');
const htmlEntities = (s: string): string => s.replace(/:/g, '&#58;').replace(/\//g, '&#x2f;').replace(/\./g, '&period;');
const cssEscaped = (s: string): string => cssUrl(s).replace(/:/g, '\\3a ').replace(/\./g, '\\2e ');
const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');
const SCHEME_SPLIT = (u: string): [string, string] => {
  const i = u.indexOf('//') >= 0 ? u.indexOf('//') + 2 : u.indexOf(':') + 1;
  return [u.slice(0, i), u.slice(i)];
};

/** Every layout a URL can sit in, by name. */
export const LAYOUTS: Record<string, (url: string) => VariantFile> = {
  'js: double-quoted constant': (u) => js(`export const CDN = "${jsEscape(u)}";\n`),
  'js: single-quoted constant': (u) => js(`export const CDN = '${jsEscape(u)}';\n`),
  'js: template literal': (u) => js(`export const CDN = \`${jsEscape(u)}\`;\n`),
  'js: template with a host variable': (u) => {
    const [a, b] = SCHEME_SPLIT(u);
    return js(`const h = ${JSON.stringify(b)};\nexport const CDN = \`${jsEscape(a)}\${h}\`;\n`);
  },
  'js: concatenation at the scheme': (u) => {
    const [a, b] = SCHEME_SPLIT(u);
    return js(`export const CDN = ${JSON.stringify(a)} + ${JSON.stringify(b)};\n`);
  },
  'js: concatenation mid-host, across lines': (u) => {
    const [a, b] = half(u);
    return js(`export const CDN =\n  ${JSON.stringify(a)} +\n  ${JSON.stringify(b)};\n`);
  },
  'js: concat() and join()': (u) => {
    const [a, b] = half(u);
    return js(`export const A = ${JSON.stringify(a)}.concat(${JSON.stringify(b)});\nexport const B = [${JSON.stringify(a)}, ${JSON.stringify(b)}].join("");\n`);
  },
  'js: hex escapes': (u) => js(`export const CDN = "${hexEscaped(u)}";\n`),
  'js: atob()': (u) => js(`export const CDN = atob("${b64(u)}");\n`),
  'js: String.fromCharCode()': (u) => js(`export const CDN = String.fromCharCode(${[...u].map((c) => c.charCodeAt(0)).join(',')});\n`),
  'js: line comment': (u) => js(`// fallback: ${u}\nexport const x = 1;\n`),
  'js: block comment': (u) => js(`/*\n * Mirrors:\n *   ${u}\n */\nexport const x = 1;\n`),
  'js: legal comment': (u) => js(`/*! lib v1 | MIT | ${u} */\nexport const x = 1;\n`),
  'js: sourceMappingURL comment': (u) => js(`export const x = 1;\n//# sourceMappingURL=${u}\n`),
  'js: minified one-liner': (u) => js(`var a=1,b=function(){return a+1};const c={u:${JSON.stringify(u)},n:2};export{b,c};`),
  'js: fetch()': (u) => js(`export async function go(){const r=await fetch(${JSON.stringify(u)},{method:"POST"});return r.ok}\n`),
  'js: fetch() with the URL in a variable': (u) => js(`export async function go(){const target=${JSON.stringify(u)};return fetch(target)}\n`),
  'js: XMLHttpRequest.open()': (u) => js(`export function go(){const x=new XMLHttpRequest();x.open("GET",${JSON.stringify(u)});x.send()}\n`),
  'js: new WebSocket()': (u) => js(`export function go(){return new WebSocket(${JSON.stringify(u)})}\n`),
  'js: new EventSource()': (u) => js(`export function go(){return new EventSource(${JSON.stringify(u)})}\n`),
  'js: navigator.sendBeacon()': (u) => js(`export function go(d){navigator.sendBeacon(${JSON.stringify(u)},d)}\n`),
  'js: dynamic import()': (u) => js(`export function go(){return import(${JSON.stringify(u)})}\n`),
  'js: static import': (u) => js(`import * as lib from ${JSON.stringify(u)};\nexport { lib };\n`),
  'js: new URL(path, base)': (u) => js(`export const u = new URL("/collect", ${JSON.stringify(u)});\n`),
  'js: new Worker()': (u) => js(`export const w = new Worker(${JSON.stringify(u)});\n`),
  'js: img.src assignment': (u) => js(`const i=document.createElement("img");i.src=${JSON.stringify(u)};document.body.append(i);\n`),
  'js: setAttribute("src")': (u) => js(`const s=document.createElement("script");s.setAttribute("src",${JSON.stringify(u)});document.head.append(s);\n`),
  'js: location.assign()': (u) => js(`export function go(){location.assign(${JSON.stringify(u)})}\n`),
  'js: iceServers': (u) => js(`export const pc = new RTCPeerConnection({iceServers:[{urls:[${JSON.stringify(u)}]}]});\n`),
  'js: HTML inside a string': (u) => js(`document.body.innerHTML='<img alt="" src="${jsEscape(u)}">';\n`),
  'js: CSS inside a string': (u) => js(`document.body.style.background="url(${jsEscape(u)})";\n`),
  'js: host from a conditional': (u) => {
    const [a, b] = SCHEME_SPLIT(u);
    return js(`export const CDN = ${JSON.stringify(a)} + (window.x ? ${JSON.stringify(b)} : "");\n`);
  },
  'html: script src': (u) => html(`<script src="${u}"></script>`),
  'html: img src, unquoted, uppercase attribute': (u) => html(`<IMG SRC=${u} alt="">`),
  'html: link href': (u) => html(`<link rel="preload" as="font" href='${u}'>`),
  'html: a href': (u) => html(`<a href="${u}">help</a>`),
  'html: img srcset (second candidate)': (u) => html(`<img alt="" src="/a.png" srcset="/a.png 1x, ${u} 2x">`),
  'html: picture source srcset': (u) => html(`<picture><source srcset="${u} 640w, /b.png 1280w"><img alt="" src="/b.png"></picture>`),
  'html: form action': (u) => html(`<form action="${u}" method="post"><button>go</button></form>`),
  'html: button formaction': (u) => html(`<form><button formaction="${u}">go</button></form>`),
  'html: video poster': (u) => html(`<video poster="${u}"></video>`),
  'html: object data': (u) => html(`<object data="${u}"></object>`),
  'html: iframe src': (u) => html(`<iframe title="x" src="${u}"></iframe>`),
  'html: meta refresh': (u) => html(`<meta http-equiv="refresh" content="5;url=${u}">`),
  'html: base href': (u) => html(`<base href="${u}">`),
  'html: entity-encoded attribute': (u) => html(`<img alt="" src="${htmlEntities(u)}">`),
  'html: attribute split across lines': (u) => html(`<img\n  alt=""\n  src="\n${u}\n">`),
  'html: svg image href': (u) => html(`<svg xmlns="http://www.w3.org/2000/svg"><image href="${u}"/></svg>`),
  'html: svg xlink:href': (u) => html(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><use xlink:href="${u}#i"/></svg>`),
  'html: inline script fetch': (u) => html(`<script>fetch(${JSON.stringify(u)})</script>`),
  'html: inline module import': (u) => html(`<script type="module">import(${JSON.stringify(u)})</script>`),
  'html: importmap': (u) => html(`<script type="importmap">{"imports":{"lib":${JSON.stringify(u)}}}</script>`),
  'html: inline style url()': (u) => html(`<style>.x{background:url(${cssUrl(u)})}</style>`),
  'html: style attribute url()': (u) => html(`<div style="background-image:url('${cssUrl(u)}')"></div>`),
  'html: onclick handler': (u) => html(`<button onclick="fetch('${jsEscape(u)}')">x</button>`),
  'html: comment': (u) => html(`<!-- old CDN: ${u} -->`),
  'html: text': (u) => html(`<p>Mirror: ${u}</p>`),
  'css: url() unquoted': (u) => css(`.logo{background:url(${cssUrl(u)}) no-repeat}`),
  'css: url() quoted': (u) => css(`.logo{background:url("${cssUrl(u)}")}`),
  'css: @import string': (u) => ({ name: 'styles.css', content: `@import "${cssUrl(u)}";\nbody{margin:0}\n` }),
  'css: @import url()': (u) => ({ name: 'styles.css', content: `@import url(${cssUrl(u)}) screen;\nbody{margin:0}\n` }),
  'css: @font-face src': (u) => css(`@font-face{font-family:X;src:url(${cssUrl(u)}) format("woff2")}`),
  'css: image-set()': (u) => css(`.hero{background-image:image-set("/a.png" 1x, "${cssUrl(u)}" 2x)}`),
  'css: escaped': (u) => css(`.logo{background:url(${cssEscaped(u)})}`),
  'css: comment': (u) => css(`/* was: ${cssUrl(u)} */`),
  'css: minified one-liner': (u) => ({ name: 'styles.css', content: `body{margin:0}.a{color:red}.b{background:url(${cssUrl(u)})}.c{display:none}` }),
};

/** One generated variant. */
export interface Variant {
  name: string;
  file: VariantFile;
}

/** The sweep: all layouts x all hosts (https), all schemes x all hosts (5 layouts), all schemes x all layouts (one host). */
export function foreignVariants(): Variant[] {
  const out = new Map<string, Variant>();
  const add = (layout: string, scheme: string, host: string): void => {
    const url = urlFor(scheme, host);
    const name = `${layout} | ${url}`;
    if (!out.has(name)) out.set(name, { name, file: LAYOUTS[layout]!(url) });
  };
  const layouts = Object.keys(LAYOUTS);
  for (const layout of layouts) for (const host of FOREIGN_HOSTS) add(layout, 'https://', host);
  for (const scheme of SCHEMES) for (const host of FOREIGN_HOSTS) for (const layout of ['js: fetch()', 'js: concatenation mid-host, across lines', 'html: img srcset (second candidate)', 'css: url() unquoted', 'js: block comment']) add(layout, scheme, host);
  for (const scheme of SCHEMES) for (const layout of layouts) add(layout, scheme, 'evil.example');
  return [...out.values()];
}

/** The same layouts with the deployment's own destinations: must all stay quiet. */
export function ownVariants(): Variant[] {
  const out: Variant[] = [];
  for (const layout of Object.keys(LAYOUTS)) {
    for (const host of OWN_HOSTS) out.push({ name: `${layout} | ${urlFor('https://', host)}`, file: LAYOUTS[layout]!(urlFor('https://', host)) });
    out.push({ name: `${layout} | relative`, file: LAYOUTS[layout]!('/assets/x.js?v=1') });
  }
  return out;
}
