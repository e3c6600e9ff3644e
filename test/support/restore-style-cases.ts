// Small nat tables in iptables-save layout and restore-style variants of it (a chain declared again,
// flushed or deleted after its rules, the table listed twice, excerpts), shared by the folding tests.
/**
 * The one known difference between a folded parse and a plain one (endpoint-chain-collector.ts): the
 * parser's "declared again" warning, given for a chain holding rules, is absent for a KUBE-SEP chain,
 * whose rules the folded dump never holds.
 */
export const SEP_DECLARED_AGAIN = /^line \d+: chain KUBE-SEP-\S+ declared again; its earlier rules are replaced$/;

export const HEAD = `*nat
:KUBE-SERVICES - [0:0]
:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]
:KUBE-SEP-ONE - [0:0]
:KUBE-SEP-TWO - [0:0]
:KUBE-SEP-OLD - [0:0]
`;
export const ENTRY = `-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "ns/svc:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA
`;
export const MASQ = `-A KUBE-SVC-AAAAAAAAAAAAAAAA ! -s 10.244.0.0/16 -d 10.96.0.10/32 -p tcp -m comment --comment "ns/svc:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
`;
export const JUMPS = `-A KUBE-SVC-AAAAAAAAAAAAAAAA -m comment --comment "ns/svc:http -> 10.0.0.1:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-ONE
-A KUBE-SVC-AAAAAAAAAAAAAAAA -m comment --comment "ns/svc:http -> 10.0.0.2:8080" -j KUBE-SEP-TWO
`;
export const OLD_JUMP = `-A KUBE-SVC-AAAAAAAAAAAAAAAA -m comment --comment "old/svc:x -> 10.0.0.7:8080" -j KUBE-SEP-OLD
`;
export const sep = (chain: string, ip: string) => `-A ${chain} -s ${ip}/32 -m comment --comment "ns/svc:http" -j KUBE-MARK-MASQ
-A ${chain} -p tcp -m comment --comment "ns/svc:http" -m tcp -j DNAT --to-destination ${ip}:8080
`;
export const SEPS = `${sep('KUBE-SEP-ONE', '10.0.0.1')}${sep('KUBE-SEP-TWO', '10.0.0.2')}${sep('KUBE-SEP-OLD', '10.0.0.7')}`;

