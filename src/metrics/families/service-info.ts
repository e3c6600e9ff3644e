/** kube_balance_service_info: joinable ladder metadata (cluster IP, session affinity, chain). */
import { LADDER_LABELS, ROWS_PER_STEP } from '../family.js';
import { steppedFamily } from './define.js';

export const serviceInfo = steppedFamily({
  name: 'kube_balance_service_info',
  type: 'gauge',
  help:
    'Metadata of a load-balancing ladder on this node, value always 1: cluster IP, session affinity (None or ' +
    'ClientIP) and the KUBE-SVC/KUBE-SVL/KUBE-XLB chain; join on the ladder labels.',
  labels: [...LADDER_LABELS, 'cluster_ip', 'session_affinity', 'chain'],
  *collectSteps(_snapshot, emit, context) {
    // allLadders: `chain` makes the label set unique, so ladders with unknown names still get their row.
    let rows = 0;
    for (const { stats, labels } of context.allLadders) {
      const { clusterIP, sessionAffinity, chain } = stats.ladder;
      emit([...labels, clusterIP ?? '', sessionAffinity === null ? 'None' : 'ClientIP', chain], 1);
      if (++rows % ROWS_PER_STEP === 0) yield;
    }
  },
});
