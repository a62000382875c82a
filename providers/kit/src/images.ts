/**
 * The one of `ratios` (`"w:h"`, as an image API names its aspect ratios) nearest a width and
 * height, by distance of the logarithms (so 2:1 is as far from 1:1 as 1:2): 1792x1024 → 16:9.
 */
export function nearestAspectRatio(width: number, height: number, ratios: readonly string[]): string {
  const want = Math.log(width / height);
  const off = (r: string) => {
    const [w, h] = r.split(':').map(Number) as [number, number];
    return Math.abs(Math.log(w / h) - want);
  };
  return ratios.reduce((best, r) => (off(r) < off(best) ? r : best));
}
