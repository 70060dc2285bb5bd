import { basename, relativeTo, resolveFrom } from '../paths';

describe('relativeTo', () => {
  it.each([
    ['a/b/x.pipeline', 'a/c/n.ipynb', '../c/n.ipynb'],
    ['a/b/x.pipeline', 'a/b/n.ipynb', 'n.ipynb'],
    ['a/b/x.pipeline', 'a/b/sub/n.py', 'sub/n.py'],
    ['x.pipeline', 'a/b/n.ipynb', 'a/b/n.ipynb'],
    ['a/b/x.pipeline', 'n.ipynb', '../../n.ipynb'],
    ['./a/./b//x.pipeline', 'a/c/../b/n.r', 'n.r'],
    ['a/x.pipeline', '/abs/path/n.py', '/abs/path/n.py']
  ])('(%s, %s) is %s', (pipeline, file, expected) => {
    expect(relativeTo(pipeline, file)).toBe(expected);
  });
});

describe('resolveFrom', () => {
  it.each([
    ['a/b/x.pipeline', '../c/n.ipynb', 'a/c/n.ipynb'],
    ['a/b/x.pipeline', './n.ipynb', 'a/b/n.ipynb'],
    ['x.pipeline', 'sub/./deeper/../n.py', 'sub/n.py'],
    ['a/x.pipeline', '../../n.py', '../n.py'],
    ['a/x.pipeline', '/abs//n.py', '/abs/n.py']
  ])('(%s, %s) is %s', (pipeline, filename, expected) => {
    expect(resolveFrom(pipeline, filename)).toBe(expected);
  });

  it('inverts relativeTo', () => {
    for (const [pipeline, file] of [
      ['a/b/x.pipeline', 'a/c/n.ipynb'],
      ['x.pipeline', 'deep/er/n.py'],
      ['p/q/r/x.pipeline', 's.r']
    ]) {
      expect(resolveFrom(pipeline, relativeTo(pipeline, file))).toBe(file);
    }
  });
});

describe('basename', () => {
  it('is the last segment', () => {
    expect(basename('a/b/n.ipynb')).toBe('n.ipynb');
    expect(basename('n.py')).toBe('n.py');
    expect(basename('a/b/')).toBe('b');
  });
});
