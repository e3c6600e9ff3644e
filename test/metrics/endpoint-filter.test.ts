import { describe, expect, it } from 'vitest';
import { createEndpointFilter, type EndpointFilterOptions } from '../../src/metrics/endpoint-filter.js';

describe('endpoint filter', () => {
  const cases: [string, EndpointFilterOptions, [string, string, boolean][]][] = [
    ['no filter keeps everything, unknown names too', {}, [['shop', 'web', true], ['', '', true]]],
    [
      'include namespaces',
      { includeNamespaces: /^(?:shop|kube-system)$/ },
      [['shop', 'web', true], ['kube-system', 'dns', true], ['dev', 'web', false], ['', '', false]],
    ],
    ['exclude namespaces', { excludeNamespaces: /^(?:kube-.*)$/ }, [['shop', 'web', true], ['kube-system', 'dns', false]]],
    [
      'include services match namespace/service',
      { includeServices: /^(?:shop\/.*)$/ },
      [['shop', 'web', true], ['dev', 'shop', false]],
    ],
    [
      'exclude wins over include',
      { includeNamespaces: /^(?:shop)$/, excludeServices: /^(?:shop\/admin)$/ },
      [['shop', 'web', true], ['shop', 'admin', false], ['dev', 'web', false]],
    ],
  ];
  it.each(cases)('%s', (_title, options, expectations) => {
    const keep = createEndpointFilter(options);
    for (const [namespace, service, expected] of expectations) expect(keep(namespace, service), `${namespace}/${service}`).toBe(expected);
  });

  it('is not thrown off by global regexes keeping lastIndex between calls', () => {
    const keep = createEndpointFilter({ includeNamespaces: /^shop$/g });
    expect([keep('shop', 'a'), keep('shop', 'b'), keep('shop', 'c')]).toEqual([true, true, true]);
  });
});
