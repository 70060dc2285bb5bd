import { lastLine } from '../format';

describe('lastLine', () => {
  it('is the last non-empty line of a traceback, trimmed', () => {
    const traceback = 'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: bad rate\n\n  ';
    expect(lastLine(traceback)).toBe('ValueError: bad rate');
  });

  it('is a one-line message itself, and empty for blank text', () => {
    expect(lastLine('Failed with exit code 1: boom')).toBe('Failed with exit code 1: boom');
    expect(lastLine(' \n\n')).toBe('');
  });
});
