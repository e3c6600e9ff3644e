/**
 * kube-proxy writes KUBE-SERVICES and KUBE-NODEPORTS in the order it walks its service map (a Go map:
 * a new order at every sync, also a sync that changes no Service). This gives a ruleset text as such a
 * sync leaves it: the same rules, each of those chains' rules in a random order among that chain's
 * places, per table (the filter table has a KUBE-SERVICES of its own). Save and restore texts alike,
 * with or without `[packets:bytes]`.
 */
const ENTRY_RULE = /^(?:\[\d+:\d+\] )?-A (KUBE-SERVICES|KUBE-NODEPORTS) /;

export function shuffleEntryRules(text: string, random: () => number): { readonly text: string; readonly reordered: boolean } {
  const lines = text.split('\n');
  const places = new Map<string, number[]>();
  let table = '';
  lines.forEach((line, i) => {
    if (line.startsWith('*')) table = line;
    const chain = ENTRY_RULE.exec(line)?.[1];
    if (chain === undefined) return;
    const key = `${table} ${chain}`;
    const at = places.get(key);
    if (at === undefined) places.set(key, [i]);
    else at.push(i);
  });
  let reordered = false;
  for (const at of places.values()) {
    const rules = at.map((i) => lines[i] as string);
    for (let i = rules.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [rules[i], rules[j]] = [rules[j] as string, rules[i] as string];
    }
    at.forEach((line, k) => {
      if (lines[line] !== rules[k]) reordered = true;
      lines[line] = rules[k] as string;
    });
  }
  return { text: lines.join('\n'), reordered };
}
