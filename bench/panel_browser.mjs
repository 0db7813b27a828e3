// Browser-side figures of the Edge Investigation panel, in a real JupyterLab + Chromium:
//   * Run All to a usable panel (four listboxes and the Score button shown), with the kernel's
//     build cache empty (a new FLOW_EDGE_BUILD_CACHE folder) and warm (the same folder again),
//     so both builds follow the cache's cargo profile as an analyst's do; standbys are off
//     (FLOW_EDGE_STANDBY=off), since one warming in a second slot would share the two cores;
//   * live preview: choosing a source IP until the preview shows its rows;
//   * Score: from the press of the mouse button to the first frame showing `N matching
//     connections scored` (both clocks in the page), and from the bench's click() call.
// On generated days of each size (scripts/make-demo-tree). Prints a Markdown table.
//
//   scripts/build-kernel && node bench/panel_browser.mjs [rows,rows...]   (default 10000,1000000)
//   FLOW_EDGE_BENCH_CLICKS=N   Score clicks in the warm session (default 7)
import { execFileSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, startLab } from '../tests/browser/lab.mjs';

const DATE = '20160708';
const sizes = (process.argv[2] ?? '10000,1000000').split(',').map(Number);
// Score clicks per warm session (a source IP each): the first of a session also creates the
// feedback file and the first journal, so a median wants several.
const CLICKS = Number(process.env.FLOW_EDGE_BENCH_CLICKS ?? 7);
const target = process.env.CARGO_TARGET_DIR ?? join(repoRoot, 'target');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const max = (xs) => Math.max(...xs);

async function session(root, cacheDir, measureClicks) {
  delete process.env.EVCXR_TMPDIR; // it would win over the cache
  process.env.FLOW_EDGE_BUILD_CACHE = cacheDir;
  process.env.FLOW_EDGE_STANDBY = 'off';
  process.env.FLOW_EDGE_SPOT_CONF = join(root, 'no-spot.conf');
  const lab = await startLab({ rootDir: root });
  const page = lab.page;
  try {
    await lab.openNotebook(`ipynb/flow/${DATE}/Edge_Investigation.ipynb`);
    const started = Date.now();
    await page.evaluate(() => window.jupyterapp.commands.execute('notebook:run-all-cells'));
    const listboxes = page.locator('.jupyter-widgets.widget-select select');
    await listboxes.nth(3).waitFor({ timeout: 900_000 });
    await page.locator('.jupyter-widgets button', { hasText: 'Score' }).waitFor({ timeout: 60_000 });
    const usable = Date.now() - started;
    await lab.runAllCells();
    if (!measureClicks) return { usable };

    const preview = page.locator('.jupyter-widgets.widget-html', { hasText: 'Preview:' });
    const previews = [];
    for (let i = 1; i <= 8; i++) {
      const label = (await listboxes.nth(0).locator('option').nth(i).textContent()).replace(/\u00a0/g, ' ');
      const ip = label.split(' ')[0];
      const t = Date.now();
      await listboxes.nth(0).selectOption({ index: i });
      await page.waitForFunction(
        (wanted) => [...document.querySelectorAll('.jupyter-widgets.widget-html')].some(
          (n) => n.textContent.includes('Preview:') && n.textContent.replace(/\u00a0/g, ' ').includes(wanted),
        ),
        ip,
        { timeout: 60_000, polling: 'raf' },
      );
      previews.push(Date.now() - t);
    }
    await preview.first().waitFor();

    // Two clocks per click: `clicks` from the press of the mouse button on *Score* to the first
    // frame after the status says so, both taken in the page (what the analyst waits for);
    // `driven` from the bench's call to Playwright's click, which first checks the button is
    // visible, stable and enabled and scrolls to it (tens of ms that are the bench's own).
    const clicks = [];
    const driven = [];
    for (let i = 1; i <= CLICKS; i++) {
      await listboxes.nth(0).selectOption({ index: i });
      await page.waitForTimeout(300);
      // The status widget is rewritten once, when the scoring finished.
      await page.evaluate(() => {
        window.__statusShownAt = null;
        window.__pressedAt = null;
        const button = [...document.querySelectorAll('.jupyter-widgets button')].find(
          (b) => b.textContent.trim() === 'Score',
        );
        button.addEventListener('mousedown', () => { window.__pressedAt = performance.now(); }, {
          capture: true,
          once: true,
        });
        const widget = document.querySelector('.flow-edge-status').closest('.widget-html');
        new MutationObserver((_, observer) => {
          if (/matching connections scored/.test(widget.textContent)) {
            observer.disconnect();
            requestAnimationFrame(() => { window.__statusShownAt = performance.now(); });
          }
        }).observe(widget, { childList: true, subtree: true, characterData: true });
      });
      const t = Date.now();
      await page.locator('.jupyter-widgets button', { hasText: 'Score' }).click();
      await page.waitForFunction(() => window.__statusShownAt !== null, null, { timeout: 300_000, polling: 'raf' });
      driven.push(Date.now() - t);
      const [pressedAt, shownAt] = await page.evaluate(() => [window.__pressedAt, window.__statusShownAt]);
      if (pressedAt === null) throw new Error('the Score button saw no mousedown: the in-page clock did not start');
      clicks.push(Math.round(shownAt - pressedAt));
    }
    return { usable, previews, clicks, driven };
  } finally {
    await lab.stop();
  }
}

const lines = [];
for (const rows of sizes) {
  const root = mkdtempSync(join(tmpdir(), `flow-edge-bench-${rows}-`));
  execFileSync(join(repoRoot, 'scripts', 'make-demo-tree'), [root, String(rows), DATE], {
    env: { ...process.env, FLOW_EDGE_CLI: join(target, 'release', 'flow-edge') },
  });
  // On disk before anything is timed, as a day an analyst opens was written long before (a
  // scoring in place flushes the file it writes to).
  const day = openSync(join(root, 'data', 'flow', DATE, 'flow_scores.csv'), 'r+');
  fsyncSync(day);
  closeSync(day);
  const cacheDir = mkdtempSync(join(tmpdir(), 'flow-edge-build-cache-'));
  try {
    const cold = await session(root, cacheDir, false);
    // The cold session left its notebook state on disk untouched; start again on the same day.
    const warm = await session(root, cacheDir, true);
    lines.push(
      `| ${rows} | ${(cold.usable / 1000).toFixed(1)} | ${(warm.usable / 1000).toFixed(1)} | ` +
        `${warm.previews[0]} | ${median(warm.previews.slice(1))} | ${max(warm.previews.slice(1))} | ` +
        `${median(warm.clicks)} | ${max(warm.clicks)} | ${median(warm.driven)} |`,
    );
    console.error(rows, JSON.stringify({ cold, warm }));
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(cacheDir, { recursive: true, force: true });
  }
}
console.log('| rows | Run All to usable panel, empty build cache (s) | same, warm (s) | first preview (ms) | preview p50 (ms) | preview max (ms) | Score click to status p50 (ms) | max (ms) | same from Playwright\'s click() call, p50 (ms) |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const line of lines) console.log(line);
