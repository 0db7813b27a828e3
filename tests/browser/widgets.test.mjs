// The kernel's widget bridge in a real JupyterLab: a Rust closure answers a browser click.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { repoRoot, startLab } from './lab.mjs';

test('clicking a Rust button in JupyterLab updates the HTML widget', { timeout: 900_000 }, async () => {
  const lab = await startLab({ notebooks: [join(repoRoot, 'notebooks', 'widgets_demo.ipynb')] });
  try {
    await lab.openNotebook('widgets_demo.ipynb');
    const ms = await lab.runAllCells();
    console.log(`run all cells: ${ms} ms`);
    assert.deepEqual(await lab.errorOutputs(), []);

    const button = lab.page.locator('.jupyter-widgets button', { hasText: 'Click me' });
    await button.waitFor({ timeout: 60_000 });
    const html = lab.page.locator('.jupyter-widgets.widget-html');
    await assert.doesNotReject(html.filter({ hasText: 'not clicked yet' }).waitFor({ timeout: 10_000 }));
    await lab.screenshot('widgets-before-click');

    await button.click();
    await html.filter({ hasText: 'clicked 1 times' }).waitFor({ timeout: 20_000 });
    await button.click();
    await html.filter({ hasText: 'clicked 2 times' }).waitFor({ timeout: 20_000 });
    await lab.screenshot('widgets-after-click');
  } catch (error) {
    await lab.screenshot('widgets-failure').catch(() => {});
    console.log(lab.logs.join('').slice(-4000));
    throw error;
  } finally {
    await lab.stop();
  }
});
