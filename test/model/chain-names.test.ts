import { describe, expect, it } from 'vitest';
import {
  endpointChainName,
  serviceChainName,
  servicePortChainSuffix,
  splitServiceChain,
} from '../../src/model/chain-names.js';

// Golden names: kube-proxy's own unit tests (kubernetes/kubernetes pkg/proxy/iptables/proxier_test.go,
// TestOverallIPTablesRulesWithMultipleServices and the ETP-Local/terminating-endpoint cases) and the
// real dumps in ../shared/real-dumps.
describe('servicePortChainSuffix', () => {
  it.each([
    // [servicePortName, protocol, suffix, where it appears]
    ['default/kubernetes:https', 'tcp', 'NPX46M4PTMTKRN6Y', 'real dumps 01 and 02, kube-proxy-notes §5'],
    ['ns1/svc1:p80', 'tcp', 'XPGD46QRK7WJZT7O', 'proxier_test.go'],
    ['ns2/svc2:p80', 'tcp', 'GNZBNJ2PO5MGZ6GT', 'proxier_test.go'],
    ['ns5/svc5:p80', 'tcp', 'NUKIZ6OKUXPJNT4C', 'proxier_test.go (KUBE-FW)'],
    ['ns1/svc1', 'tcp', 'AQI2S6QIMU7PVVRP', 'proxier_test.go (unnamed port)'],
    ['default/ares-k29-bindapp:dns-udp-53', 'udp', '357LDXEIX7XFORLA', 'real dump 01'],
    ['kube-system/kube-dns:dns', 'udp', 'TCOU7JCQXEZGVUNU', 'real dump 02'],
    ['kube-system/kube-dns:dns-tcp', 'tcp', 'ERIFXISQEP7F7OF4', 'real dump 02'],
    ['default/nginx-mlb-l2-service', 'tcp', 'W47NQ5DDJKUWFTVY', 'real dump 09 (unnamed port)'],
    ['app-routing-system/nginx:http', 'tcp', 'EEQNXCJLUUVUU2YK', 'real dump 10'],
    ['app-routing-system/nginx:https', 'tcp', 'RX2GVUFA32EFJN3A', 'real dump 10 (chain only referenced)'],
    ['default/test-svc', 'tcp', 'QKNQQNIN727HO3XU', 'kind v1.2x KUBE-XLB excerpt (ishswar/katacoda-scenarios)'],
  ])('%s + %s -> %s (%s)', (name, protocol, suffix) => {
    expect(servicePortChainSuffix(name, protocol)).toBe(suffix);
  });

  it('lower-cases the protocol as proxier.go does', () => {
    expect(servicePortChainSuffix('default/kubernetes:https', 'TCP')).toBe('NPX46M4PTMTKRN6Y');
  });

  it('distinguishes the pre-1.19 `ns/svc:` spelling of an unnamed port from `ns/svc`', () => {
    expect(servicePortChainSuffix('ns1/svc1:', 'tcp')).not.toBe(servicePortChainSuffix('ns1/svc1', 'tcp'));
  });

  it('builds full chain names', () => {
    expect(serviceChainName('KUBE-SVC-', 'default/kubernetes:https', 'tcp')).toBe('KUBE-SVC-NPX46M4PTMTKRN6Y');
    expect(serviceChainName('KUBE-EXT-', 'ns2/svc2:p80', 'tcp')).toBe('KUBE-EXT-GNZBNJ2PO5MGZ6GT');
  });
});

describe('endpointChainName', () => {
  it.each([
    ['ns1/svc1:p80', 'tcp', '10.180.0.1:80', 'KUBE-SEP-SXIVWICOYRO3J4NJ', 'proxier_test.go'],
    ['ns1/svc1:p80', 'tcp', '10.180.2.1:80', 'KUBE-SEP-ZX7GRIZKSNUQ3LAJ', 'proxier_test.go'],
    ['ns4/svc4:p80', 'tcp', '10.180.0.4:80', 'KUBE-SEP-UKSFD7AGPMPPLUHC', 'proxier_test.go'],
    ['ns1/svc1', 'tcp', '10.0.1.1:80', 'KUBE-SEP-3JOIVZTXZZRGORX4', 'proxier_test.go (unnamed port)'],
    ['kube-system/kube-dns:dns', 'udp', '10.244.0.3:53', 'KUBE-SEP-6E7XQMQ4RAYOWTTM', 'real dump 02'],
    ['default/nginx-mlb-l2-service', 'tcp', '10.42.0.25:8080', 'KUBE-SEP-H3SFLVALEZ5LECV3', 'real dump 09'],
    ['app-routing-system/nginx:http', 'tcp', '10.244.2.1:8080', 'KUBE-SEP-7PTWPOJIQ22BXKMQ', 'real dump 10'],
    ['default/test-svc', 'tcp', '10.244.1.3:80', 'KUBE-SEP-SQEBHSRBMT4ZUBXZ', 'KUBE-XLB excerpt'],
    ['default/kubernetes:https', 'tcp', '172.16.0.11:6443', 'KUBE-SEP-23Y66C2VAJ3WDEMI', 'pre-1.17 blog dump'],
  ])('%s + %s + %s -> %s (%s)', (name, protocol, endpoint, chain) => {
    expect(endpointChainName(name, protocol, endpoint)).toBe(chain);
  });
});

describe('splitServiceChain', () => {
  it.each([
    ['KUBE-SVC-NPX46M4PTMTKRN6Y', { prefix: 'KUBE-SVC-', suffix: 'NPX46M4PTMTKRN6Y' }],
    ['KUBE-SVL-W47NQ5DDJKUWFTVY', { prefix: 'KUBE-SVL-', suffix: 'W47NQ5DDJKUWFTVY' }],
    ['KUBE-EXT-RX2GVUFA32EFJN3A', { prefix: 'KUBE-EXT-', suffix: 'RX2GVUFA32EFJN3A' }],
    ['KUBE-FW-NUKIZ6OKUXPJNT4C', { prefix: 'KUBE-FW-', suffix: 'NUKIZ6OKUXPJNT4C' }],
    ['KUBE-XLB-QKNQQNIN727HO3XU', { prefix: 'KUBE-XLB-', suffix: 'QKNQQNIN727HO3XU' }],
    ['KUBE-SEP-SXIVWICOYRO3J4NJ', null],
    ['KUBE-SERVICES', null],
    ['KUBE-SVC-', null],
    ['KUBE-MARK-MASQ', null],
    ['DOCKER', null],
  ])('%s', (chain, expected) => {
    expect(splitServiceChain(chain)).toEqual(expected);
  });
});