/** One service port, two endpoints (KUBE-SEP-ONE, KUBE-SEP-TWO), each case another way of writing it. */
export const RESTORE_STYLE_CASES: Readonly<Record<string, string>> = {
  'iptables-save layout': `${HEAD}${ENTRY}${MASQ}${JUMPS}${SEPS}COMMIT\n`,
  'ladder chain declared again after its rules': `${HEAD}${ENTRY}${OLD_JUMP}:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]\n${MASQ}${JUMPS}${SEPS}COMMIT\n`,
  'ladder chain declared again after its masquerade rule and jumps': `${HEAD}${ENTRY}${MASQ}${OLD_JUMP}-N KUBE-SVC-AAAAAAAAAAAAAAAA\n${JUMPS}${SEPS}COMMIT\n`,
  'ladder chain flushed after its rules': `${HEAD}${ENTRY}${OLD_JUMP}-F KUBE-SVC-AAAAAAAAAAAAAAAA\n${JUMPS}${SEPS}COMMIT\n`,
  'ladder chain deleted, then its rules again': `${HEAD}${ENTRY}${MASQ}${OLD_JUMP}-X KUBE-SVC-AAAAAAAAAAAAAAAA\n${JUMPS}${SEPS}COMMIT\n`,
  'ladder chain deleted after its rules': `${HEAD}${ENTRY}${OLD_JUMP}-X KUBE-SVC-AAAAAAAAAAAAAAAA\n${SEPS}COMMIT\n`,
  'the nat table listed twice': `${HEAD}${ENTRY}${OLD_JUMP}${SEPS}COMMIT\n${HEAD}${ENTRY}${MASQ}${JUMPS}${SEPS}COMMIT\n`,
  'ladder rules without a declaration (excerpt)': `${ENTRY}${JUMPS}${SEPS}`,
  'ladder rules in two runs': `${HEAD}${ENTRY}${MASQ}${JUMPS.split('\n')[0]}\n-A KUBE-SERVICES -j KUBE-NODEPORTS\n${JUMPS.split('\n')[1]}\n${SEPS}COMMIT\n`,
  'rules after the unconditional jump': `${HEAD}${ENTRY}${JUMPS}${JUMPS}${SEPS}COMMIT\n`,
  'session affinity': `${HEAD}${ENTRY}-A KUBE-SVC-AAAAAAAAAAAAAAAA -m comment --comment "ns/svc:http -> 10.0.0.1:8080" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-ONE --mask 255.255.255.255 --rsource -j KUBE-SEP-ONE\n${JUMPS}${SEPS}COMMIT\n`,
  'a local-policy chain without endpoints, and a pre-1.24 KUBE-XLB jumping to KUBE-SVC': `${HEAD}:KUBE-SVL-AAAAAAAAAAAAAAAA - [0:0]\n:KUBE-XLB-AAAAAAAAAAAAAAAA - [0:0]\n${ENTRY}-A KUBE-SVL-AAAAAAAAAAAAAAAA -m comment --comment "ns/svc:http has no local endpoints" -j KUBE-MARK-DROP\n-A KUBE-XLB-AAAAAAAAAAAAAAAA -s 10.244.0.0/16 -m comment --comment "Redirect pods trying to reach external loadbalancer VIP to clusterIP" -j KUBE-SVC-AAAAAAAAAAAAAAAA\n-A KUBE-XLB-AAAAAAAAAAAAAAAA -m comment --comment "ns/svc:http -> 10.0.0.1:8080" -j KUBE-SEP-ONE\n${JUMPS}${SEPS}COMMIT\n`,
  // Only the ladder rules' comments name the service: no comment on the entry rule or the SEP chains.
  'ladder comments the only names': `${HEAD}-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA\n${JUMPS}-A KUBE-SEP-ONE -p tcp -m tcp -j DNAT --to-destination 10.0.0.1:8080\n-A KUBE-SEP-TWO -p tcp -m tcp -j DNAT --to-destination 10.0.0.2:8080\nCOMMIT\n`,
  'a KUBE-SVC chain in another table is kept whole': `*filter\n:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]\n-A KUBE-SVC-AAAAAAAAAAAAAAAA -j KUBE-SEP-ONE\nCOMMIT\n${HEAD}${ENTRY}${JUMPS}${SEPS}COMMIT\n`,
  // KUBE-SEP-ONE's first rules (10.0.0.7) stop counting: it then reads from its ladder rule's comment,
  // which the ladder fold must keep (the endpoint fold has no DNAT target for it).
  'SEP chain declared again after its rules': `${HEAD}${ENTRY}${JUMPS}${sep('KUBE-SEP-ONE', '10.0.0.7')}:KUBE-SEP-ONE - [0:0]\n${sep('KUBE-SEP-TWO', '10.0.0.2')}COMMIT\n`,
  // Declared without a table header after another table's block: into the nat table that holds its rules
  // (the parser's count-only reading of declarations, DumpParserOptions.droppedPrefix, must not take it as a new block's).
  'SEP chain declared again after COMMIT, without a table header': `${HEAD}${ENTRY}${JUMPS}${sep('KUBE-SEP-ONE', '10.0.0.7')}${sep('KUBE-SEP-TWO', '10.0.0.2')}COMMIT\n*filter\nCOMMIT\n:KUBE-SEP-ONE - [0:0]\n`,
  'SEP chain flushed after its rules': `${HEAD}${ENTRY}${JUMPS}${sep('KUBE-SEP-ONE', '10.0.0.7')}-F KUBE-SEP-ONE\n${sep('KUBE-SEP-TWO', '10.0.0.2')}COMMIT\n`,
  'SEP chain deleted after its rules': `${HEAD}${ENTRY}${JUMPS}${sep('KUBE-SEP-ONE', '10.0.0.7')}-X KUBE-SEP-ONE\n${sep('KUBE-SEP-TWO', '10.0.0.2')}COMMIT\n`,
  'SEP rules, then a nat block that does not declare the chain': `${HEAD}${ENTRY}${JUMPS}${sep('KUBE-SEP-ONE', '10.0.0.7')}COMMIT\n*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]\n:KUBE-SEP-TWO - [0:0]\n${ENTRY}${JUMPS}${sep('KUBE-SEP-TWO', '10.0.0.2')}COMMIT\n`,
};
