/** Markdown for the report: tables, and one section put in place of its old text. */

/** A Markdown table of `head` and `rows`, cells as given. */
export const table = (head: readonly string[], rows: readonly (readonly string[])[]): string =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

/**
 * `report` with the section under `heading` (up to the next `## ` heading) replaced by `section`
 * (heading and body), or `section` appended when the report has no such heading.
 */
export function replaceSection(report: string, heading: string, section: string): string {
  const start = report.indexOf(`\n${heading}\n`);
  if (start < 0) return `${report.trimEnd()}\n\n${section.trim()}\n`;
  const next = report.indexOf('\n## ', start + 1);
  const rest = next < 0 ? '' : report.slice(next);
  return `${report.slice(0, start)}\n${section.trim()}\n${rest}`;
}
