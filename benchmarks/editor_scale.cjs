/**
 * The browser half of `benchmarks/editor_scale.py`, which starts JupyterLab and runs this script; it is not meant
 * to be run alone. It drives Debian's Chromium with playwright-core (from ui-tests/node_modules: no browser is
 * downloaded) and, for each pipeline file, in a freshly loaded JupyterLab:
 *
 *   1. opens a small pipeline and closes it (code, schemas and palette loaded: the figures are of a warm editor);
 *   2. opens the file with `docmanager:open` and waits until the canvas is still: nodes visible, and neither the
 *      number of drawn nodes nor the canvas transform changed between two frames ("open, ready to pan");
 *   3. drags the empty canvas 400 px and back in 60 mouse steps while requestAnimationFrame records frame times,
 *      at the zoom the editor opened with, then again after zooming in with the mouse wheel to about 100 %;
 *   4. clicks a node and times until it is drawn selected, then drags it and times until the document model is
 *      dirty (the edit was applied) and a frame is drawn.
 *
 * Input: one JSON argument (see `editor_scale.py`, `run_browser`). Output: one JSON object per file on stdout.
 */
'use strict';

const path = require('path');
const { chromium } = require(path.join(__dirname, '..', 'ui-tests', 'node_modules', 'playwright-core'));

/** How each editor draws its canvas, found by class names. */
const EDITORS = {
  ours: {
    node: '.react-flow__node',
    pane: '.react-flow__pane',
    viewport: '.react-flow__viewport',
    selected: '.react-flow__node.selected'
  },
  elyra: {
    node: '.d3-node-group',
    pane: '.d3-svg-background',
    // The transform of the canvas group (common-canvas's d3-zoom sets it when the canvas pans or zooms).
    viewport: '.d3-canvas-group',
    selected: '.d3-node-group [data-selected="yes"]'
  }
};

const PAN_STEPS = 60;
/** How far the pan goes before it comes back (px). */
const PAN_REACH = 400;

