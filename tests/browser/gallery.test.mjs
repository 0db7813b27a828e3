// Every control of the widgets library in a real JupyterLab: the user picks a host in the
// listbox, types an IP and presses Enter, picks a rating, and a Rust button reads the three
// choices back from Rust into an Output area.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { repoRoot, startLab } from './lab.mjs';

test('choices made in the browser are read back from Rust into an Output widget', { timeout: 900_000 }, async () => {
  const lab = await startLab({ notebooks: [join(repoRoot, 'notebooks', 'widgets_gallery.ipynb')] });
  const page = lab.page;
  try {
    await lab.openNotebook('widgets_gallery.ipynb');
    const ms = await lab.runAllCells();
    console.log(`run all cells: ${ms} ms`);
    assert.deepEqual(await lab.errorOutputs(), []);

    const listbox = page.locator('.jupyter-widgets.widget-select select');
    await listbox.waitFor({ timeout: 60_000 });
    const status = page.locator('.jupyter-widgets.widget-label', { hasText: /nothing chosen yet|selected|submitted|rated/ });
    await status.filter({ hasText: 'nothing chosen yet' }).waitFor({ timeout: 10_000 });
    // ipywidgets' SelectView shows spaces as no-break spaces.
    const labels = (await listbox.locator('option').allTextContents()).map((t) => t.replaceAll('\u00a0', ' '));
    assert.deepEqual(labels, ['- Select -', '10.0.0.1', '10.0.0.2', '192.168.1.7']);
    assert.equal(await page.locator('.widget-radio-box input[type=radio]').count(), 3);
    assert.equal(await page.locator('.jupyter-widgets button', { hasText: 'danger' }).isDisabled(), true);
    const readChoices = page.locator('.jupyter-widgets button', { hasText: 'Read choices' });
    assert.equal(await readChoices.getAttribute('title'), 'Reads the three choices from Rust and writes them below');
    await page.locator('.jupyter-widgets.widget-html', { hasText: 'flow-edge widget gallery' }).scrollIntoViewIfNeeded();
    await lab.screenshot('gallery-1-rendered');

    await listbox.selectOption({ label: '10.0.0.2' });
    await status.filter({ hasText: 'selected 10.0.0.2' }).waitFor({ timeout: 20_000 });

    const quickIp = page.locator('.jupyter-widgets.widget-text input[type=text]');
    await quickIp.fill('10.0.0.9');
    await quickIp.press('Enter');
    await status.filter({ hasText: 'submitted 10.0.0.9' }).waitFor({ timeout: 20_000 });

    await page.locator('.widget-radio-box label', { hasText: '3' }).click();
    await status.filter({ hasText: 'rated 3' }).waitFor({ timeout: 20_000 });
    await lab.screenshot('gallery-2-chosen');

    await readChoices.click();
    const output = page.locator('.jupyter-widgets.widget-output');
    await output.filter({ hasText: 'host=10.0.0.2 ip=10.0.0.9 rating=3' }).waitFor({ timeout: 20_000 });
    // append_html: rendered as HTML, not shown as markup.
    await output.locator('b.severity', { hasText: 'severity low' }).waitFor({ timeout: 20_000 });
    await readChoices.click();
    await page.waitForFunction(
      () => (document.querySelector('.widget-output')?.textContent.match(/host=10\.0\.0\.2/g) ?? []).length === 2,
      null,
      { timeout: 20_000 },
    );
    await lab.screenshot('gallery-3-read-back');

    // The next cell reads the same choices from Rust.
    await page.evaluate(() => {
      const notebook = window.jupyterapp.shell.currentWidget.content;
      notebook.activeCellIndex = notebook.widgets.length - 1;
      return window.jupyterapp.commands.execute('notebook:run-cell');
    });
    await page
      .locator('.jp-OutputArea-output', { hasText: 'host=Some("10.0.0.2") ip="10.0.0.9" rating=Some("3")' })
      .waitFor({ timeout: 60_000 });
    await lab.screenshot('gallery-4-next-cell');

    await page.locator('.jupyter-widgets button', { hasText: 'Clear' }).click();
    await page.waitForFunction(
      () => !document.querySelector('.widget-output')?.textContent.includes('host='),
      null,
      { timeout: 20_000 },
    );
    assert.deepEqual(await lab.errorOutputs(), []);
  } catch (error) {
    await lab.screenshot('gallery-failure').catch(() => {});
    console.log(lab.logs.join('').slice(-4000));
    throw error;
  } finally {
    await lab.stop();
  }
});
