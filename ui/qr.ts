/** A QR code of a link as an SVG image (a data: URL, which the CSP's img-src allows). */

import { useEffect, useState } from 'preact/hooks';
import QRCode from 'qrcode';
import { html } from './html.js';

export function QrCode({ text, label }: { text: string; label: string }) {
  const [src, setSrc] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let isLive = true;
    QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }).then(
      (svg) => isLive && setSrc(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`),
      (err: Error) => isLive && setError(err.message),
    );
    return () => {
      isLive = false;
    };
  }, [text]);
  if (error) return html`<p class="muted">No QR code: ${error}</p>`;
  if (!src) return html`<div class="qr placeholder" aria-hidden="true"></div>`;
  return html`<img class="qr" id="qr" src=${src} alt=${label} width="220" height="220" />`;
}
