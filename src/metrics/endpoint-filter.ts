/** The --metrics.include/exclude-{namespaces,services} filters that limit per-endpoint series. */

export interface EndpointFilterOptions {
  /** Anchored regexes (built by cli/flags.ts); null or absent = no filter. */
  readonly includeNamespaces?: RegExp | null;
  readonly excludeNamespaces?: RegExp | null;
  /** Matched against `namespace/service`. */
  readonly includeServices?: RegExp | null;
  readonly excludeServices?: RegExp | null;
}

/** True when a ladder of `namespace/service` keeps its per-endpoint series. Unknown names are ''. */
export type EndpointFilter = (namespace: string, service: string) => boolean;

export function createEndpointFilter(options: EndpointFilterOptions): EndpointFilter {
  const { includeNamespaces, excludeNamespaces, includeServices, excludeServices } = options;
  if (!includeNamespaces && !excludeNamespaces && !includeServices && !excludeServices) return () => true;
  // A regex with the g or y flag keeps lastIndex between test() calls; test against a flag-free copy.
  const inNs = plain(includeNamespaces);
  const exNs = plain(excludeNamespaces);
  const inSvc = plain(includeServices);
  const exSvc = plain(excludeServices);
  return (namespace, service) => {
    if (inNs && !inNs.test(namespace)) return false;
    if (exNs?.test(namespace)) return false;
    if (!inSvc && !exSvc) return true;
    const qualified = `${namespace}/${service}`;
    if (inSvc && !inSvc.test(qualified)) return false;
    return !exSvc?.test(qualified);
  };
}

function plain(re: RegExp | null | undefined): RegExp | null {
  if (!re) return null;
  return re.global || re.sticky ? new RegExp(re.source, re.flags.replace(/[gy]/g, '')) : re;
}
