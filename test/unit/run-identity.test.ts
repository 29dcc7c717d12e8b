// A host joining a run with a different file, layout or options is refused with a message that shows
// where the two differ — also when the values are long (a layout of many fields).
import { describe, expect, it } from 'vitest';
import { around, checkSameRun } from '../../src/manifest/identity.js';
import { descriptor } from '../manifest/suite.js';

describe('checkSameRun', () => {
  it('shows the part of a long layout that differs, not the same first 120 characters twice', () => {
    const fields = (last: string) =>
      Array.from({ length: 30 }, (_, i) => ({ name: `field_${i}`, type: i === 29 ? last : 'f64', offset: i * 8 }));
    const stored = { ...descriptor('r', 4), layout: { record_size: 240, fields: fields('u16') } };
    const mine = { ...descriptor('r', 4), layout: { record_size: 240, fields: fields('i16') } };
    let message = '';
    try {
      checkSameRun(stored, mine);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/different layout/);
    expect(message).toMatch(/"type":"u16".* there, .*"type":"i16".* here/);
  });
});

describe('around', () => {
  it('leaves short values whole and cuts long ones to one window around their first difference', () => {
    expect(around('abc', 'abd')).toEqual(['abc', 'abd']);
    const a = `${'x'.repeat(500)}A${'y'.repeat(500)}`;
    const b = `${'x'.repeat(500)}B${'y'.repeat(500)}`;
    const [x, y] = around(a, b);
    expect(x).toContain('xA');
    expect(y).toContain('xB');
    expect(x.startsWith('…') && x.endsWith('…')).toBe(true);
    expect(x.length).toBeLessThanOrEqual(122);
  });
});
