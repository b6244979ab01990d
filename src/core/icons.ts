import { LabIcon } from '@jupyterlab/ui-components';

/** A sailing ship; `jp-icon3` lets the theme colour it. */
const shipSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M11 2.5 4.5 13H11z"/>
    <path d="M12.5 1.5v11.5H19z"/>
    <path d="M2 14.5h20l-2.4 4.6a2 2 0 0 1-1.8 1.1H6.2a2 2 0 0 1-1.8-1.1z"/>
    <path d="M2 22.2c1.7 0 2.5-.9 3.7-.9s2 .9 3.7.9 2.5-.9 3.7-.9 2 .9 3.7.9 2.5-.9 3.7-.9v1.4c-1.2 0-2 .9-3.7.9s-2.5-.9-3.7-.9-2 .9-3.7.9-2.5-.9-3.7-.9-2 .9-3.7.9z"/>
  </g>
</svg>`;

export const shipIcon = new LabIcon({ name: 'jupyter-ml-ship:ship', svgstr: shipSvg });

/** Two pages side by side with arrows between them: compare two versions. */
const compareSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M3 3h7v18H3zm1.6 1.6v14.8h3.8V4.6z"/>
    <path d="M14 3h7v18h-7zm1.6 1.6v14.8h3.8V4.6z"/>
    <path d="M11 8.2 13 10l-2 1.8zM13 12.2 11 14l2 1.8z"/>
  </g>
</svg>`;

export const compareIcon = new LabIcon({ name: 'jupyter-ml-ship:compare', svgstr: compareSvg });
