import { describe, expect, it } from 'vitest';
import { linearFit } from '../../bench/report.js';

describe('linearFit', () => {
  it('finds the slope and intercept of points on a line', () => {
    const fit = linearFit([
      [2500, 90],
      [5000, 97.5],
      [10000, 112.5],
    ]);
    expect(fit.slope).toBeCloseTo(0.003, 10);
    expect(fit.intercept).toBeCloseTo(82.5, 8);
  });

  it('gives the least-squares line through scattered points, not the line through the end points', () => {
    const fit = linearFit([
      [0, 0],
      [1, 3],
      [2, 2],
    ]);
    expect(fit.slope).toBeCloseTo(1, 10);
    expect(fit.intercept).toBeCloseTo(2 / 3, 10);
  });

  it('has no slope for points that all share one x', () => {
    expect(linearFit([[3, 1], [3, 2]]).slope).toBeNaN();
  });
});