/** Installed in every page: helpers the measurements call through `window.__bench`. */
function pageHelpers(selectors) {
  const frame = () => new Promise(resolve => requestAnimationFrame(resolve));
  /** The editor being measured (set when it is opened). */
  const widgetNode = () => window.__bench.widget?.node ?? document.body;
  const nodeCount = () => {
    const nodes = widgetNode().querySelectorAll(selectors.node);
    let visible = 0;
    for (const node of nodes) {
      if (node.style.visibility !== 'hidden') {
        visible++;
      }
    }
    return visible;
  };
  const transform = () => {
    const viewport = widgetNode().querySelector(selectors.viewport);
    return viewport ? viewport.getAttribute('transform') ?? viewport.style.transform : '';
  };
  const scale = () => {
    const match = /scale\(([\d.e-]+)/.exec(transform()) ?? /matrix\(([\d.e-]+)/.exec(transform());
    return match ? Number(match[1]) : NaN;
  };
  /** Resolves with the time of the first of two frames between which nothing on the canvas changed. */
  const settled = async timeout => {
    const start = performance.now();
    let last = null;
    let firstDrawn = null;
    for (;;) {
      const now = await frame();
      const state = `${nodeCount()}|${transform()}`;
      if (nodeCount() > 0 && last && last.state === state) {
        return last.time;
      }
      last = { state, time: performance.now() };
      firstDrawn ??= nodeCount() > 0 ? last.time - start : null;
      if (now - start > timeout) {
        const drawn = firstDrawn === null ? 'no node drawn' : `nodes first drawn after ${Math.round(firstDrawn)} ms`;
        throw new Error(`the canvas did not settle within ${timeout} ms (${drawn}; drawn|transform: ${state})`);
      }
    }
  };
  let frames = null;
  let longTasks = [];
  new PerformanceObserver(list => longTasks.push(...list.getEntries().map(entry => entry.duration))).observe({
    type: 'longtask',
    buffered: false
  });
  window.__bench = {
    widget: null,
    frame,
    nodeCount,
    transform,
    scale,
    settled,
    domSize: () => widgetNode().querySelectorAll('*').length,
    resetLongTasks: () => {
      longTasks = [];
    },
    longTasks: () => longTasks.slice(),
    startFrames: () => {
      frames = [];
      const tick = time => {
        if (frames) {
          frames.push(time);
          requestAnimationFrame(tick);
        }
      };
      requestAnimationFrame(tick);
    },
    stopFrames: () => {
      const times = frames ?? [];
      frames = null;
      return times.slice(1).map((time, index) => time - times[index]);
    },
    /** A point of the canvas background (no node, edge or control under it), in page coordinates. */
    emptyPoint: () => {
      const pane = widgetNode().querySelector(selectors.pane);
      const box = pane.getBoundingClientRect();
      for (let fy = 0.5; fy < 0.95; fy += 0.04) {
        for (const sign of [1, -1]) {
          const y = box.top + box.height * (0.5 + sign * (fy - 0.5));
          for (let fx = 0.3; fx < 0.7; fx += 0.05) {
            const x = box.left + box.width * fx;
            if (document.elementFromPoint(x, y) === pane) {
              return { x, y };
            }
          }
        }
      }
      return null;
    },
    /** The centre of the drawn node nearest the canvas centre (inside the canvas, not under the minimap). */
    nodeNearCentre: () => {
      const pane = widgetNode().querySelector(selectors.pane);
      const frame = pane.getBoundingClientRect();
      const cx = frame.left + frame.width / 2;
      const cy = frame.top + frame.height / 2;
      let best = null;
      for (const node of widgetNode().querySelectorAll(selectors.node)) {
        const box = node.getBoundingClientRect();
        const x = box.left + box.width / 2;
        const y = box.top + box.height / 2;
        const distance = Math.hypot(x - cx, y - cy);
        const reachable = node.contains(document.elementFromPoint(x, y));
        if (reachable && (!best || distance < best.distance)) {
          best = { x, y, distance };
        }
      }
      return best;
    },
    /** Wait for `done()` to hold after the last `type` event; resolve with ms from that event to the next frame. */
    timeFromEvent: (type, done, timeout) =>
      new Promise((resolve, reject) => {
        let eventTime = null;
        const listener = event => {
          eventTime = event.timeStamp;
        };
        window.addEventListener(type, listener, true);
        const started = performance.now();
        const poll = async () => {
          for (;;) {
            await frame();
            if (eventTime !== null && done()) {
              await frame();
              window.removeEventListener(type, listener, true);
              resolve(performance.now() - eventTime);
              return;
            }
            if (performance.now() - started > timeout) {
              window.removeEventListener(type, listener, true);
              reject(new Error(`no ${type} followed by the expected change within ${timeout} ms`));
              return;
            }
          }
        };
        void poll();
      })
  };
}

function percentile(sorted, fraction) {
  if (!sorted.length) {
    return null;
  }
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

function frameFigures(deltas, durationMs) {
  const sorted = [...deltas].sort((a, b) => a - b);
  return {
    frames: deltas.length,
    duration_ms: durationMs,
    median_ms: percentile(sorted, 0.5),
    p95_ms: percentile(sorted, 0.95),
    max_ms: sorted.length ? sorted[sorted.length - 1] : null,
    // rAF times step by whole 60 Hz intervals (16.7 ms, with jitter): over 20 ms is at least one frame dropped,
    // over 36.7 ms at least two.
    over_16_7: deltas.filter(delta => delta > 20).length,
    over_33: deltas.filter(delta => delta > 36.7).length
  };
}

async function metrics(cdp) {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(list.map(metric => [metric.name, metric.value]));
}

async function pan(page) {
  const start = await page.evaluate(() => window.__bench.emptyPoint());
  if (!start) {
    return { error: 'no empty point of the canvas to drag' };
  }
  await page.evaluate(() => window.__bench.startFrames());
  await page.evaluate(() => window.__bench.frame());
  const began = Date.now();
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  // There and back, so the nodes end where they were (the next steps need them in view).
  const before = await page.evaluate(() => window.__bench.transform());
  await page.mouse.move(start.x - PAN_REACH, start.y - 40, { steps: PAN_STEPS / 2 });
  const moved = (await page.evaluate(() => window.__bench.transform())) !== before;
  await page.mouse.move(start.x, start.y, { steps: PAN_STEPS / 2 });
  await page.mouse.up();
  const duration = Date.now() - began;
  await page.evaluate(() => window.__bench.frame());
  const deltas = await page.evaluate(() => window.__bench.stopFrames());
  return moved ? frameFigures(deltas, duration) : { error: 'dragging the canvas did not pan it' };
}

/** Zoom with the mouse wheel over the node nearest the centre until the scale is about 1 (both editors zoom on
 * the wheel, keeping the point under the mouse in place). */
async function zoomToOne(page) {
  const point = await page.evaluate(() => window.__bench.nodeNearCentre());
  if (!point) {
    return NaN;
  }
  await page.mouse.move(point.x, point.y);
  for (let step = 0; step < 60; step++) {
    const scale = await page.evaluate(() => window.__bench.scale());
    if (!(scale < 0.9)) {
      break;
    }
    await page.mouse.wheel(0, -100);
    await page.evaluate(async () => {
      await window.__bench.frame();
      await window.__bench.frame();
    });
  }
  await page.evaluate(() => window.__bench.settled(60_000));
  return page.evaluate(() => window.__bench.scale());
}

async function measureFile(browser, options, file) {
  const selectors = EDITORS[options.editor];
  const timeoutMs = options.timeout_s * 1000;
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', error => errors.push(error.message));
  await page.addInitScript(pageHelpers, selectors);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const result = { editor: options.editor, file: file.path, nodes: file.nodes, placed: file.placed };
  try {
    await page.goto(`${options.url}/lab?reset&token=${options.token}`, { timeout: timeoutMs });
    await page.waitForFunction(() => window.jupyterapp && !document.querySelector('#jupyterlab-splash'), null, {
      timeout: timeoutMs,
      polling: 200
    });
    await page.evaluate(() => window.jupyterapp.restored);
    // Warm up: the editor's code, schemas and palette, then a clean slate.
    await page.evaluate(
      async ({ warmup, factory, timeout }) => {
        const widget = await window.jupyterapp.commands.execute('docmanager:open', { path: warmup, factory });
        window.__bench.widget = widget;
        await widget.context.ready;
        await window.__bench.settled(timeout);
        widget.dispose();
        window.__bench.widget = null;
        await window.__bench.frame();
      },
      { warmup: options.warmup, factory: options.factory, timeout: timeoutMs }
    );
    const before = await metrics(cdp);
    const open = await page.evaluate(
      async ({ filePath, factory, timeout }) => {
        window.__bench.resetLongTasks();
        const started = performance.now();
        const widget = await window.jupyterapp.commands.execute('docmanager:open', { path: filePath, factory });
        window.__bench.widget = widget;
        await widget.context.ready;
        const loaded = performance.now();
        const ready = await window.__bench.settled(timeout);
        const tasks = window.__bench.longTasks();
        return {
          load_ms: loaded - started,
          open_ms: ready - started,
          long_tasks: tasks.length,
          longest_task_ms: tasks.length ? Math.max(...tasks) : 0
        };
      },
      { filePath: file.path, factory: options.factory, timeout: timeoutMs }
    );
    const after = await metrics(cdp);
    Object.assign(result, open, {
      script_s: after.ScriptDuration - before.ScriptDuration,
      layout_s: after.LayoutDuration - before.LayoutDuration,
      style_s: after.RecalcStyleDuration - before.RecalcStyleDuration,
      heap_mb: after.JSHeapUsedSize / 2 ** 20,
      drawn_at_open: await page.evaluate(() => window.__bench.nodeCount()),
      dom_elements: await page.evaluate(() => window.__bench.domSize()),
      scale_at_open: await page.evaluate(() => window.__bench.scale())
    });
    result.pan_fit = await pan(page);
    result.scale_zoomed = await zoomToOne(page);
    result.drawn_zoomed = await page.evaluate(() => window.__bench.nodeCount());
    result.pan_zoomed = await pan(page);

    const target = await page.evaluate(() => window.__bench.nodeNearCentre());
    if (!target) {
      throw new Error('no node in view to select');
    }
    const selectTime = page.evaluate(
      ({ selected, timeout }) =>
        window.__bench.timeFromEvent(
          'mousedown',
          () => !!window.__bench.widget.node.querySelector(selected),
          timeout
        ),
      { selected: selectors.selected, timeout: 60_000 }
    );
    selectTime.catch(() => undefined); // awaited below; not unhandled if the click fails first
    await page.mouse.click(target.x, target.y);
    result.select_ms = await selectTime;

    const moveTime = page.evaluate(
      timeout =>
        window.__bench.timeFromEvent('mouseup', () => window.__bench.widget.context.model.dirty, timeout),
      60_000
    );
    moveTime.catch(() => undefined);
    await page.mouse.move(target.x, target.y);
    await page.mouse.down();
    await page.mouse.move(target.x + 60, target.y + 90, { steps: 10 });
    await page.mouse.up();
    result.move_ms = await moveTime;
  } catch (error) {
    result.error = String(error.message ?? error).split('\n')[0];
  }
  if (errors.length) {
    result.page_errors = errors.slice(0, 3);
  }
  await context.close();
  return result;
}

async function main() {
  const options = JSON.parse(process.argv[2]);
  const browser = await chromium.launch({
    executablePath: options.chromium,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run'
    ]
  });
  try {
    for (const file of options.files) {
      process.stderr.write(`${options.editor}: ${file.path}\n`);
      process.stdout.write(`${JSON.stringify(await measureFile(browser, options, file))}\n`);
    }
  } finally {
    await browser.close();
  }
}

main().catch(error => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
