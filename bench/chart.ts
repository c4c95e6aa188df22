/**
 * The bench's SVG chart (bench/results/latest.svg): objects Ready over time during each cold sync of
 * the scale workload, and controller RSS against objects Ready. Plain SVG text, no dependency, so
 * README can show the last run.
 */
import type { ScalePoint } from './scale-curve.js';

interface Series {
  readonly label: string;
  readonly colour: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

const W = 420;
const H = 260;
const PAD = { left: 56, right: 16, top: 28, bottom: 40 };

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return Math.ceil(v / p) * p;
}

/** One panel at x offset `ox`: axes with 5 ticks, a polyline per series, a title and axis labels. */
function panel(ox: number, title: string, xLabel: string, yLabel: string, series: readonly Series[]): string {
  const xMax = niceMax(Math.max(...series.flatMap((s) => s.points.map((p) => p[0]))));
  const yMax = niceMax(Math.max(...series.flatMap((s) => s.points.map((p) => p[1]))));
  const x = (v: number): number => ox + PAD.left + (v / xMax) * (W - PAD.left - PAD.right);
  const y = (v: number): number => H - PAD.bottom - (v / yMax) * (H - PAD.top - PAD.bottom);
  const out: string[] = [];
  out.push(`<text x="${ox + W / 2}" y="16" text-anchor="middle" font-weight="bold">${escape(title)}</text>`);
  out.push(`<line x1="${x(0)}" y1="${y(0)}" x2="${x(xMax)}" y2="${y(0)}" stroke="#333"/><line x1="${x(0)}" y1="${y(0)}" x2="${x(0)}" y2="${y(yMax)}" stroke="#333"/>`);
  for (let i = 0; i <= 5; i++) {
    const xv = (xMax * i) / 5;
    const yv = (yMax * i) / 5;
    out.push(`<text x="${x(xv)}" y="${y(0) + 14}" text-anchor="middle" font-size="10">${Number(xv.toPrecision(3))}</text>`);
    out.push(`<text x="${x(0) - 4}" y="${y(yv) + 3}" text-anchor="end" font-size="10">${Number(yv.toPrecision(3))}</text>`);
    if (i > 0) out.push(`<line x1="${x(0)}" y1="${y(yv)}" x2="${x(xMax)}" y2="${y(yv)}" stroke="#ddd"/>`);
  }
  out.push(`<text x="${ox + W / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${escape(xLabel)}</text>`);
  out.push(`<text x="${ox + 12}" y="${H / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 ${ox + 12} ${H / 2})">${escape(yLabel)}</text>`);
  series.forEach((s, i) => {
    out.push(`<polyline fill="none" stroke="${s.colour}" stroke-width="2" points="${s.points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ')}"/>`);
    out.push(`<text x="${x(0) + 8}" y="${PAD.top + 12 + i * 14}" font-size="11" fill="${s.colour}">${escape(s.label)}</text>`);
  });
  return out.join('\n');
}

/** The chart for the scale points, as an SVG document. */
export function scaleChart(points: readonly ScalePoint[], caption: string): string {
  const colours = ['#1f77b4', '#d62728', '#2ca02c'];
  const ready = points.map((p, i) => ({ label: `${p.count.toLocaleString('en')} objects`, colour: colours[i % 3] as string, points: p.readyCurve.map(([t, n]) => [t / 1000, n] as const) }));
  const rss = points.map((p, i) => ({ label: `${p.count.toLocaleString('en')} objects`, colour: colours[i % 3] as string, points: p.rssCurve }));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 20}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel(0, 'Cold sync: objects Ready over time', 'seconds since start', 'objects Ready', ready),
    panel(W, 'Controller RSS during the cold sync', 'objects Ready', 'RSS (MiB)', rss),
    `<text x="${W}" y="${H + 14}" text-anchor="middle" font-size="10" fill="#555">${escape(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
