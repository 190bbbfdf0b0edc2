/**
 * Collaborators' colours: a fixed palette of 12 colours, every pair at least 0.12 apart in OKLab (a just
 * noticeable difference is about 0.02), each dark enough to show on the white canvas, with a label text
 * colour (white or near-black) of WCAG contrast ≥ 4.5. A user prefers the slot their id hashes to; the
 * people in a room share the palette without two of them on one slot (assignColors). Hex (#rrggbb): the
 * notes editor's and code editor's carets accept nothing else.
 */
export const USER_PALETTE = [
  "#4363d8", // blue
  "#fb8c00", // orange
  "#800000", // maroon
  "#f032e6", // magenta
  "#2ca02c", // green
  "#e6194b", // red
  "#17becf", // cyan
  "#9a6324", // brown
  "#911eb4", // purple
  "#0b7a75", // teal
  "#e68fac", // pink
  "#c2b280", // sand
] as const;

function hashId(id: string): number {
  let hash = 2166136261;
  for (const char of id) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  return hash;
}

/** The colour a user has when alone (their preferred palette slot): stable across tabs and sessions. */
export function userColor(id: string): string {
  return USER_PALETTE[hashId(id) % USER_PALETTE.length]!;
}

/**
 * Colours for everyone in a room: each user (in id order, so every client computes the same answer) takes
 * their preferred slot, or the next free one; past 12 people colours repeat, still spread over the palette.
 */
export function assignColors(userIds: Iterable<string>): Map<string, string> {
  const ids = [...new Set(userIds)].sort();
  const taken = new Set<number>();
  const colors = new Map<string, string>();
  for (const id of ids) {
    const preferred = hashId(id) % USER_PALETTE.length;
    let slot = preferred;
    if (taken.size < USER_PALETTE.length) {
      while (taken.has(slot)) slot = (slot + 1) % USER_PALETTE.length;
      taken.add(slot);
    }
    colors.set(id, USER_PALETTE[slot]!);
  }
  return colors;
}

const channel = (hex: string, index: number) => parseInt(hex.slice(1 + index * 2, 3 + index * 2), 16) / 255;
const linear = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);

function luminance(hex: string): number {
  const [r, g, b] = [0, 1, 2].map((i) => linear(channel(hex, i)));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

/** WCAG contrast ratio of two #rrggbb colours. */
export function contrastRatio(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

const DARK_TEXT = "#111111";
/** The label text colour on a collaborator's colour: white when it reads (contrast ≥ 4.5), else near-black. */
export function labelTextColor(background: string): string {
  return contrastRatio(background, "#ffffff") >= 4.5 ? "#ffffff" : DARK_TEXT;
}

/** OKLab coordinates of a #rrggbb colour (Björn Ottosson's matrices). */
export function oklab(hex: string): [number, number, number] {
  const [r, g, b] = [0, 1, 2].map((i) => linear(channel(hex, i))) as [number, number, number];
  const l = Math.cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
  const m = Math.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
  const s = Math.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
  return [0.2104542553 * l + 0.793617785 * m - 0.0040720468 * s, 1.9779984951 * l - 2.428592205 * m + 0.4505937099 * s, 0.0259040371 * l + 0.7827717662 * m - 0.808675766 * s];
}

/** Perceptual distance of two colours (Euclidean in OKLab; ~0.02 is just noticeable). */
export function colorDistance(a: string, b: string): number {
  const [p, q] = [oklab(a), oklab(b)];
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
}
