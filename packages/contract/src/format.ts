/** Formatting shared by the CLI and the UI, so both show the same numbers. */

/** Bytes in SI units (1 GB = 10^9 bytes), as download sizes are usually quoted: `4.7 GB`. */
export function formatBytes (n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let i = 0
  let v = n
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++ }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i] ?? 'B'}`
}
