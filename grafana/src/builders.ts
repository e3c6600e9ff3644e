/** Small builders for Grafana dashboard JSON (schemaVersion 39, Grafana 10.4+/11): panels, targets, variables, layout. */

export const SCHEMA_VERSION = 39;
export const DS = { type: 'prometheus', uid: '${datasource}' } as const;
export const TAGS = ['kube-balance', 'kube-proxy', 'kubernetes'];

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json | undefined };
export type JsonObject = { [key: string]: Json | undefined };

export interface Target {
  readonly expr: string;
  readonly legend?: string;
  /** Instant query in table format (tables, bar charts, bar gauges of the latest value). */
  readonly instant?: boolean;
}

export interface PanelSpec {
  readonly type: 'timeseries' | 'stat' | 'table' | 'barchart' | 'bargauge' | 'text';
  readonly title: string;
  readonly description: string;
  readonly width: number;
  readonly height: number;
  readonly targets?: readonly Target[];
  readonly unit?: string;
  readonly min?: number;
  readonly max?: number;
  readonly decimals?: number;
  /** Threshold steps: [color, from] with the first `from` null. */
  readonly thresholds?: readonly (readonly [string, number | null])[];
  /** Draw thresholds on time series as lines. */
  readonly thresholdLines?: boolean;
  readonly options?: JsonObject;
  readonly custom?: JsonObject;
  readonly overrides?: Json[];
  readonly transformations?: Json[];
  readonly links?: Json[];
  readonly content?: string;
}

export interface RowSpec {
  readonly row: string;
  readonly panels: readonly PanelSpec[];
}

function target(t: Target, i: number): JsonObject {
  const refId = String.fromCharCode(65 + i);
  return {
    datasource: DS,
    editorMode: 'code',
    expr: t.expr,
    legendFormat: t.legend ?? '__auto',
    range: t.instant !== true,
    instant: t.instant === true,
    ...(t.instant === true ? { format: 'table' } : {}),
    refId,
  };
}

const DEFAULT_OPTIONS: Record<PanelSpec['type'], JsonObject> = {
  timeseries: {
    legend: { calcs: ['lastNotNull', 'max'], displayMode: 'table', placement: 'bottom', showLegend: true },
    tooltip: { mode: 'multi', sort: 'desc' },
  },
  stat: {
    colorMode: 'value',
    graphMode: 'area',
    justifyMode: 'auto',
    orientation: 'auto',
    reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
    textMode: 'auto',
  },
  table: { cellHeight: 'sm', footer: { countRows: false, fields: '', reducer: ['sum'], show: false }, showHeader: true },
  barchart: {
    barWidth: 0.8,
    groupWidth: 0.7,
    legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
    orientation: 'horizontal',
    showValue: 'auto',
    stacking: 'none',
    tooltip: { mode: 'multi', sort: 'none' },
    xTickLabelRotation: 0,
  },
  bargauge: {
    displayMode: 'gradient',
    minVizHeight: 16,
    minVizWidth: 8,
    orientation: 'horizontal',
    reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
    showUnfilled: true,
    valueMode: 'color',
  },
  text: { mode: 'markdown' },
};

const DEFAULT_CUSTOM: Partial<Record<PanelSpec['type'], JsonObject>> = {
  timeseries: { drawStyle: 'line', fillOpacity: 10, lineWidth: 1, showPoints: 'never', spanNulls: false },
  table: { align: 'auto', cellOptions: { type: 'auto' }, inspect: false },
  barchart: { fillOpacity: 80, gradientMode: 'none', lineWidth: 1 },
};

/** Lays rows out on Grafana's 24-column grid and numbers the panels. */
export function layout(rows: readonly RowSpec[]): Json[] {
  const panels: Json[] = [];
  let id = 1;
  let y = 0;
  for (const row of rows) {
    panels.push({ collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, id: id++, panels: [], title: row.row, type: 'row' });
    y += 1;
    let x = 0;
    let lineHeight = 0;
    for (const p of row.panels) {
      if (x + p.width > 24) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      panels.push(panel(p, id++, { h: p.height, w: p.width, x, y }));
      x += p.width;
      lineHeight = Math.max(lineHeight, p.height);
    }
    y += lineHeight;
  }
  return panels;
}

