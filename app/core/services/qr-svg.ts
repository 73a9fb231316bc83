import QRCode from 'qrcode';

/** A QR code of `text` as an SVG document, made in core so the renderer needs no Node for it. */
export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
