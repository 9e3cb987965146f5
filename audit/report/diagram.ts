// The data-flow map as inline SVG: one column per country (the deployment's own first, in green; any
// other in red), third parties and unknowns in their own columns, participants' browsers on the left.
import type { DataFlowModel, Flow, FlowKind } from '../model/types.js';
import { esc } from './escape.js';

const COUNTRY_NAMES: Record<string, string> = {
  SE: 'Sweden', DK: 'Denmark', FI: 'Finland', NO: 'Norway', DE: 'Germany', FR: 'France', IE: 'Ireland', GB: 'United Kingdom',
  IT: 'Italy', ES: 'Spain', CH: 'Switzerland', PL: 'Poland', GR: 'Greece', TR: 'Türkiye', NL: 'Netherlands', CA: 'Canada',
  US: 'United States', JP: 'Japan', AU: 'Australia', IN: 'India', BR: 'Brazil', SG: 'Singapore', ZA: 'South Africa', IL: 'Israel',
};

const KIND_COLOURS: Record<FlowKind, string> = {
  media: '#7c3aed', signalling: '#2563eb', 'sign-in': '#4f46e5', turn: '#0891b2', recordings: '#db2777', chat: '#16a34a', logs: '#ca8a04', metrics: '#65a30d',
  'audit-log': '#475569', 'pulumi-state': '#9333ea', dns: '#0d9488', 'tls-issuance': '#0284c7', 'software-updates': '#64748b',
  'control-plane': '#78716c', storage: '#a16207', compute: '#6d28d9', 'third-party': '#dc2626',
};

interface Column {
  key: string;
  title: string;
  subtitle: string;
  tone: 'home' | 'foreign' | 'unknown' | 'local';
  flows: Flow[];
}

const COL_W = 270;
const BOX_H = 58;
const GAP = 10;
const HEAD_H = 54;
const LEFT = 170;
const PAD = 20;

/** Group flows into columns; the home country first. */
export function columnsOf(model: DataFlowModel): Column[] {
  const columns = new Map<string, Column>();
  const home = model.country;
  for (const flow of model.flows) {
    const loc = flow.location;
    let key: string;
    let column: Omit<Column, 'flows'>;
    if (loc.scope === 'loopback') {
      key = 'local';
      column = { key, title: 'This machine', subtitle: 'loopback only', tone: 'local' };
    } else if (loc.scope === 'global') {
      key = 'global';
      column = { key, title: 'AWS global services', subtitle: 'control plane us-east-1 (US)', tone: 'foreign' };
    } else if (loc.country === null) {
      key = loc.scope === 'third-party' ? 'third' : 'unknown';
      column = key === 'third' ? { key, title: 'Third parties', subtitle: 'location not derivable', tone: 'foreign' } : { key, title: 'Location unknown', subtitle: 'not derivable from the inputs', tone: 'unknown' };
    } else {
      key = `c:${loc.country}`;
      const name = COUNTRY_NAMES[loc.country] ?? loc.country;
      column = { key, title: `${name} (${loc.country})`, subtitle: loc.country === home ? 'the deployment’s country' : home ? `outside ${home}` : 'no country declared', tone: loc.country === home ? 'home' : home ? 'foreign' : 'unknown' };
    }
    if (!columns.has(key)) columns.set(key, { ...column, flows: [] });
    columns.get(key)!.flows.push(flow);
  }
  for (const c of columns.values()) c.flows.sort((a, b) => Number(b.active) - Number(a.active));
  const rank = (c: Column): number => (c.tone === 'home' ? 0 : c.tone === 'local' ? 1 : c.key.startsWith('c:') ? 2 : c.key === 'global' ? 3 : c.key === 'third' ? 4 : 5);
  return [...columns.values()].sort((a, b) => rank(a) - rank(b) || a.title.localeCompare(b.title));
}

const TONES = {
  home: { stroke: '#15803d', fill: '#f0fdf4', head: '#15803d' },
  local: { stroke: '#15803d', fill: '#f0fdf4', head: '#166534' },
  foreign: { stroke: '#dc2626', fill: '#fef2f2', head: '#b91c1c' },
  unknown: { stroke: '#d97706', fill: '#fffbeb', head: '#b45309' },
};

// Flows a participant's browser talks to directly.
const BROWSER_FACING = new Set<FlowKind>(['media', 'signalling', 'sign-in', 'turn', 'chat', 'third-party']);
// Boxes per lane before a column wraps into another lane; any number of hosts and flows fits.
const LANE_ROWS = 7;