function panel(p: PanelSpec, id: number, gridPos: JsonObject): JsonObject {
  const steps = (p.thresholds ?? [['green', null]]).map(([color, value]) => ({ color, value }));
  const custom = { ...DEFAULT_CUSTOM[p.type], ...p.custom, ...(p.thresholdLines === true ? { thresholdsStyle: { mode: 'line' } } : {}) };
  return {
    datasource: DS,
    description: p.description,
    fieldConfig: {
      defaults: {
        color: { mode: p.thresholds !== undefined && p.type !== 'timeseries' ? 'thresholds' : 'palette-classic' },
        ...(Object.keys(custom).length > 0 ? { custom } : {}),
        ...(p.decimals === undefined ? {} : { decimals: p.decimals }),
        ...(p.links === undefined ? {} : { links: p.links }),
        mappings: [],
        ...(p.max === undefined ? {} : { max: p.max }),
        ...(p.min === undefined ? {} : { min: p.min }),
        thresholds: { mode: 'absolute', steps },
        unit: p.unit ?? 'short',
      },
      overrides: p.overrides ?? [],
    },
    gridPos,
    id,
    options: { ...DEFAULT_OPTIONS[p.type], ...p.options, ...(p.content === undefined ? {} : { content: p.content }) },
    ...(p.targets === undefined ? {} : { targets: p.targets.map(target) }),
    title: p.title,
    ...(p.transformations === undefined ? {} : { transformations: p.transformations }),
    type: p.type,
  };
}

/** A field override drawing the series whose legend matches `legendRegex` dashed (expected values, secondary views). */
export function dashedSeries(legendRegex: string, dash: readonly [number, number] = [10, 10]): JsonObject {
  return {
    matcher: { id: 'byRegexp', options: legendRegex },
    properties: [{ id: 'custom.lineStyle', value: { dash: [...dash], fill: 'dash' } }],
  };
}

export function datasourceVariable(): JsonObject {
  return {
    current: {},
    hide: 0,
    includeAll: false,
    label: 'Data source',
    multi: false,
    name: 'datasource',
    options: [],
    query: 'prometheus',
    refresh: 1,
    regex: '',
    skipUrlSync: false,
    type: 'datasource',
  };
}

export interface QueryVariable {
  readonly name: string;
  readonly label: string;
  /** label_values(<selector>, <label>) */
  readonly query: string;
  /** "All" matches everything, including series without the label (allValue `.*`, used with =~). */
  readonly includeAll?: boolean;
  readonly description?: string;
}

export function queryVariable(v: QueryVariable): JsonObject {
  return {
    current: {},
    datasource: DS,
    definition: v.query,
    ...(v.description === undefined ? {} : { description: v.description }),
    hide: 0,
    includeAll: v.includeAll === true,
    ...(v.includeAll === true ? { allValue: '.*' } : {}),
    label: v.label,
    multi: false,
    name: v.name,
    options: [],
    query: { query: v.query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    refresh: 2,
    regex: '',
    skipUrlSync: false,
    sort: 1,
    type: 'query',
  };
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly variables: readonly JsonObject[];
  readonly rows: readonly RowSpec[];
  readonly links?: readonly Json[];
}

export function dashboard(d: DashboardSpec): JsonObject {
  return {
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    description: d.description,
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [
      ...(d.links ?? []),
      { asDropdown: false, icon: 'external link', includeVars: false, keepTime: true, tags: ['kube-balance'], targetBlank: false, title: 'kube-balance', type: 'dashboards' },
    ],
    panels: layout(d.rows),
    refresh: '1m',
    schemaVersion: SCHEMA_VERSION,
    tags: TAGS,
    templating: { list: [...d.variables] },
    time: { from: 'now-3h', to: 'now' },
    timepicker: {},
    timezone: '',
    title: d.title,
    uid: d.uid,
    version: 1,
    weekStart: '',
  };
}

/** Stable text for the committed file. */
export function renderDashboard(d: JsonObject): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}
