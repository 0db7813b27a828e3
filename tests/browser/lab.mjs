// A real JupyterLab server and a headless Chromium page on it, for end-to-end notebook tests.
//
// The server runs from the project's venv with the flow-edge kernel installed into it; the page is
// driven through `window.jupyterapp` (exposed by `--LabApp.expose_app_in_browser`), the same
// command registry the menus use.

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const artifactsDir = join(repoRoot, 'tests', 'artifacts');
const venv = process.env.FLOW_EDGE_VENV ?? join(repoRoot, '.venv');

/** A free TCP port on loopback, chosen by the OS. */
function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

async function waitForHttp(url, deadlineMs) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`JupyterLab did not answer ${url} within ${deadlineMs} ms`);
}

/**
 * Starts JupyterLab on a fresh root folder holding copies of `notebooks`, and Chromium.
 * `rootDir` may be given to serve an existing folder instead (e.g. a generated OA tree).
 */
export async function startLab({ notebooks = [], rootDir } = {}) {
  const root = rootDir ?? mkdtempSync(join(tmpdir(), 'flow-edge-lab-'));
  for (const notebook of notebooks) copyFileSync(notebook, join(root, basename(notebook)));
  const port = await freePort();
  const token = `test-${process.pid}-${Date.now()}`;
  const logs = [];
  const server = spawn(
    join(venv, 'bin', 'jupyter'),
    [
      'lab',
      '--no-browser',
      `--port=${port}`,
      '--ServerApp.ip=127.0.0.1',
      `--ServerApp.token=${token}`,
      `--ServerApp.root_dir=${root}`,
      '--ServerApp.allow_root=True',
      '--LabApp.expose_app_in_browser=True',
      '--LabApp.news_url=',
      '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
    ],
    { env: { ...process.env, JUPYTER_PLATFORM_DIRS: '1' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout.on('data', (d) => logs.push(d.toString()));
  server.stderr.on('data', (d) => logs.push(d.toString()));
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/api/status?token=${token}`, 60_000);

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  mkdirSync(artifactsDir, { recursive: true });
  return new Lab({ server, browser, page, base, token, root, logs, ownsRoot: !rootDir });
}

export class Lab {
  constructor(parts) {
    Object.assign(this, parts);
  }

  /** Opens `path` (relative to the server root) and waits until its kernel is idle. */
  async openNotebook(path) {
    await this.page.goto(`${this.base}/lab/tree/${path}?token=${this.token}`);
    await this.page.waitForFunction(
      () => {
        const app = window.jupyterapp;
        const panel = app?.shell?.currentWidget;
        return panel?.sessionContext?.session?.kernel?.status === 'idle';
      },
      null,
      { timeout: 120_000 },
    );
  }

  /** Runs every cell, as Run > Run All Cells does, and waits until all of them finished. */
  async runAllCells(timeoutMs = 600_000) {
    const started = Date.now();
    await this.page.evaluate(() => window.jupyterapp.commands.execute('notebook:run-all-cells'));
    await this.page.waitForFunction(
      () => {
        const panel = window.jupyterapp.shell.currentWidget;
        const cells = panel.content.widgets.filter((c) => c.model.type === 'code');
        const prompts = [...document.querySelectorAll('.jp-Cell .jp-InputPrompt')].map((p) => p.textContent);
        return (
          panel.sessionContext.session.kernel.status === 'idle' &&
          !prompts.some((p) => p.includes('*')) &&
          cells.every((c) => c.model.executionCount !== null || c.model.sharedModel.source.trim() === '' || c.model.sharedModel.source.trim().startsWith('//'))
        );
      },
      null,
      { timeout: timeoutMs, polling: 500 },
    );
    return Date.now() - started;
  }

  /** Text of every error output (tracebacks, stderr) in the open notebook. */
  async errorOutputs() {
    return this.page.$$eval(
      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], .jp-OutputArea-output.jp-mod-error',
      (nodes) => nodes.map((n) => n.textContent),
    );
  }

  async screenshot(name) {
    const path = join(artifactsDir, `${name}.png`);
    await this.page.screenshot({ path, fullPage: true });
    return path;
  }

  async stop() {
    await this.browser?.close().catch(() => {});
    try {
      process.kill(-this.server.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await new Promise((r) => setTimeout(r, 500));
    try {
      process.kill(-this.server.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    if (this.ownsRoot) rmSync(this.root, { recursive: true, force: true });
  }
}
