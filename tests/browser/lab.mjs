// A real Jupyter server and a headless Chromium page on it, for end-to-end notebook tests.
//
// Three frontends, each started from the project's venv with the flow-edge kernel installed into
// it: JupyterLab and Notebook 7, whose pages are driven through `window.jupyterapp` (exposed by
// `expose_app_in_browser`, the same command registry the menus use), and the Voilà app, which runs
// the whole notebook when its page is requested and shows the outputs without the code.

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
  throw new Error(`the server did not answer ${url} within ${deadlineMs} ms`);
}

/** How long Voilà lets one cell run: the first compiles the library (`:dep flow_edge`, minutes cold on a loaded machine). */
export const VOILA_CELL_TIMEOUT_S = 900;

/**
 * The frontends: the server's command line (after the venv's `bin/`), a URL that answers once the
 * server is up, and the page of a notebook at `path` (relative to the server's root folder).
 */
const FRONTENDS = {
  lab: {
    argv: ({ port, token, root }) => [
      'jupyter',
      'lab',
      ...jupyterServerArgs({ port, token, root }),
      '--LabApp.expose_app_in_browser=True',
      '--LabApp.news_url=',
      '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
    ],
    ready: '/api/status',
    page: (path) => `/lab/tree/${path}`,
  },
  notebook: {
    argv: ({ port, token, root }) => [
      'jupyter',
      'notebook',
      ...jupyterServerArgs({ port, token, root }),
      '--JupyterNotebookApp.expose_app_in_browser=True',
    ],
    ready: '/api/status',
    page: (path) => `/notebooks/${path}`,
  },
  // Voilà serving a folder: each notebook's page is /voila/render/<path>, and its kernel starts in
  // the notebook's folder (as scripts/demo --app runs it).
  voila: {
    argv: ({ port, token, root }) => [
      'voila',
      '--no-browser',
      `--port=${port}`,
      '--Voila.ip=127.0.0.1',
      `--Voila.token=${token}`,
      `--Voila.root_dir=${root}`,
      '--show_tracebacks=True',
      `--VoilaExecutor.timeout=${VOILA_CELL_TIMEOUT_S}`,
    ],
    ready: '/voila/tree',
    page: (path) => `/voila/render/${path}`,
  },
};

function jupyterServerArgs({ port, token, root }) {
  return [
    '--no-browser',
    `--port=${port}`,
    '--ServerApp.ip=127.0.0.1',
    `--ServerApp.token=${token}`,
    `--ServerApp.root_dir=${root}`,
    '--ServerApp.allow_root=True',
  ];
}

/**
 * Starts a `frontend` server (`lab`, `notebook` or `voila`) on a fresh root folder holding copies
 * of `notebooks`, and Chromium. `rootDir` may be given to serve an existing folder instead (e.g. a
 * generated OA tree).
 */
export async function startServer({ frontend = 'lab', notebooks = [], rootDir } = {}) {
  const kind = FRONTENDS[frontend];
  if (!kind) throw new Error(`unknown frontend ${frontend}`);
  const root = rootDir ?? mkdtempSync(join(tmpdir(), `flow-edge-${frontend}-`));
  for (const notebook of notebooks) copyFileSync(notebook, join(root, basename(notebook)));
  const port = await freePort();
  const token = `test-${process.pid}-${Date.now()}`;
  const logs = [];
  const [command, ...args] = kind.argv({ port, token, root });
  const server = spawn(join(venv, 'bin', command), args, {
    env: { ...process.env, JUPYTER_PLATFORM_DIRS: '1' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.on('data', (d) => logs.push(d.toString()));
  server.stderr.on('data', (d) => logs.push(d.toString()));
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}${kind.ready}?token=${token}`, 60_000);

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
  return new Lab({ frontend, kind, server, browser, page, base, token, root, logs, ownsRoot: !rootDir });
}

/** Starts JupyterLab (see `startServer`). */
export const startLab = (options = {}) => startServer({ ...options, frontend: 'lab' });

/** A running server and the browser page on it. */
export class Lab {
  constructor(parts) {
    Object.assign(this, parts);
  }

  /** The URL of the notebook at `path` (relative to the server root) in this frontend. */
  urlOf(path) {
    return `${this.base}${this.kind.page(path)}?token=${this.token}`;
  }

  /**
   * Opens the notebook at `path` and runs all of it: Run All Cells in JupyterLab and Notebook 7,
   * loading the page in Voilà (which executes every cell before the page is complete). Returns
   * the milliseconds taken.
   */
  async runNotebook(path, timeoutMs = 900_000) {
    const started = Date.now();
    if (this.frontend === 'voila') {
      await this.page.goto(this.urlOf(path), { waitUntil: 'load', timeout: timeoutMs });
    } else {
      await this.openNotebook(path);
      await this.runAllCells(timeoutMs);
    }
    return Date.now() - started;
  }

  /** Opens `path` (relative to the server root) and waits until its kernel is idle (not Voilà). */
  async openNotebook(path) {
    await this.page.goto(this.urlOf(path));
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

  /**
   * Closes the browser and stops the server. On SIGTERM the server shuts its kernels down (they
   * run in sessions of their own); it gets a bounded time for that before the whole group is
   * killed, so no kernel outlives the test (the next one may build in the same evcxr folder).
   */
  async stop() {
    await this.browser?.close().catch(() => {});
    const exited =
      this.server.exitCode !== null || this.server.signalCode !== null
        ? Promise.resolve()
        : new Promise((r) => this.server.once('exit', r));
    try {
      process.kill(-this.server.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    try {
      process.kill(-this.server.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    if (this.ownsRoot) rmSync(this.root, { recursive: true, force: true });
  }
}
