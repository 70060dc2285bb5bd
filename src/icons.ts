/**
 * Icons drawn for this extension; `jp-icon3` fills follow the light and dark themes.
 */
import { LabIcon } from '@jupyterlab/ui-components';

const pipelineSvg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16">
  <g class="jp-icon3" fill="#616161">
    <rect x="2" y="9" width="6" height="6" rx="1.5"/>
    <rect x="16" y="3" width="6" height="6" rx="1.5"/>
    <rect x="16" y="15" width="6" height="6" rx="1.5"/>
    <path d="M8 11.25h3.25V6.75H16v1.5h-3.25v7.5H16v1.5h-4.75v-4.5H8z"/>
  </g>
</svg>`;

/** Pipeline runs: a small flow (one node fanning out to two) with a "run" triangle, unlike a contents list. */
const runsSvg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16">
  <g class="jp-icon3" fill="#616161">
    <circle cx="4" cy="12" r="2.75"/>
    <circle cx="12.5" cy="4.5" r="2.75"/>
    <circle cx="12.5" cy="19.5" r="2.75"/>
    <path d="M5.2 10.4l5.6-4.7 1.1 1.3-5.6 4.7zM5.2 13.6l5.6 4.7 1.1-1.3-5.6-4.7z"/>
    <path d="M16 8.5l7 3.5-7 3.5z"/>
  </g>
</svg>`;

const exportSvg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16">
  <g class="jp-icon3" fill="#616161">
    <path d="M11 3h2v10.2l3.6-3.6 1.4 1.4-6 6-6-6 1.4-1.4 3.6 3.6z"/>
    <path d="M4 18h16v3H4z"/>
  </g>
</svg>`;

export const pipelineIcon = new LabIcon({ name: 'elyra-proc:pipeline', svgstr: pipelineSvg });
export const runsIcon = new LabIcon({ name: 'elyra-proc:runs', svgstr: runsSvg });
export const exportIcon = new LabIcon({ name: 'elyra-proc:export', svgstr: exportSvg });
