/** The order of ladders in reports: family by family (as the models come), each in the model's name order. */
import { compareLadders } from '../model/build-service-model.js';
import type { Ladder, ServiceModel } from '../model/types.js';

/** All ladders of the models, sorted so output does not depend on rule order in the dump. */
export function orderedLadders(models: readonly ServiceModel[]): Ladder[] {
  return models.flatMap((m) => [...m.ladders].sort(compareLadders));
}
