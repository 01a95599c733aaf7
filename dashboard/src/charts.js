// Live metric charts (uPlot): the last 24 h from the monitoring API, then one point per new
// sample from the /ws/monitoring stream (a push whose timestamp has not moved adds nothing).
// Each chart's element carries data-points and data-last so tests and people can see it move.

import uPlot from 'uplot';
import { h } from './dom.js';

export const CHART_METRICS = ['cpu', 'memory', 'gpu', 'response_time', 'error_rate'];
const UNITS = { cpu: '%', memory: '%', gpu: '%', response_time: 'ms', error_rate: '%' };
const MAX_POINTS = 2000;
const MIN_SPAN_S = 600;

/**
 * The x range from the points themselves, at least ten minutes ending at the newest point (or
 * now, with none). uPlot's own guess for a single point is min + 86400 / ms, which in seconds
 * is years, and for no points the epoch: both drew axes that had nothing to do with the data.
 */
export function timeRange(xs, now = Date.now() / 1000) {
  if (!xs.length) return [now - MIN_SPAN_S, now];
  const first = xs[0];
  const last = xs[xs.length - 1];
  return last - first < MIN_SPAN_S ? [last - MIN_SPAN_S, last + 30] : [first, last];
}

export class MetricChart {
  constructor(metric, label) {
    this.metric = metric;
    this.xs = [];
    this.ys = [];
    this.el = h('figure', { class: 'chart', 'data-metric': metric, 'data-points': 0 },
      h('figcaption', {}, `${label} (${UNITS[metric] ?? ''})`));
    this.plot = null;
  }

  mount(width) {
    this.plot = new uPlot(
      {
        width, height: 160,
        series: [{}, { label: this.metric, stroke: '#1b5fb3', width: 2, fill: 'rgba(27,95,179,0.08)' }],
        // x ticks at least 80 px apart: an empty chart's one-minute ticks ran into each other
        axes: [{ stroke: '#333', space: 80 }, { stroke: '#333' }],
        legend: { show: false },
        scales: { x: { time: true, range: (u) => timeRange(u.data[0]) } },
      },
      [this.xs, this.ys],
      this.el,
    );
  }

  /** Points as [{timestamp, value}] (the monitoring API's shape), oldest first. */
  load(points) {
    for (const p of points) this.push(Date.parse(p.timestamp) / 1000, p.value, false);
    this.redraw();
  }

  push(x, y, redraw = true) {
    if (y === null || y === undefined || Number.isNaN(x)) return;
    const last = this.xs.length ? this.xs[this.xs.length - 1] : -Infinity;
    if (x < last) return;
    if (x === last) this.ys[this.ys.length - 1] = y;
    else {
      this.xs.push(x);
      this.ys.push(y);
    }
    if (this.xs.length > MAX_POINTS) {
      this.xs.shift();
      this.ys.shift();
    }
    this.el.dataset.points = String(this.xs.length);
    this.el.dataset.last = String(y);
    if (redraw) {
      this.redraw();
      this.el.dataset.drawnAt = String(Date.now()); // wall clock, for bench/bench_dashboard.py
    }
  }

  redraw() {
    this.plot?.setData([this.xs, this.ys]);
  }

  destroy() {
    this.plot?.destroy();
  }
}
