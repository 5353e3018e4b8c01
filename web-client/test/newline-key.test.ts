import { describe, expect, it } from 'vitest';

import { isShiftEnter, SHIFT_ENTER_INPUT } from '../src/newline-key';

const key = (key: string, mods: Partial<{ ctrlKey: boolean; shiftKey: boolean; altKey: boolean; metaKey: boolean }> = {}) => ({
  key,
  ctrlKey: false,
  shiftKey: false,
  altKey: false,
  metaKey: false,
  ...mods,
});

describe('Shift+Enter', () => {
  it('types a newline, as Ctrl+J does', () => {
    expect(SHIFT_ENTER_INPUT).toBe('\n');
  });

  it('is Enter with Shift and nothing else', () => {
    expect(isShiftEnter(key('Enter', { shiftKey: true }))).toBe(true);
    expect(isShiftEnter(key('Enter'))).toBe(false);
    expect(isShiftEnter(key('Enter', { shiftKey: true, ctrlKey: true }))).toBe(false);
    expect(isShiftEnter(key('Enter', { shiftKey: true, altKey: true }))).toBe(false);
    expect(isShiftEnter(key('Enter', { shiftKey: true, metaKey: true }))).toBe(false);
    expect(isShiftEnter(key('a', { shiftKey: true }))).toBe(false);
  });
});
