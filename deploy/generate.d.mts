/** Types for deploy/generate.mjs (plain Node, so it runs without a build). */
export declare const ROOT: string;
export declare const RULES_DIR: string;
export declare const DASHBOARDS_DIR: string;
export declare const RULES_OUTPUT: string;
export declare const DASHBOARDS_OUTPUT: string;
export declare const NAMESPACE: string;
export declare const SOURCE_ANNOTATION: string;
export declare const CLIENT_SIDE_APPLY_LIMIT: number;

export interface Rendered {
  /** Repo-relative path of the rendered file. */
  readonly path: string;
  /** Repo-relative paths of the files embedded in it. */
  readonly sources: readonly string[];
  readonly warnings?: readonly string[];
  readonly text: string;
}

export declare function classifyRuleSource(file: string, text: string): { kind: 'rules' | 'promtool-test' | 'prometheus-config' };
export declare function renderRules(root?: string): Rendered;
export declare function renderDashboards(root?: string): Rendered;
export declare function renderAll(root?: string): Rendered[];
