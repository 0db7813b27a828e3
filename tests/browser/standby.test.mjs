// The second notebook an analyst opens in JupyterLab is served by the kernel the first one warmed
// ahead (the standby, see the README's kernel section): the panel opens, its listboxes fill and
// a Score click scores the day on disk, in the notebook's own folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, startServer } from './lab.mjs';

const DATE = '20160708';
const target = process.env.CARGO_TARGET_DIR ?? join(repoRoot, 'target');

/** Waits until `ready()` is true, polling every 250 ms; fails with `what` after `ms`. */
async function waitUntil(ready, ms, what) {
  const until = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > until) throw new Error(`${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('JupyterLab: the next notebook is served by the kernel the first one warmed ahead', { timeout: 1_200_000 }, async () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'flow-edge-standby-oa-')));
  const standbyDir = join(root, 'standby');
  execFileSync(join(repoRoot, 'scripts', 'make-demo-tree'), [root, '5000', DATE], {
    env: { ...process.env, FLOW_EDGE_CLI: join(target, 'release', 'flow-edge') },
  });
  const dayDir = join(root, 'data', 'flow', DATE);
  // The standby builds in a build cache slot of its own, never in a folder the user named.
  const saved = { ...process.env };
  delete process.env.EVCXR_TMPDIR;
  Object.assign(process.env, {
    FLOW_EDGE_STANDBY: 'on',
    FLOW_EDGE_STANDBY_DIR: standbyDir,
    FLOW_EDGE_STANDBY_DELAY_SECS: '0',
    FLOW_EDGE_STANDBY_IDLE_SECS: '600',
    FLOW_EDGE_SPOT_CONF: join(root, 'no-spot.conf'),
  });
  const lab = await startServer({ frontend: 'lab', rootDir: root });
  const page = lab.page;
  const notebook = `ipynb/flow/${DATE}/Edge_Investigation.ipynb`;
  const socketThere = () => existsSync(standbyDir) && readdirSync(standbyDir).some((name) => name.endsWith('.sock'));
  try {
    // The first open finds no standby: its kernel serves it and starts one.
    await lab.openNotebook(notebook);
    await waitUntil(socketThere, 600_000, 'a standby ready');
    assert.ok(!lab.logs.join('').includes('the kernel started ahead'), 'the first kernel served itself');
    // The analyst closes it (its kernel shuts down) and opens the notebook again.
    await page.evaluate(() => window.jupyterapp.commands.execute('kernelmenu:shutdown'));
    await page.locator('.jp-Dialog button', { hasText: 'Shut Down' }).click({ timeout: 10_000 }).catch(() => {});
    await page.waitForFunction(() => !window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel, null, {
      timeout: 60_000,
    });
    await page.evaluate(() => window.jupyterapp.commands.execute('docmanager:save'));
    await lab.runNotebook(notebook);
    assert.match(lab.logs.join(''), /the kernel started ahead \(pid \d+\) serves this notebook/);
    assert.deepEqual(await lab.errorOutputs(), []);
    // The first cell found the day from the notebook's folder, now the served kernel's.
    await page.getByText(join(dayDir, 'flow_scores.csv')).first().waitFor({ timeout: 30_000 });

    // The panel works over the served kernel: a source IP scored from the listbox is on disk.
    const listboxes = page.locator('.jupyter-widgets.widget-select select');
    await listboxes.nth(3).waitFor({ timeout: 60_000 });
    const label = await listboxes.nth(0).locator('option').nth(1).textContent();
    const ip = label.replace(/\u00a0/g, ' ').split(' ')[0];
    await listboxes.nth(0).selectOption({ index: 1 });
    await page.locator('.jupyter-widgets.widget-html', { hasText: 'Preview:' }).first().waitFor({ timeout: 20_000 });
    await page.locator('.widget-radio-box label', { hasText: '1' }).locator('input').check();
    await page.locator('.jupyter-widgets button', { hasText: 'Score' }).click();
    await page.locator('.flow-edge-status', { hasText: 'matching connections scored' }).waitFor({ timeout: 60_000 });
    const [header, ...rows] = readFileSync(join(dayDir, 'flow_scores.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    const [src, sev] = [header.indexOf('srcIP'), header.indexOf('sev')];
    const ofSource = rows.filter((r) => r[src] === ip);
    assert.ok(ofSource.length > 0 && ofSource.every((r) => r[sev] === '1'), `${ip}: ${ofSource.map((r) => r[sev])}`);
    await lab.screenshot('standby-served-panel');
  } finally {
    await lab.stop();
    // The standby the second kernel started for a next notebook.
    for (const name of existsSync(standbyDir) ? readdirSync(standbyDir) : []) {
      if (!name.endsWith('.lock')) continue;
      const pid = Number(readFileSync(join(standbyDir, name), 'utf8'));
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    rmSync(root, { recursive: true, force: true });
  }
});
