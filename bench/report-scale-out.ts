/** Section 10 of docs/performance.md (scale-out), and its splicing into an existing report. */
import { replaceSection } from './markdown.js';
import { CHUNK_SIZE, type ScaleOutResults } from './scale-out.js';

export const SCALE_OUT_HEADING = '## 10. Scale-out';

export function renderScaleOutSection(results: ScaleOutResults | undefined, context: string): string {
  const lines = [SCALE_OUT_HEADING, ''];
  if (results === undefined) return [...lines, 'This step did not run (see the log).', ''].join('\n');
  const first = results.runs[0];
  lines.push(
    `The same ${first?.images ?? 0} images (the ${results.corpusFiles} corpus photos copied over and over into one folder) ` +
      `classified by one \`athena-rx classify\` process, then through a Redis queue (chunks of ${CHUNK_SIZE} refs) by one and by ` +
      'two `athena-rx worker --until-idle` processes with default settings, all against one server process on this ' +
      'machine. Wall time runs from the start of the processes to the exit of the last one (start-up included); ' +
      `Redis commands are the \`INFO commandstats\` delta over the workers' run. ${context}`,
    '',
    '| run | processes | wall s | images/s | vs classify | Redis commands per image | largest shares per image |',
    '|---|---|---|---|---|---|---|',
  );
  for (const run of results.runs) {
    const ratio = first ? (run.imagesPerS / first.imagesPerS).toFixed(2) : '';
    const redis = run.redisPerImage === undefined ? '' : run.redisPerImage.toFixed(1);
    const top = (run.topCommands ?? []).map((c) => `${c.name} ${c.perImage.toFixed(2)}`).join(', ');
    lines.push(
      `| ${run.label} | ${run.processes} | ${run.wallS.toFixed(1)} | ${run.imagesPerS.toFixed(1)} | ${ratio}x | ${redis} | ${top} |`,
    );
  }
  lines.push('', 'docs/scale-out.md turns these figures into a capacity model for N machines.', '');
  return lines.join('\n');
}

/** `report` with its scale-out section replaced by `section`, or `section` appended. */
export function spliceScaleOut(report: string, section: string): string {
  return replaceSection(report, SCALE_OUT_HEADING, section);
}
