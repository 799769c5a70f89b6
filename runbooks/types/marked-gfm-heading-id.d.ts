// The package ships its types (src/index.d.ts) only under the "import" condition; this states them for CommonJS.
declare module 'marked-gfm-heading-id' {
  import type { MarkedExtension } from 'marked';
  export function gfmHeadingId(options?: { prefix?: string; globalSlugs?: boolean }): MarkedExtension;
}