/** Render the model as an SVG element (no external references). */
export function renderDiagram(model: DataFlowModel): string {
  const columns = columnsOf(model);
  // A column with many flows wraps into two lanes so the map stays wide rather than tall.
  const lanesOf = (c: Column): number => Math.max(1, Math.ceil(c.flows.length / LANE_ROWS));
  const rowsOf = (c: Column): number => Math.ceil(c.flows.length / lanesOf(c));
  const widthOf = (c: Column): number => lanesOf(c) * (COL_W - 20) + 20 + (lanesOf(c) - 1) * 10;
  const rows = Math.max(1, ...columns.map(rowsOf));
  const xs: number[] = [];
  let cursor = LEFT + PAD;
  for (const c of columns) {
    xs.push(cursor);
    cursor += widthOf(c) + PAD;
  }
  const width = cursor + PAD;
  const height = HEAD_H + rows * (BOX_H + GAP) + PAD * 3;
  const parts: string[] = [];
  const browserY = HEAD_H + PAD + (Math.min(rows, 6) * (BOX_H + GAP)) / 2 - 30;
  const edges: string[] = [];
  const boxW = COL_W - 20;

  columns.forEach((column, i) => {
    const x = xs[i]!;
    const tone = TONES[column.tone];
    const colH = HEAD_H + rowsOf(column) * (BOX_H + GAP) + GAP;
    parts.push(`<g class="column ${column.tone}">`);
    parts.push(`<rect x="${x}" y="${PAD}" width="${widthOf(column)}" height="${colH}" rx="14" fill="${tone.fill}" stroke="${tone.stroke}" stroke-width="${column.tone === 'foreign' ? 2.5 : 1.5}"${column.tone === 'unknown' ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${x + 16}" y="${PAD + 24}" class="col-title" fill="${tone.head}">${column.tone === 'foreign' ? '⚠ ' : ''}${esc(column.title)}</text>`);
    parts.push(`<text x="${x + 16}" y="${PAD + 42}" class="col-sub">${esc(column.subtitle)}</text>`);
    column.flows.forEach((flow, j) => {
      const lane = Math.floor(j / rowsOf(column));
      const row = j % rowsOf(column);
      const bx = x + 10 + lane * (boxW + 10);
      const y = PAD + HEAD_H + row * (BOX_H + GAP);
      const colour = KIND_COLOURS[flow.kind];
      const muted = !flow.active;
      parts.push(`<g class="flow${muted ? ' off' : ''}" data-flow="${esc(flow.id)}"><title>${esc(`${flow.label}\n${flow.location.place}\nwhy: ${flow.location.basis}\nreaders: ${flow.readers}\nencryption: ${flow.encryption}\nretention: ${flow.retention}`)}</title>`);
      parts.push(`<rect x="${bx}" y="${y}" width="${boxW}" height="${BOX_H}" rx="9" fill="#fff" stroke="${muted ? '#cbd5e1' : column.tone === 'foreign' ? '#fca5a5' : '#e2e8f0'}"${muted ? ' stroke-dasharray="4 3"' : ''}/>`);
      parts.push(`<rect x="${bx}" y="${y}" width="6" height="${BOX_H}" rx="3" fill="${muted ? '#cbd5e1' : colour}"/>`);
      parts.push(`<text x="${bx + 14}" y="${y + 20}" class="flow-label">${esc(clip(flow.label, 33))}${flow.personalData && !muted ? ' <tspan class="pd">●</tspan>' : ''}</text>`);
      parts.push(`<text x="${bx + 14}" y="${y + 36}" class="flow-place">${esc(clip(flow.location.place, 40))}</text>`);
      parts.push(`<text x="${bx + 14}" y="${y + 50}" class="flow-ret">${esc(clip(muted ? 'switched off' : `kept: ${flow.retention}`, 40))}</text>`);
      parts.push('</g>');
      if (flow.active && BROWSER_FACING.has(flow.kind)) {
        const tx = bx;
        const ty = y + BOX_H / 2;
        const sx = LEFT - 10;
        const sy = browserY + 30;
        const red = column.tone === 'foreign';
        edges.push(`<path d="M${sx},${sy} C${sx + 60},${sy} ${tx - 60},${ty} ${tx},${ty}" fill="none" stroke="${red ? '#dc2626' : '#94a3b8'}" stroke-width="${red ? 2 : 1.2}"${red ? '' : ' stroke-dasharray="3 3"'} marker-end="url(#arrow${red ? '-red' : ''})"/>`);
      }
    });
    parts.push('</g>');
  });

  const browser = `<g class="browser"><rect x="${PAD}" y="${browserY}" width="${LEFT - PAD - 10}" height="60" rx="30" fill="#1e293b"/><text x="${(LEFT + PAD - 10) / 2}" y="${browserY + 26}" text-anchor="middle" class="browser-t">Participants’</text><text x="${(LEFT + PAD - 10) / 2}" y="${browserY + 44}" text-anchor="middle" class="browser-t">browsers</text></g>`;
  const defs = `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#94a3b8"/></marker><marker id="arrow-red" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#dc2626"/></marker></defs>`;
  return `<svg class="diagram" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Data flows grouped by country">${defs}${edges.join('')}${browser}${parts.join('')}</svg>`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
