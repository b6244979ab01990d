/** The time axis and the theme the runs chart and the health chart share. */
import { chartLook, tickLabel, timeAxis } from '../components/RunsChart';

describe('timeAxis', () => {
  const look = { text: '#111', grid: '#eee', font: { family: 'serif', size: 11 } };

  it('labels ticks by the time of day within two days, by the date beyond', () => {
    const day = Date.UTC(2026, 11, 6, 9, 30);
    const close = timeAxis([day, day + 3600_000], 6, look);
    expect(close.ticks.maxTicksLimit).toBe(6);
    expect(close.ticks.callback(day)).toBe(tickLabel(day, 3600_000));
    expect(close.ticks.callback(String(day))).toMatch(/\d\d:\d\d/);
    const far = timeAxis([day, day + 10 * 86400_000], 8, look);
    expect(far.ticks.callback(day)).toBe(tickLabel(day, 10 * 86400_000));
    expect(far.ticks.callback(day)).not.toMatch(/\d\d:\d\d/);
  });

  it('draws in the look it is given, and an empty chart has a zero span', () => {
    const axis = timeAxis([], 8, look);
    expect(axis.type).toBe('linear');
    expect(axis.grid.color).toBe('#eee');
    expect(axis.ticks.color).toBe('#111');
    expect(axis.ticks.font).toEqual(look.font);
  });
});

describe('chartLook', () => {
  it("reads the lab theme's variables, with fallbacks outside the lab", () => {
    document.body.style.setProperty('--jp-ui-font-color1', '#abcdef');
    expect(chartLook().text).toBe('#abcdef');
    expect(chartLook().grid).toBe('#ddd');
    expect(chartLook().font.size).toBe(11);
  });
});
