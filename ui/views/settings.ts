/** Settings: speed limits, peer port, seeding goal (PUT /api/settings), the search index, the theme. */
import { useEffect, useState } from 'preact/hooks';
import { api, hasRoute, messageOf } from '../api.js';
import type { Settings } from '../api-types.js';
import { html } from '../html.js';
import { applyTheme, storedTheme, type Theme } from '../theme.js';
import { notify } from '../toast.js';

/** KiB/s in the form, bytes/s in the API; empty means unlimited. */
function kibText(bps: number | null): string {
  return bps === null ? '' : String(Math.round(bps / 1024));
}

function parseKib(text: string): number | null | 'bad' {
  const t = text.trim();
  if (t === '' || t === '0') return null;
  if (!/^\d{1,9}$/.test(t)) return 'bad';
  return Number(t) * 1024;
}

interface Form {
  down: string;
  up: string;
  port: string;
  ratio: string;
  index: string;
}

function IndexField({ form, set }: { form: Form; set: (p: Partial<Form>) => void }) {
  return html`<label class="field">
    <span>Search index URL</span>
    <input
      id="index-url"
      type="url"
      placeholder="https://index.example.org"
      value=${form.index}
      onInput=${(e: Event) => set({ index: (e.target as HTMLInputElement).value })}
    />
    <small class="hint">The daemon asks this index when you search; leave empty to turn search off.</small>
  </label>`;
}

function validate(form: Form): { body: Record<string, unknown> } | { error: string } {
  const down = parseKib(form.down);
  const up = parseKib(form.up);
  if (down === 'bad' || up === 'bad')
    return { error: 'Limits are whole KiB/s numbers, or empty for unlimited.' };
  const port = Number(form.port);
  if (!/^\d{1,5}$/.test(form.port.trim()) || port > 65535)
    return { error: 'The peer port is a number from 0 to 65535.' };
  const ratioText = form.ratio.trim();
  const ratio = ratioText === '' ? null : Number(ratioText);
  if (ratio !== null && !(Number.isFinite(ratio) && ratio >= 0))
    return { error: 'The seed ratio is a number like 2 or 1.5.' };
  return { body: { globalDownloadBps: down, globalUploadBps: up, peerPort: port, seedRatio: ratio } };
}

export function SettingsView() {
  const [settings, setSettings] = useState<Settings | null>(null);
  const [hasSearch, setHasSearch] = useState(false);
  const [form, setForm] = useState<Form>({ down: '', up: '', port: '', ratio: '', index: '' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [theme, setTheme] = useState<Theme>(storedTheme);
  const set = (p: Partial<Form>) => setForm((f) => ({ ...f, ...p }));

  useEffect(() => {
    api.get<Settings>('/api/settings').then(
      (s) => {
        setSettings(s);
        set({
          down: kibText(s.globalDownloadBps),
          up: kibText(s.globalUploadBps),
          port: String(s.peerPort),
          ratio: s.seedRatio === null ? '' : String(s.seedRatio),
        });
      },
      (err) => setError(messageOf(err)),
    );
    void hasRoute('/api/search/index').then((has) => {
      setHasSearch(has);
      if (has)
        api.get<{ url: string | null }>('/api/search/index').then(
          (r) => set({ index: r.url ?? '' }),
          () => undefined,
        );
    });
  }, []);

  const save = async (e: Event) => {
    e.preventDefault();
    const checked = validate(form);
    if ('error' in checked) return setError(checked.error);
    setBusy(true);
    setError(null);
    try {
      setSettings(await api.put<Settings>('/api/settings', checked.body));
      if (hasSearch) await api.put('/api/search/index', { url: form.index.trim() || null });
      notify('Settings saved');
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  if (!settings && !error)
    return html`<section class="panel narrow"><p class="muted">Loading settings…</p></section>`;
  return html`<section class="panel narrow" aria-labelledby="settings-title">
    <h1 id="settings-title">Settings</h1>
    <form class="stack" onSubmit=${save}>
      ${settings ? html`<p class="muted">Downloads go to <code>${settings.downloadDir}</code>.</p>` : null}
      <fieldset>
        <legend>Speed</legend>
        <div class="two">
          <label class="field"><span>Download limit (KiB/s)</span>
            <input id="limit-down" inputmode="numeric" placeholder="unlimited" value=${form.down} onInput=${(e: Event) => set({ down: (e.target as HTMLInputElement).value })} /></label>
          <label class="field"><span>Upload limit (KiB/s)</span>
            <input id="limit-up" inputmode="numeric" placeholder="unlimited" value=${form.up} onInput=${(e: Event) => set({ up: (e.target as HTMLInputElement).value })} /></label>
        </div>
      </fieldset>
      <fieldset>
        <legend>Network and seeding</legend>
        <div class="two">
          <label class="field"><span>Peer port</span>
            <input id="peer-port" inputmode="numeric" value=${form.port} onInput=${(e: Event) => set({ port: (e.target as HTMLInputElement).value })} /></label>
          <label class="field"><span>Stop seeding at ratio</span>
            <input id="seed-ratio" inputmode="decimal" placeholder="never" value=${form.ratio} onInput=${(e: Event) => set({ ratio: (e.target as HTMLInputElement).value })} /></label>
        </div>
        <small class="hint">Engine-wide limits and the port take effect when the daemon restarts.</small>
      </fieldset>
      ${hasSearch ? html`<fieldset><legend>Search</legend><${IndexField} form=${form} set=${set} /></fieldset>` : null}
      <fieldset>
        <legend>Appearance</legend>
        <div class="filters" role="radiogroup" aria-label="Theme">
          ${(['auto', 'light', 'dark'] as const).map(
            (t) => html`<label class=${`chip${theme === t ? ' on' : ''}`}>
              <input type="radio" name="theme" class="visually-hidden" checked=${theme === t} onChange=${() => {
                setTheme(t);
                applyTheme(t);
              }} />
              ${t === 'auto' ? 'Like the system' : t === 'light' ? 'Light' : 'Dark'}
            </label>`,
          )}
        </div>
      </fieldset>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      <div class="actions"><button class="btn primary" type="submit" disabled=${busy}>${busy ? 'Saving…' : 'Save'}</button></div>
    </form>
  </section>`;
}
