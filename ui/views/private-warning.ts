/**
 * What the private-file scan found before a share or a send (keys, credentials, wallets…): the
 * list, and a confirmation the user must tick before going on anyway.
 */
import { useState } from 'preact/hooks';
import type { ShareFinding } from '../api-types.js';
import { html } from '../html.js';

export function Findings({ findings }: { findings: readonly ShareFinding[] }) {
  return html`<ul class="findings" id="findings">
    ${findings.map(
      (f) => html`<li><code>${f.path}</code> <span class="muted">${f.reason ?? f.kind ?? ''}</span></li>`,
    )}
  </ul>`;
}

export interface PrivateWarningProps {
  readonly id: string;
  readonly findings: readonly ShareFinding[];
  /** Who would get the files ("Anyone with the link", "The receiver"). */
  readonly who: string;
  /** The action: "share", "send". */
  readonly verb: string;
  readonly busy: boolean;
  onConfirm(): void;
  onCancel(): void;
}

export function PrivateWarning(p: PrivateWarningProps) {
  const [isConfirmed, setConfirmed] = useState(false);
  const Verb = p.verb.charAt(0).toUpperCase() + p.verb.slice(1);
  return html`<div class="caution" role="alert" id=${p.id}>
    <h2>This looks private</h2>
    <p>These files look like keys, credentials or other private data. ${p.who} could get them.</p>
    <${Findings} findings=${p.findings} />
    <label class="check"><input type="checkbox" checked=${isConfirmed} onChange=${(e: Event) => setConfirmed((e.target as HTMLInputElement).checked)} /> I know what these are and want to ${p.verb} them anyway</label>
    <div class="actions">
      <button type="button" class="btn danger" disabled=${!isConfirmed || p.busy} onClick=${p.onConfirm}>${Verb} anyway</button>
      <button type="button" class="btn" onClick=${p.onCancel}>Cancel</button>
    </div>
  </div>`;
}
