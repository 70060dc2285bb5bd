/**
 * POSIX path arithmetic for node filenames, which Elyra writes relative to the pipeline file while JupyterLab
 * names files relative to the server root. Kept free of JupyterLab imports so that it runs under Jest.
 */

/** The segments of a path with '.' and empty segments dropped and 'x/..' collapsed (leading '..' kept). */
function segments(path: string): string[] {
  const result: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') {
      continue;
    }
    if (segment === '..' && result.length > 0 && result[result.length - 1] !== '..') {
      result.pop();
    } else {
      result.push(segment);
    }
  }
  return result;
}

/** The segments of the folder holding `path`. */
function folderOf(path: string): string[] {
  return segments(path).slice(0, -1);
}

/**
 * `filePath` as a node filename of the pipeline at `pipelinePath` (both relative to the server root), e.g.
 * ('a/b/x.pipeline', 'a/c/n.ipynb') gives '../c/n.ipynb'. An absolute `filePath` is returned normalised.
 */
export function relativeTo(pipelinePath: string, filePath: string): string {
  if (filePath.startsWith('/')) {
    return `/${segments(filePath).join('/')}`;
  }
  const from = folderOf(pipelinePath);
  const to = segments(filePath);
  let common = 0;
  while (common < from.length && common < to.length && from[common] === to[common]) {
    common++;
  }
  const relative = [...from.slice(common).map(() => '..'), ...to.slice(common)];
  return relative.length > 0 ? relative.join('/') : '.';
}

/**
 * The server-root path named by a node filename of the pipeline at `pipelinePath`: the inverse of `relativeTo`.
 * An absolute `filename` is returned normalised.
 */
export function resolveFrom(pipelinePath: string, filename: string): string {
  if (filename.startsWith('/')) {
    return `/${segments(filename).join('/')}`;
  }
  return segments([...folderOf(pipelinePath), filename].join('/')).join('/');
}

/** The last segment of a path. */
export function basename(path: string): string {
  const parts = segments(path);
  return parts.length > 0 ? parts[parts.length - 1] : '';
}
