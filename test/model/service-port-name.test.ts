import { describe, expect, it } from 'vitest';
import {
  endpointInComment,
  formatServicePortName,
  parseServicePortName,
  servicePortNameInComment,
} from '../../src/model/service-port-name.js';

describe('servicePortNameInComment', () => {
  it.each([
    // [comment as kube-proxy writes it, printed name or null]
    ['ns1/svc1:p80', 'ns1/svc1:p80'],
    ['ns1/svc1:p80 cluster IP', 'ns1/svc1:p80'],
    ['ns2/svc2:p80 loadbalancer IP', 'ns2/svc2:p80'],
    ['ns1/svc1 -> 10.0.1.1:80', 'ns1/svc1'],
    ['ns1/svc1:p80 -> [fd00:10:180::1]:80', 'ns1/svc1:p80'],
    ['pod traffic for ns2/svc2:p80 external destinations', 'ns2/svc2:p80'],
    ['masquerade LOCAL traffic for ns2/svc2:p80 LB IP', 'ns2/svc2:p80'],
    ['Balancing rule 0 for default/test-svc', 'default/test-svc'],
    ['default/kubernetes:', 'default/kubernetes:'],
    ['ns2/svc2:p80 has no local endpoints', 'ns2/svc2:p80'],
    ['kubernetes service nodeports; NOTE: this must be the last rule in this chain', null],
    ['Redirect pods trying to reach external loadbalancer VIP to clusterIP', null],
    ['traffic from 10.0.0.0/8 and more', null],
  ])('%s', (comment, printed) => {
    expect(servicePortNameInComment(comment)?.text ?? null).toBe(printed);
  });
});

describe('parseServicePortName', () => {
  it.each([
    ['default/kubernetes:https', { namespace: 'default', service: 'kubernetes', port: 'https' }],
    ['default/nginx-mlb-l2-service', { namespace: 'default', service: 'nginx-mlb-l2-service', port: '' }],
    ['default/kubernetes:', { namespace: 'default', service: 'kubernetes', port: '' }],
    ['default/ares-k29-bindapp:dns-tcp-53', { namespace: 'default', service: 'ares-k29-bindapp', port: 'dns-tcp-53' }],
    ['10.0.0.0/8', null],
    ['/svc:p', null],
    ['ns/:p', null],
    ['ns/svc:p x', null],
  ])('%s', (text, name) => {
    expect(parseServicePortName(text)?.name ?? null).toEqual(name);
  });
});

describe('endpointInComment', () => {
  it.each([
    ['ns1/svc1:p80 -> 10.180.0.1:80', '10.180.0.1:80'],
    ['ns1/svc1 -> [fd00::1]:80', '[fd00::1]:80'],
    ['ns1/svc1:p80', null],
    ['Balancing rule 0 for default/test-svc', null],
  ])('%s', (comment, endpoint) => {
    expect(endpointInComment(comment)).toBe(endpoint);
  });
});

describe('formatServicePortName', () => {
  it.each([
    [{ namespace: 'ns1', service: 'svc1', port: 'p80' }, 'ns1/svc1:p80'],
    [{ namespace: 'ns1', service: 'svc1', port: '' }, 'ns1/svc1'],
  ])('%j', (name, text) => {
    expect(formatServicePortName(name)).toBe(text);
  });
});
